package checker_test

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

func TestStateMachineSafetyAllowsReapplyingTheSameEntries(t *testing.T) {
	h := checker.NewHistory()
	h.Apply(1, logOf(1, 1, 2))
	h.Apply(2, logOf(1, 1))
	h.Restart(2, raftpb.HardState{Term: 2, Commit: 2}, 0)
	h.Apply(2, logOf(1, 1, 2))
	h.ApplySnapshot(3, raftpb.SnapshotMetadata{Index: 3, Term: 2})
	wantPass(t, checker.CheckStateMachineSafety(h))
}

func TestStateMachineSafetyFailsOnTwoEntriesAppliedAtOneIndex(t *testing.T) {
	h := checker.NewHistory()
	h.Apply(1, logOf(1, 1))
	h.Apply(2, logOf(1, 2))
	wantViolation(t, checker.CheckStateMachineSafety(h), checker.StateMachineSafety,
		`index 2: node 1 applied 1/2 EntryNormal "2@1" (event 2) but node 2 applied 2/2 EntryNormal "2@2" (event 4)`)
}

func TestStateMachineSafetyFailsOnASnapshotOfAnotherTerm(t *testing.T) {
	h := checker.NewHistory()
	h.Apply(1, logOf(1, 1))
	h.ApplySnapshot(2, raftpb.SnapshotMetadata{Index: 2, Term: 3})
	wantViolation(t, checker.CheckStateMachineSafety(h), checker.StateMachineSafety,
		"index 2", "node 2 applied a snapshot of 3/2")
}

func TestStateMachineSafetyFailsWhenANodeAppliesSomethingElseAfterARestart(t *testing.T) {
	h := checker.NewHistory()
	h.Apply(1, logOf(1))
	h.Restart(1, raftpb.HardState{Term: 1, Commit: 1}, 0)
	h.Apply(1, logOf(2))
	wantViolation(t, checker.CheckStateMachineSafety(h), checker.StateMachineSafety, "index 1: node 1", "node 1 applied 2/1")
}
