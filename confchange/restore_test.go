package confchange_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tickraft/raft/confchange"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// restored returns the tracker Restore builds for cs.
func restored(t *testing.T, cs raftpb.ConfState) tracker.ProgressTracker {
	t.Helper()
	cfg, prs, err := confchange.Restore(*newChanger(), cs)
	if err != nil {
		t.Fatalf("Restore(%+v): %v", cs, err)
	}
	p := tracker.MakeProgressTracker()
	p.SetConfig(cfg, prs)
	if err := p.CheckInvariants(); err != nil {
		t.Fatalf("Restore(%+v): %v", cs, err)
	}
	return p
}

func TestRestoreRoundTripsConfState(t *testing.T) {
	for _, cs := range []raftpb.ConfState{
		{Voters: []uint64{1}},
		{Voters: []uint64{1, 2, 3}, Learners: []uint64{4, 5}},
		{Voters: []uint64{1, 2, 4}, VotersOutgoing: []uint64{1, 2, 3}},
		{Voters: []uint64{4, 5}, VotersOutgoing: []uint64{1, 2, 3}, Learners: []uint64{6}, LearnersNext: []uint64{1}, AutoLeave: true},
		{Voters: []uint64{1}, VotersOutgoing: []uint64{1, 2}, LearnersNext: []uint64{2}},
	} {
		p := restored(t, cs)
		if diff := cmp.Diff(cs, p.ConfState()); diff != "" {
			t.Errorf("round trip (-cs +restored):\n%s", diff)
		}
	}
}

func TestRestoreOfEmptyConfStateIsEmptyConfig(t *testing.T) {
	p := restored(t, raftpb.ConfState{})
	if p.Len() != 0 || p.Voters.IDs() != nil {
		t.Fatalf("got %v with progress\n%v", p.Config, p.ProgressMap())
	}
}

func TestRestoreSortsAndDeduplicates(t *testing.T) {
	p := restored(t, raftpb.ConfState{Voters: []uint64{3, 1, 2, 1}, Learners: []uint64{5, 4, 5}})
	want := raftpb.ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4, 5}}
	if diff := cmp.Diff(want, p.ConfState()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestRestoreIgnoresTheChangersConfiguration(t *testing.T) {
	chg := changerFrom(t, "v7 v8 l9")
	mustApply(t, chg, enterJoint, "v1")
	cfg, _, err := confchange.Restore(*chg, raftpb.ConfState{Voters: []uint64{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.String(), "voters=(1 2)"; got != want {
		t.Fatalf("config %q, want %q", got, want)
	}
}

func TestRestoreRefusesConfStatesNoChangeProduces(t *testing.T) {
	tests := []struct {
		name string
		cs   raftpb.ConfState
		want error
	}{
		{"voter and learner", raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{2}}, confchange.ErrVoterAndLearner},
		{"outgoing voter and learner", raftpb.ConfState{Voters: []uint64{1}, VotersOutgoing: []uint64{2}, Learners: []uint64{2}}, confchange.ErrVoterAndLearner},
		{"learner-next not outgoing", raftpb.ConfState{Voters: []uint64{1}, VotersOutgoing: []uint64{1}, LearnersNext: []uint64{2}}, confchange.ErrInvalidConfig},
		{"learner-next still incoming", raftpb.ConfState{Voters: []uint64{1}, VotersOutgoing: []uint64{1}, LearnersNext: []uint64{1}}, confchange.ErrInvalidConfig},
		{"learner-next and learner", raftpb.ConfState{Voters: []uint64{1}, VotersOutgoing: []uint64{1, 2}, Learners: []uint64{2}, LearnersNext: []uint64{2}}, confchange.ErrVoterAndLearner},
		{"autoleave outside joint", raftpb.ConfState{Voters: []uint64{1}, AutoLeave: true}, confchange.ErrInvalidConfig},
		{"learners without voters", raftpb.ConfState{Learners: []uint64{1}}, confchange.ErrRemovedAllVoters},
		{"joint without incoming voters", raftpb.ConfState{VotersOutgoing: []uint64{1}}, confchange.ErrRemovedAllVoters},
		{"node zero", raftpb.ConfState{Voters: []uint64{0, 1}}, confchange.ErrInvalidNodeID},
	}
	for _, tt := range tests {
		if _, _, err := confchange.Restore(*newChanger(), tt.cs); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
	}
}
