package checker_test

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

func TestElectionSafetyAllowsOneLeaderSeenManyTimesInATerm(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(1, 1, 0, 0, logOf(1)), follower(2, 1, 1, 0, 0, nil))
	observe(t, h, leader(1, 1, 1, 1, logOf(1)), leader(2, 2, 1, 1, logOf(1, 2)))
	wantPass(t, checker.CheckElectionSafety(h))
}

func TestElectionSafetyFailsOnTwoLeadersInOneTerm(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(3, 2, 0, 0, logOf(2)), follower(1, 2, 3, 0, 0, nil))
	observe(t, h, leader(1, 2, 0, 0, logOf(2)))
	wantViolation(t, checker.CheckElectionSafety(h), checker.ElectionSafety,
		"term 2 has two leaders", "node 3 (event 1)", "node 1 (event 3)")
}

func TestElectionSafetyFailsOnTwoLeadersInOneTermAcrossARestart(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, leader(1, 4, 0, 0, logOf(4)))
	h.Restart(1, raftpb.HardState{Term: 4, Vote: 1}, 0)
	observe(t, h, leader(2, 4, 0, 0, logOf(4)))
	wantViolation(t, checker.CheckElectionSafety(h), checker.ElectionSafety, "term 4", "node 1", "node 2")
}
