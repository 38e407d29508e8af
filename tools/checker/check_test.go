package checker_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

func TestEveryCheckerPassesACorrectHistory(t *testing.T) {
	h := correctHistory(t)
	for _, c := range checker.All() {
		wantPass(t, c(h))
	}
	wantPass(t, checker.Check(h))
}

func TestCheckReportsEveryBrokenPropertyInOrder(t *testing.T) {
	h := checker.NewHistory()
	other := logOf(1)
	other[0].Data = []byte("other")
	observe(t, h, leader(1, 1, 0, 0, logOf(1)), leader(2, 1, 0, 0, other))
	err := checker.Check(h)
	var v *checker.Violation
	if !errors.As(err, &v) || v.Property != checker.ElectionSafety {
		t.Fatalf("want election safety first, got: %v", err)
	}
	if got, want := err.Error(), checker.CheckLogMatching(h).Error(); !strings.Contains(got, want) {
		t.Fatalf("joined report %q misses %q", got, want)
	}
}

func TestObserveRefusesALogWithAGap(t *testing.T) {
	h := checker.NewHistory()
	o := follower(1, 1, 2, 0, 0, []raftpb.Entry{entry(1, 1), entry(3, 1)})
	if err := h.Observe(o); err == nil {
		t.Fatal("a log jumping from 1 to 3 was accepted")
	}
	if err := h.Observe(follower(0, 1, 2, 0, 0, nil)); err == nil {
		t.Fatal("node 0 was accepted")
	}
	if h.Events() != 0 {
		t.Fatalf("refused observations were recorded: %d events", h.Events())
	}
}

func TestObserveCopiesTheLog(t *testing.T) {
	h := checker.NewHistory()
	log := logOf(1, 1)
	observe(t, h, leader(1, 1, 2, 2, log))
	log[1] = entry(2, 7) // the driver reuses its slice
	observe(t, h, leader(1, 1, 2, 2, logOf(1, 1)))
	wantPass(t, checker.CheckLeaderAppendOnly(h))
}

func TestReportsAreDeterministic(t *testing.T) {
	build := func() *checker.History {
		h := checker.NewHistory()
		for id := uint64(1); id <= 5; id++ {
			observe(t, h, leader(id, 3, 0, 0, logOf(3)))
		}
		return h
	}
	first := checker.Check(build()).Error()
	for i := 0; i < 20; i++ {
		if got := checker.Check(build()).Error(); got != first {
			t.Fatalf("run %d reported %q, first run %q", i, got, first)
		}
	}
}
