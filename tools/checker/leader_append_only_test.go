package checker_test

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

func TestLeaderAppendOnlyAllowsAppendingAndCompacting(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(1, 1, 0, 0, logOf(1)), leader(1, 1, 2, 2, logOf(1, 1, 1)))
	observe(t, h, leader(1, 1, 3, 3, logFrom(3, 1, 1)))
	wantPass(t, checker.CheckLeaderAppendOnly(h))
}

func TestLeaderAppendOnlyAllowsANewTermToReplaceEntries(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(1, 1, 0, 0, logOf(1, 1)), follower(1, 2, 2, 0, 0, logOf(1, 2)))
	observe(t, h, leader(1, 3, 0, 0, logOf(1, 2, 3)))
	wantPass(t, checker.CheckLeaderAppendOnly(h))
}

func TestLeaderAppendOnlyFailsWhenALeaderDeletesEntries(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(2, 3, 0, 0, logOf(1, 3, 3)), follower(1, 3, 2, 0, 0, logOf(1)))
	observe(t, h, leader(2, 3, 0, 0, logOf(1, 3)))
	wantViolation(t, checker.CheckLeaderAppendOnly(h), checker.LeaderAppendOnly,
		"node 2, leader of term 3, deleted index 3", "event 1", "ends at 2 at event 3")
}

func TestLeaderAppendOnlyFailsWhenALeaderOverwritesAnEntry(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(1, 2, 0, 0, logOf(1, 2, 2)))
	changed := logOf(1, 2, 2)
	changed[1].Data = []byte("other")
	observe(t, h, leader(1, 2, 0, 0, changed))
	wantViolation(t, checker.CheckLeaderAppendOnly(h), checker.LeaderAppendOnly,
		"node 1, leader of term 2, overwrote index 2", `"2@2"`, `"other"`)
}

func TestLeaderAppendOnlyFailsEvenAfterTheLeaderWasSeenAsFollower(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(1, 2, 0, 0, logOf(1, 2)), follower(1, 2, 0, 0, 0, logOf(1, 2)))
	observe(t, h, leader(1, 2, 0, 0, logOf(1, 1)))
	wantViolation(t, checker.CheckLeaderAppendOnly(h), checker.LeaderAppendOnly, "overwrote index 2")
}

func TestLeaderAppendOnlyForgetsUnpersistedEntriesAcrossARestart(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(1, 2, 0, 0, logOf(1, 2, 2)))
	h.Restart(1, raftpb.HardState{Term: 2, Vote: 1}, 0)
	observe(t, h, leader(1, 2, 0, 0, logOf(1, 2)))
	wantPass(t, checker.CheckLeaderAppendOnly(h))
}
