package core

import (
	"errors"
	"slices"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

func TestConfigValidateNamesTheWrongFieldAndNeverMutates(t *testing.T) {
	st := NewMemoryStorage()
	cases := []struct {
		c     Config
		field string
	}{
		{Config{Storage: st}, "ID"},
		{Config{ID: 1}, "Storage"},
		{Config{ID: 1, Storage: st, HeartbeatTick: -1}, "HeartbeatTick"},
		{Config{ID: 1, Storage: st, ElectionTick: 3, HeartbeatTick: 3}, "ElectionTick"},
		{Config{ID: 1, Storage: st, ElectionTick: 2, HeartbeatTick: 5}, "ElectionTick"},
		{Config{ID: 1, Storage: st, MaxInflightMsgs: -2}, "MaxInflightMsgs"},
		{Config{ID: 1, Storage: st, MaxSnapshotChunksPerSource: -1}, "MaxSnapshotChunksPerSource"},
		{Config{ID: 1, Storage: st, SnapshotChunkTimeout: -1}, "SnapshotChunkTimeout"},
		{Config{ID: 1, Storage: st, SnapshotChunkSize: MaxSnapshotChunkSize + 1}, "SnapshotChunkSize"},
		{Config{ID: 1, Storage: st, SnapshotInterval: 4}, "SnapshotInterval"},
		{Config{ID: 1, Storage: st, ReuseEntryArrays: true, AsyncStorageWrites: true}, "ReuseEntryArrays"},
	}
	for _, tc := range cases {
		before := tc.c
		err := tc.c.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Validate(%+v) = %v, want a ConfigError naming %s", tc.c, err, tc.field)
		}
		if tc.c != before {
			t.Errorf("Validate changed the config: %+v -> %+v", before, tc.c)
		}
	}
}

func TestZeroOptionalConfigFieldsAreSafeWorkingDefaults(t *testing.T) {
	c := Config{ID: 1, Storage: NewMemoryStorage()}
	before := c
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c != before {
		t.Fatal("Validate changed the config")
	}
	d := c.withDefaults()
	if d.ElectionTick <= d.HeartbeatTick || d.MaxSizePerMsg == 0 || d.MaxInflightMsgs == 0 ||
		d.MaxInflightBytes == 0 || d.MaxUncommittedEntriesSize == 0 || d.MaxCommittedSizePerReady == 0 ||
		d.Seed == 0 || d.Logger == nil {
		t.Fatalf("defaults leave a zero limit: %+v", d)
	}
}

// TestZeroMaxSizePerMsgCommitsWithoutPanicking: in other libraries a zero
// message size made the first commit panic; here zero means the default.
func TestZeroMaxSizePerMsgCommitsWithoutPanicking(t *testing.T) {
	c := electedCluster(t, 3) // built with every optional field zero
	if got := c.nodes[2].raftLog.committed; got != 4 {
		t.Fatalf("follower committed %d, want 4", got)
	}
}

func TestNodesWithDifferentSeedsDrawDifferentElectionTimeouts(t *testing.T) {
	draw := func(seed uint64) []int {
		r, err := NewRaft(&Config{ID: 1, Storage: NewMemoryStorage(), Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for i := 0; i < 8; i++ {
			r.clock.redraw(r.settings.electionTimeout)
			if got := int(r.clock.randomized); got < r.settings.electionTimeout || got >= 2*r.settings.electionTimeout {
				t.Fatalf("timeout %d outside [%d, %d)", r.clock.randomized, r.settings.electionTimeout, 2*r.settings.electionTimeout)
			}
			out = append(out, int(r.clock.randomized))
		}
		return out
	}
	a, b, a2 := draw(1), draw(2), draw(1)
	if !slices.Equal(a, a2) {
		t.Fatalf("same seed, different timeouts: %v vs %v", a, a2)
	}
	if slices.Equal(a, b) {
		t.Fatalf("seeds 1 and 2 drew the same timeouts %v", a)
	}
}

// TestRestartAfterATornReadyWrite: a crash between persisting a Ready's
// snapshot and its hard state leaves a commit index below the snapshot;
// the node restarts with the snapshot's index as committed.
func TestRestartAfterATornReadyWrite(t *testing.T) {
	st := NewMemoryStorage()
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 5, Term: 2, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}
	must(t, st.ApplySnapshot(snap))
	must(t, st.SetHardState(raftpb.HardState{Term: 1, Vote: 1, Commit: 0}))
	r, err := NewRaft(&Config{ID: 1, Storage: st})
	if err != nil {
		t.Fatalf("restart after a torn write: %v", err)
	}
	if r.raftLog.committed != 5 {
		t.Fatalf("committed %d, want the snapshot's index 5", r.raftLog.committed)
	}
}

// TestRestartWithEntriesOfALaterTermThanTheHardState: a crash after
// persisting entries of term 3 but not the hard state naming term 3 leaves
// a node whose log is ahead of its term; it restarts in term 3 with no
// vote, and can reject a stale pre-vote without panicking.
func TestRestartWithEntriesOfALaterTermThanTheHardState(t *testing.T) {
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	must(t, st.Append([]raftpb.Entry{{Term: 3, Index: 1}}))
	r, err := NewRaft(&Config{ID: 3, Storage: st})
	must(t, err)
	if r.term != 3 || r.vote != None {
		t.Fatalf("restarted at term %d vote %d, want term 3 and no vote", r.term, r.vote)
	}
	// A candidate with an empty log asks for a pre-vote: refused, no panic.
	must(t, r.Step(raftpb.Message{Type: raftpb.MsgPreVote, From: 2, To: 3, Term: 4}))
	if len(r.out.msgs) != 1 || !r.out.msgs[0].Reject {
		t.Fatalf("want one rejection, got %v", r.out.msgs)
	}
}
