package checker_test

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

func TestMonotonicityAllowsARestartToLoseWhatWasNotPersisted(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, follower(1, 2, 2, 5, 5, logOf(1, 1, 2, 2, 2)))
	h.Apply(1, logOf(1, 1, 2, 2, 2))
	h.Restart(1, raftpb.HardState{Term: 2, Commit: 3}, 2)
	observe(t, h, follower(1, 2, 0, 3, 2, logOf(1, 1, 2, 2, 2)))
	h.Apply(1, logFrom(3, 2, 2))
	h.ApplySnapshot(1, raftpb.SnapshotMetadata{Index: 9, Term: 3})
	h.Apply(1, logFrom(10, 3))
	observe(t, h, follower(1, 3, 2, 10, 10, logFrom(10, 3)))
	wantPass(t, checker.CheckMonotonicity(h))
}

func TestMonotonicityFailsWhenCommitGoesBackWithoutARestart(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, follower(1, 2, 2, 3, 0, logOf(1, 1, 2)), follower(1, 2, 2, 2, 0, logOf(1, 1, 2)))
	wantViolation(t, checker.CheckMonotonicity(h), checker.Monotonicity,
		"node 1: commit index went back from 3 (event 1) to 2 (event 2)")
}

func TestMonotonicityFailsWhenTermGoesBack(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, follower(2, 3, 0, 0, 0, nil), follower(2, 2, 0, 0, 0, nil))
	wantViolation(t, checker.CheckMonotonicity(h), checker.Monotonicity, "node 2: term went back from 3")
}

func TestMonotonicityFailsWhenARestartedNodeFallsBelowWhatItPersisted(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, follower(1, 2, 2, 3, 3, logOf(1, 1, 2)))
	h.Restart(1, raftpb.HardState{Term: 2, Commit: 3}, 3)
	observe(t, h, follower(1, 2, 0, 3, 1, logOf(1, 1, 2)))
	wantViolation(t, checker.CheckMonotonicity(h), checker.Monotonicity,
		"node 1: applied index went back from 3 (event 2) to 1 (event 3)")
}

func TestMonotonicityFailsWhenAppliedEntriesSkipAnIndex(t *testing.T) {
	h := checker.NewHistory()
	h.Apply(3, logOf(1, 1))
	h.Apply(3, logFrom(4, 1))
	wantViolation(t, checker.CheckMonotonicity(h), checker.Monotonicity,
		"node 3 applied index 4 (event 3) right after index 2 (event 2)")
}

func TestMonotonicityFailsOnASnapshotBehindTheAppliedIndex(t *testing.T) {
	h := checker.NewHistory()
	h.Apply(1, logOf(1, 1, 1))
	h.ApplySnapshot(1, raftpb.SnapshotMetadata{Index: 2, Term: 1})
	wantViolation(t, checker.CheckMonotonicity(h), checker.Monotonicity,
		"node 1 applied a snapshot at index 2 (event 4) after applying index 3")
}
