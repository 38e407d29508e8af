package confchange_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tickraft/raft/confchange"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

func TestNewMemberProbesFromPastLastIndexWithFreshWindow(t *testing.T) {
	chg := newChanger() // LastIndex 10, windows of 4 messages / 1000 bytes
	mustApply(t, chg, simple, "v1")
	mustApply(t, chg, simple, "l2")
	for id, learner := range map[uint64]bool{1: false, 2: true} {
		pr := chg.Tracker.Progress(id)
		if pr.State != tracker.StateProbe || pr.Match != 0 || pr.Next != 11 || !pr.RecentActive || pr.IsLearner != learner {
			t.Errorf("node %d: %v, want a probe at 11, active, learner=%v", id, pr, learner)
		}
		for i := uint64(1); i <= 4; i++ {
			if pr.Inflights.Full() {
				t.Fatalf("node %d: window full after %d messages, want 4", id, i-1)
			}
			pr.Inflights.Add(i, 0)
		}
		if !pr.Inflights.Full() {
			t.Errorf("node %d: window not full after 4 messages", id)
		}
	}
	if chg.Tracker.Progress(1).Inflights == chg.Tracker.Progress(2).Inflights {
		t.Error("two members share a window")
	}
}

func TestNewMemberNextIsAtLeastOne(t *testing.T) {
	chg := newChanger()
	chg.LastIndex = 0
	mustApply(t, chg, simple, "v1")
	if next := chg.Tracker.Progress(1).Next; next != 1 {
		t.Fatalf("next %d on an empty log, want 1", next)
	}
}

func TestAddingVoterPromotesLearnerKeepingProgress(t *testing.T) {
	chg := changerFrom(t, "v1 l2")
	chg.Tracker.Progress(2).MaybeUpdate(7)
	mustApply(t, chg, simple, "v2")
	if got, want := chg.Tracker.Config.String(), "voters=(1 2)"; got != want {
		t.Fatalf("config %q, want %q", got, want)
	}
	if pr := chg.Tracker.Progress(2); pr.IsLearner || pr.Match != 7 {
		t.Fatalf("promoted node: %v, want a voter with match 7", pr)
	}
}

func TestAddingLearnerDemotesVoterOutsideJoint(t *testing.T) {
	chg := changerFrom(t, "v1 v2")
	chg.Tracker.Progress(2).MaybeUpdate(7)
	mustApply(t, chg, simple, "l2")
	if got, want := chg.Tracker.Config.String(), "voters=(1) learners=(2)"; got != want {
		t.Fatalf("config %q, want %q", got, want)
	}
	if pr := chg.Tracker.Progress(2); !pr.IsLearner || pr.Match != 7 {
		t.Fatalf("demoted node: %v, want a learner with match 7", pr)
	}
}

func TestRemovingNodeDropsItAndItsProgress(t *testing.T) {
	chg := changerFrom(t, "v1 v2 l3")
	mustApply(t, chg, simple, "r2 r3 r9")
	if got, want := chg.Tracker.Config.String(), "voters=(1)"; got != want {
		t.Fatalf("config %q, want %q", got, want)
	}
	if chg.Tracker.Len() != 1 {
		t.Fatalf("progress left:\n%v", chg.Tracker.ProgressMap())
	}
}

func TestUpdateNodeChangesNothing(t *testing.T) {
	chg := changerFrom(t, "v1 l2")
	before := copyTracker(chg.Tracker)
	mustApply(t, chg, simple, "u1 u2 u3")
	if diff := cmp.Diff(before, chg.Tracker, deep); diff != "" {
		t.Fatalf("update changed the tracker (-before +after):\n%s", diff)
	}
}

func TestSimpleAllowsOneVoterAndAnyLearnersAtOnce(t *testing.T) {
	chg := changerFrom(t, "v1 v2 v3")
	mustApply(t, chg, simple, "v4 l5 l6 r6")
	if got, want := chg.Tracker.Config.String(), "voters=(1 2 3 4) learners=(5)"; got != want {
		t.Fatalf("config %q, want %q", got, want)
	}
	// Removing and re-adding the same voter changes no voter at all.
	mustApply(t, chg, simple, "r4 v4 v7 r7")
}

func TestJointEntersWithCurrentVotersAsOutgoingHalf(t *testing.T) {
	chg := changerFrom(t, "v1 v2 v3")
	mustApply(t, chg, enterJointAutoLeave, "v4 v5 r1 l6")
	want := "voters=(2 3 4 5)&&(1 2 3) learners=(6) autoleave"
	if got := chg.Tracker.Config.String(); got != want {
		t.Fatalf("config %q, want %q", got, want)
	}
	if chg.Tracker.Progress(1) == nil {
		t.Fatal("removed node lost its progress while still an outgoing voter")
	}
	mustApply(t, chg, leaveJoint, "")
	if got, want := chg.Tracker.Config.String(), "voters=(2 3 4 5) learners=(6)"; got != want {
		t.Fatalf("after leaving: config %q, want %q", got, want)
	}
	if chg.Tracker.Progress(1) != nil {
		t.Fatal("removed node kept its progress after leaving the joint config")
	}
}

func TestJointDemotionWaitsInLearnersNext(t *testing.T) {
	chg := changerFrom(t, "v1 v2 v3")
	mustApply(t, chg, enterJoint, "l3 v4")
	if got, want := chg.Tracker.Config.String(), "voters=(1 2 4)&&(1 2 3) learners_next=(3)"; got != want {
		t.Fatalf("config %q, want %q", got, want)
	}
	if chg.Tracker.Progress(3).IsLearner {
		t.Fatal("node 3 still votes in the outgoing half, but is flagged a learner")
	}
	mustApply(t, chg, leaveJoint, "")
	if got, want := chg.Tracker.Config.String(), "voters=(1 2 4) learners=(3)"; got != want {
		t.Fatalf("after leaving: config %q, want %q", got, want)
	}
	if !chg.Tracker.Progress(3).IsLearner {
		t.Fatal("node 3 is not flagged a learner after leaving")
	}
}

func TestJointReAddingLearnerNextMakesItVoterAgain(t *testing.T) {
	chg := changerFrom(t, "v1 v2 v3")
	mustApply(t, chg, enterJoint, "l3 v4 v3")
	if got, want := chg.Tracker.Config.String(), "voters=(1 2 3 4)&&(1 2 3)"; got != want {
		t.Fatalf("config %q, want %q", got, want)
	}
}

func TestJointRemovingLearnerNextDropsItOnLeave(t *testing.T) {
	chg := changerFrom(t, "v1 v2 v3")
	mustApply(t, chg, enterJoint, "l3 r3")
	if got, want := chg.Tracker.Config.String(), "voters=(1 2)&&(1 2 3)"; got != want {
		t.Fatalf("config %q, want %q", got, want)
	}
	mustApply(t, chg, leaveJoint, "")
	if chg.Tracker.Progress(3) != nil || len(chg.Tracker.Learners) > 0 {
		t.Fatalf("removed node 3 is still around: %v", chg.Tracker.Config)
	}
}

func TestJointAddingLearnerThatIsAlsoNewStraightToLearners(t *testing.T) {
	chg := changerFrom(t, "v1")
	mustApply(t, chg, enterJoint, "v2 l3")
	if got, want := chg.Tracker.Config.String(), "voters=(1 2)&&(1) learners=(3)"; got != want {
		t.Fatalf("config %q, want %q", got, want)
	}
}

func TestEveryRefusalWrapsItsReasonAndLeavesInputUntouched(t *testing.T) {
	joint := func() *confchange.Changer {
		chg := changerFrom(t, "v1 v2")
		mustApply(t, chg, enterJoint, "v3")
		return chg
	}
	tests := []struct {
		name string
		chg  *confchange.Changer
		op   op
		ccs  string
		want error
	}{
		{"simple removes all voters", changerFrom(t, "v1 l2"), simple, "r1", confchange.ErrRemovedAllVoters},
		{"simple demotes last voter", changerFrom(t, "v1"), simple, "l1", confchange.ErrRemovedAllVoters},
		{"simple on empty config", newChanger(), simple, "l1", confchange.ErrRemovedAllVoters},
		{"joint removes all voters", changerFrom(t, "v1 v2"), enterJoint, "r1 r2 v3 r3", confchange.ErrRemovedAllVoters},
		{"simple adds two voters", changerFrom(t, "v1"), simple, "v2 v3", confchange.ErrTooManyVoters},
		{"simple swaps a voter", changerFrom(t, "v1 v2"), simple, "r2 v3", confchange.ErrTooManyVoters},
		{"simple demotes and adds", changerFrom(t, "v1 v2"), simple, "l2 v3", confchange.ErrTooManyVoters},
		{"simple while joint", joint(), simple, "l4", confchange.ErrAlreadyJoint},
		{"enter joint while joint", joint(), enterJoint, "v4", confchange.ErrAlreadyJoint},
		{"enter joint without voters", newChanger(), enterJoint, "v1", confchange.ErrZeroVoterJoint},
		{"leave joint when not joint", changerFrom(t, "v1"), leaveJoint, "", confchange.ErrNotJoint},
		{"node zero", changerFrom(t, "v1"), simple, "l0", confchange.ErrInvalidNodeID},
	}
	for _, tt := range tests {
		before := copyTracker(tt.chg.Tracker)
		cfg, prs, err := run(t, tt.chg, tt.op, tt.ccs)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
		if cfg.Voters.IDs() != nil || prs != nil {
			t.Errorf("%s: refusal returned a configuration %v", tt.name, cfg)
		}
		if diff := cmp.Diff(before, tt.chg.Tracker, deep); diff != "" {
			t.Errorf("%s: refusal changed the input (-before +after):\n%s", tt.name, diff)
		}
	}
}

func TestUnknownChangeTypeIsRefused(t *testing.T) {
	chg := changerFrom(t, "v1")
	_, _, err := chg.Simple(raftpb.ConfChangeSingle{Type: 42, NodeID: 2})
	if !errors.Is(err, confchange.ErrUnknownChangeType) {
		t.Fatalf("error %v, want ErrUnknownChangeType", err)
	}
}

func TestBrokenInputIsRefused(t *testing.T) {
	chg := changerFrom(t, "v1 v2")
	prs := chg.Tracker.ProgressMap()
	delete(prs, 2)
	chg.Tracker.SetConfig(*chg.Tracker.Config, prs)
	for _, o := range []op{simple, enterJoint, leaveJoint} {
		if _, _, err := run(t, chg, o, "v3"); !errors.Is(err, confchange.ErrInvalidConfig) {
			t.Errorf("op %d on a tracker missing a progress: error %v, want ErrInvalidConfig", o, err)
		}
	}
}

func TestSuccessfulChangeSharesNoMemoryWithInput(t *testing.T) {
	chg := changerFrom(t, "v1 v2 v3 l4")
	chg.Tracker.Progress(1).BecomeReplicate()
	chg.Tracker.Progress(1).SentEntries(1, 100)
	before := copyTracker(chg.Tracker)
	for _, o := range []op{simple, enterJoint} {
		cfg, prs, err := run(t, chg, o, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, chg.Tracker, deep); diff != "" {
			t.Fatalf("op %d changed the input (-before +after):\n%s", o, diff)
		}
		for id, pr := range prs {
			if pr == chg.Tracker.Progress(id) || pr.Inflights == chg.Tracker.Progress(id).Inflights {
				t.Fatalf("op %d: result shares the progress of %d with the input", o, id)
			}
		}
		prs[1].Inflights.FreeLE(100)
		cfg.Voters[0][0] = 99
		if diff := cmp.Diff(before, chg.Tracker, deep); diff != "" {
			t.Fatalf("writing to the result of op %d changed the input (-before +after):\n%s", o, diff)
		}
	}
}

// TestAChangerOfTheZeroTrackerIsRefused checks that a Changer whose
// Tracker holds no configuration (the zero ProgressTracker) fails with
// ErrInvalidConfig instead of dereferencing the missing configuration.
func TestAChangerOfTheZeroTrackerIsRefused(t *testing.T) {
	c := confchange.Changer{MaxInflight: 1}
	_, _, err := c.Simple(raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddNode, NodeID: 1})
	if !errors.Is(err, confchange.ErrInvalidConfig) {
		t.Fatalf("Simple on the zero tracker: %v, want ErrInvalidConfig", err)
	}
}
