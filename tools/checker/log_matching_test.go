package checker_test

import (
	"testing"

	"github.com/tickraft/raft/tools/checker"
)

func TestLogMatchingAllowsLogsThatDivergeAfterACommonPrefix(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, follower(1, 3, 0, 1, 1, logOf(1, 1, 2, 2)), follower(2, 3, 0, 1, 1, logOf(1, 1, 3)))
	observe(t, h, follower(3, 3, 0, 1, 1, logFrom(3, 2, 2, 2)))
	wantPass(t, checker.CheckLogMatching(h))
}

func TestLogMatchingFailsWhenLogsShareAnEntryButNotThePrefix(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, follower(1, 2, 0, 0, 0, logOf(1, 1, 2)), follower(2, 2, 0, 0, 0, logOf(1, 2, 2)))
	wantViolation(t, checker.CheckLogMatching(h), checker.LogMatching,
		"nodes 1 (event 1) and 2 (event 2) both hold 2/3", "disagree at index 2: term 1 vs term 2")
}

func TestLogMatchingFailsOnOneEntryIDWithTwoContents(t *testing.T) {
	h := checker.NewHistory()
	other := logOf(1, 1)
	other[1].Data = []byte("other")
	observe(t, h, follower(1, 1, 0, 0, 0, logOf(1, 1)))
	observe(t, h, follower(2, 1, 0, 0, 0, other))
	wantViolation(t, checker.CheckLogMatching(h), checker.LogMatching,
		"node 1 (event 1)", "node 2 (event 2)", "different content")
}

func TestLogMatchingFailsAcrossTimeOnOneNode(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, follower(1, 2, 0, 0, 0, logOf(1, 2)))
	observe(t, h, follower(1, 3, 0, 0, 0, logOf(3, 2)))
	wantViolation(t, checker.CheckLogMatching(h), checker.LogMatching, "both hold 2/2", "index 1: term 1 vs term 3")
}

func TestLogMatchingFailsWhenTheFirstHolderLackedThePrefix(t *testing.T) {
	h := checker.NewHistory()
	observe(t, h, follower(1, 2, 0, 0, 0, logFrom(3, 2)))
	observe(t, h, follower(2, 2, 0, 0, 0, logOf(1, 1, 2)), follower(3, 2, 0, 0, 0, logOf(1, 2, 2)))
	wantViolation(t, checker.CheckLogMatching(h), checker.LogMatching,
		"nodes 2 (event 2) and 3 (event 3) both hold 2/3")
}
