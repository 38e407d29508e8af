package checker_test

import (
	"testing"

	"github.com/tickraft/raft/tools/checker"
)

func TestLivenessAllowsShortWindowsAndTimelyProgress(t *testing.T) {
	windows := []checker.CalmWindow{
		{From: 10, To: 15}, // too short to judge
		{From: 20, To: 60, Elected: true, ElectedAt: 20, Committed: true, CommittedAt: 50},
	}
	wantPass(t, checker.CheckLiveness(windows, 30))
}

func TestLivenessFailsWithoutALeader(t *testing.T) {
	windows := []checker.CalmWindow{{From: 100, To: 200, Elected: true, ElectedAt: 150}}
	wantViolation(t, checker.CheckLiveness(windows, 40), checker.Liveness,
		"calm from tick 100 to 200: no leader by tick 140 (budget 40 ticks), elected only at tick 150")
}

func TestLivenessFailsWithoutANewCommit(t *testing.T) {
	windows := []checker.CalmWindow{{From: 0, To: 40, Elected: true, ElectedAt: 5}}
	wantViolation(t, checker.CheckLiveness(windows, 40), checker.Liveness,
		"no new write committed by tick 40 (budget 40 ticks; leader at tick 5)")
}
