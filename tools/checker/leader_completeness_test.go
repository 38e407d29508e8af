package checker_test

import (
	"testing"

	"github.com/tickraft/raft/tools/checker"
)

func TestLeaderCompletenessAllowsLosingUncommittedEntries(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(1, 1, 1, 1, logOf(1, 1)), follower(2, 1, 1, 1, 1, logOf(1)))
	observe(t, h, leader(2, 2, 1, 1, logOf(1, 2)))
	wantPass(t, checker.CheckLeaderCompleteness(h))
}

func TestLeaderCompletenessAllowsACompactedCommittedEntry(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, follower(1, 1, 2, 2, 2, logOf(1, 1)))
	observe(t, h, leader(2, 2, 3, 3, logFrom(3, 2)))
	wantPass(t, checker.CheckLeaderCompleteness(h))
}

func TestLeaderCompletenessFailsWhenALaterLeaderLacksACommittedEntry(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(1, 1, 2, 2, logOf(1, 1)))
	observe(t, h, leader(2, 2, 1, 1, logOf(1, 2)))
	wantViolation(t, checker.CheckLeaderCompleteness(h), checker.LeaderCompleteness,
		"1/2, committed by term 1 (node 1 saw it committed at event 1)",
		"missing from node 2, leader of term 2 at event 2", "holds 2/2 there")
}

func TestLeaderCompletenessFailsOnALeaderSeenBeforeTheCommitWasObserved(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(3, 5, 0, 0, logOf(1)))
	observe(t, h, follower(1, 4, 2, 2, 2, logOf(1, 4)))
	wantViolation(t, checker.CheckLeaderCompleteness(h), checker.LeaderCompleteness,
		"4/2, committed by term 4", "node 3, leader of term 5 at event 1", "its log ends at 1")
}
