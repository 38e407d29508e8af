package checker_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

// entry returns the entry at index with term, carrying "index@term".
func entry(index, term uint64) raftpb.Entry {
	return raftpb.Entry{Index: index, Term: term, Data: []byte(fmt.Sprintf("%d@%d", index, term))}
}

// logOf returns a log from index 1 whose i-th entry has terms[i-1].
func logOf(terms ...uint64) []raftpb.Entry { return logFrom(1, terms...) }

// logFrom returns a log starting at first whose entries have terms.
func logFrom(first uint64, terms ...uint64) []raftpb.Entry {
	out := make([]raftpb.Entry, len(terms))
	for i, t := range terms {
		out[i] = entry(first+uint64(i), t)
	}
	return out
}

// leader is node id seen as leader of term with the given commit index,
// applied index and log.
func leader(id, term, commit, applied uint64, log []raftpb.Entry) checker.Observation {
	o := follower(id, term, id, commit, applied, log)
	o.Soft.RaftState = core.StateLeader
	return o
}

// follower is node id seen as follower of lead in term.
func follower(id, term, lead, commit, applied uint64, log []raftpb.Entry) checker.Observation {
	return checker.Observation{
		ID:      id,
		Soft:    core.SoftState{Lead: lead, RaftState: core.StateFollower},
		Hard:    raftpb.HardState{Term: term, Vote: lead, Commit: commit},
		Applied: applied,
		Log:     log,
	}
}

// observe records every observation, failing the test on a refusal.
func observe(t *testing.T, h *checker.History, obs ...checker.Observation) {
	t.Helper()
	for _, o := range obs {
		if err := h.Observe(o); err != nil {
			t.Fatal(err)
		}
	}
}

// correctHistory is a run in which nothing goes wrong, though a lot
// happens: an election, replication, a commit, an acknowledged proposal, a
// leader that restarts with an uncommitted entry, a new leader whose empty
// entry overwrites it on a follower, and compaction.
func correctHistory(t *testing.T) *checker.History {
	h := checker.NewHistory()
	observe(t, h, follower(1, 0, 0, 0, 0, nil), follower(2, 0, 0, 0, 0, nil), follower(3, 0, 0, 0, 0, nil))
	observe(t, h, leader(1, 1, 0, 0, logOf(1)), leader(1, 1, 0, 0, logOf(1, 1, 1)))
	observe(t, h, follower(2, 1, 1, 0, 0, logOf(1, 1, 1)), follower(3, 1, 1, 0, 0, logOf(1, 1)))
	observe(t, h, leader(1, 1, 3, 3, logOf(1, 1, 1)))
	h.Apply(1, logOf(1, 1, 1))
	h.Acknowledge(entry(2, 1))
	observe(t, h, follower(2, 1, 1, 3, 3, logOf(1, 1, 1)), follower(3, 1, 1, 2, 2, logOf(1, 1)))
	h.Apply(2, logOf(1, 1, 1))
	h.Apply(3, logOf(1, 1))
	observe(t, h, leader(1, 1, 3, 3, logOf(1, 1, 1, 1)))
	h.Restart(1, raftpb.HardState{Term: 1, Vote: 1, Commit: 3}, 3)
	observe(t, h, follower(1, 1, 0, 3, 3, logOf(1, 1, 1, 1)))
	observe(t, h, leader(2, 2, 3, 3, logOf(1, 1, 1, 2)))
	observe(t, h, follower(1, 2, 2, 3, 3, logOf(1, 1, 1, 2)), follower(3, 2, 2, 2, 2, logOf(1, 1, 1, 2)))
	observe(t, h, leader(2, 2, 4, 4, logOf(1, 1, 1, 2)))
	h.Apply(2, logFrom(4, 2))
	h.Acknowledge(entry(3, 1))
	observe(t, h, follower(1, 2, 2, 4, 4, logOf(1, 1, 1, 2)), follower(3, 2, 2, 4, 4, logOf(1, 1, 1, 2)))
	h.Apply(1, logFrom(4, 2))
	h.Apply(3, logFrom(3, 1, 2))
	observe(t, h, leader(2, 2, 4, 4, logFrom(3, 1, 2)))
	return h
}

// wantPass fails the test if err is not nil.
func wantPass(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("want no violation, got: %v", err)
	}
}

// wantViolation fails the test unless err is a *checker.Violation of
// property p whose text contains every one of want.
func wantViolation(t *testing.T, err error, p checker.Property, want ...string) {
	t.Helper()
	var v *checker.Violation
	if !errors.As(err, &v) {
		t.Fatalf("want a %s violation, got: %v", p, err)
	}
	if v.Property != p {
		t.Fatalf("want a %s violation, got: %v", p, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("violation %q does not say %q", err, w)
		}
	}
}
