package checker_test

import (
	"testing"

	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/tools/checker"
	"github.com/tickraft/raft/tracker"
)

var testLimits = checker.Limits{
	MaxInflightMsgs: 4, MaxInflightBytes: 100, MaxUncommittedEntriesSize: 200, MaxUncommittedEntries: 10,
	MaxCommittedSizePerReady: 300, MaxPendingReads: 5, LargestEntry: 50,
}

// leaderStatus is leader 1 with a window to follower 2 holding msgs
// messages of bytes each.
func leaderStatus(msgs int, bytes uint64) core.Status {
	in := tracker.NewInflights(msgs, 0)
	for i := 0; i < msgs; i++ {
		in.Add(uint64(i+1), bytes)
	}
	s := core.Status{Progress: map[uint64]tracker.Progress{
		1: {Inflights: tracker.NewInflights(1, 0)},
		2: {Inflights: in},
	}}
	s.ID, s.RaftState = 1, core.StateLeader
	return s
}

func TestBoundsAllowUseUpToTheLimitsAndOneEntryMore(t *testing.T) {
	s := leaderStatus(4, 37) // 148 bytes: 100 + one entry of up to 50
	s.UncommittedBytes, s.UncommittedEntries = 200, 10
	s.ApplyingBytes, s.PendingReads, s.LocalReads = 350, 5, 5
	wantPass(t, checker.CheckBounds(s, testLimits))
	f := core.Status{}
	f.ID, f.RaftState = 2, core.StateFollower
	f.UncommittedBytes = 1 << 40 // only a leader's tail counts
	wantPass(t, checker.CheckBounds(f, testLimits))
}

func TestBoundsFailOnEachQueuePastItsLimit(t *testing.T) {
	cases := []struct {
		name string
		set  func(*core.Status)
		want string
	}{
		{"pending reads", func(s *core.Status) { s.PendingReads = 6 }, "node 1: 6 reads pending, bound 5"},
		{"local reads", func(s *core.Status) { s.LocalReads = 6 }, "6 local reads waiting"},
		{"applying", func(s *core.Status) { s.ApplyingBytes = 351 }, "351 bytes handed out to apply"},
		{"uncommitted bytes", func(s *core.Status) { s.UncommittedBytes = 201 }, "leader 1: 201 uncommitted bytes"},
		{"uncommitted entries", func(s *core.Status) { s.UncommittedEntries = 11 }, "11 uncommitted entries"},
		{"inflight msgs", func(s *core.Status) { *s = leaderStatus(5, 1) }, "5 appends in flight to 2, bound 4"},
		{"inflight bytes", func(s *core.Status) { *s = leaderStatus(3, 51) }, "153 bytes in flight to 2"},
	}
	for _, c := range cases {
		s := leaderStatus(1, 1)
		c.set(&s)
		err := checker.CheckBounds(s, testLimits)
		if err == nil {
			t.Errorf("%s: no violation", c.name)
			continue
		}
		wantViolation(t, err, checker.MemoryBounds, c.want)
	}
}

func TestBoundsUseTheDefaultsForZeroLimits(t *testing.T) {
	s := leaderStatus(1, 1)
	s.PendingReads = core.DefaultMaxPendingReads
	wantPass(t, checker.CheckBounds(s, checker.Limits{}))
	s.PendingReads++
	wantViolation(t, checker.CheckBounds(s, checker.Limits{}), checker.MemoryBounds, "reads pending")
}
