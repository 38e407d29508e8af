package tracker_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tickraft/raft/tracker"
)

// acks is an AckedIndexer over a plain map; voters absent from it are
// unknown.
type acks map[uint64]uint64

func (a acks) AckedIndex(id uint64) (uint64, bool) {
	idx, ok := a[id]
	return idx, ok
}

func TestMakeMajorityConfigSortsAndDropsDuplicates(t *testing.T) {
	in := []uint64{3, 1, 2, 3, 1}
	got := tracker.MakeMajorityConfig(in...)
	if diff := cmp.Diff(tracker.MajorityConfig{1, 2, 3}, got); diff != "" {
		t.Fatalf("MakeMajorityConfig (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{3, 1, 2, 3, 1}, in); diff != "" {
		t.Fatalf("MakeMajorityConfig modified its argument (-want +got):\n%s", diff)
	}
	if got := tracker.MakeMajorityConfig(); got != nil {
		t.Fatalf("MakeMajorityConfig() = %v, want nil", got)
	}
}

func TestMajorityConfigContainsExactlyItsVoters(t *testing.T) {
	c := tracker.MakeMajorityConfig(2, 4, 6)
	for id := uint64(0); id <= 7; id++ {
		want := id == 2 || id == 4 || id == 6
		if got := c.Contains(id); got != want {
			t.Errorf("(2 4 6).Contains(%d) = %v, want %v", id, got, want)
		}
	}
}

func TestConfigsPrintAsParenthesizedIDs(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{tracker.MajorityConfig(nil).String(), "()"},
		{tracker.MakeMajorityConfig(3, 1, 2).String(), "(1 2 3)"},
		{tracker.JointConfig{{1, 2, 3}}.String(), "(1 2 3)"},
		{tracker.JointConfig{{1, 2, 3}, {1, 2}}.String(), "(1 2 3)&&(1 2)"},
		{tracker.JointConfig{nil, {1}}.String(), "()&&(1)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestMajorityCommittedIndexIsHighestIndexAMajorityAcked(t *testing.T) {
	tests := []struct {
		voters []uint64
		acks   acks
		want   uint64
	}{
		{[]uint64{1}, acks{1: 7}, 7},
		{[]uint64{1, 2}, acks{1: 7, 2: 5}, 5},
		{[]uint64{1, 2, 3}, acks{1: 7, 2: 5, 3: 9}, 7},
		{[]uint64{1, 2, 3, 4}, acks{1: 7, 2: 5, 3: 9, 4: 6}, 6},
		{[]uint64{1, 2, 3, 4, 5}, acks{1: 1, 2: 2, 3: 3, 4: 4, 5: 5}, 3},
		{[]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}, acks{1: 9, 2: 8, 3: 7, 4: 6, 5: 5, 6: 4, 7: 3, 8: 2, 9: 1}, 5},
		// Acks of non-voters do not count.
		{[]uint64{1, 2, 3}, acks{1: 7, 4: 9, 5: 9}, 0},
	}
	for _, tt := range tests {
		c := tracker.MakeMajorityConfig(tt.voters...)
		if got := c.CommittedIndex(tt.acks); got != tt.want {
			t.Errorf("%v.CommittedIndex(%v) = %d, want %d", c, tt.acks, got, tt.want)
		}
	}
}

func TestMajorityCommittedIndexCountsUnknownVoterAsZero(t *testing.T) {
	c := tracker.MakeMajorityConfig(1, 2, 3)
	if got := c.CommittedIndex(acks{1: 10, 2: 10}); got != 10 {
		t.Errorf("two of three acked 10: got %d, want 10", got)
	}
	if got := c.CommittedIndex(acks{1: 10}); got != 0 {
		t.Errorf("one of three acked 10: got %d, want 0", got)
	}
}

func TestEmptyMajorityConfigHasCommittedEverything(t *testing.T) {
	if got := tracker.MajorityConfig(nil).CommittedIndex(acks{1: 5}); got != math.MaxUint64 {
		t.Fatalf("() committed %d, want math.MaxUint64", got)
	}
}

func TestJointCommittedIndexIsMinimumOfHalves(t *testing.T) {
	a := acks{1: 10, 2: 9, 3: 3, 4: 2, 5: 1}
	tests := []struct {
		cfg  tracker.JointConfig
		want uint64
	}{
		{tracker.JointConfig{{1, 2, 3}}, 9},
		{tracker.JointConfig{{1, 2, 3}, {3, 4, 5}}, 2},
		{tracker.JointConfig{{3, 4, 5}, {1, 2, 3}}, 2},
		{tracker.JointConfig{{1, 2}, {1}}, 9},
		{tracker.JointConfig{nil, {1, 2, 3}}, 9},
		{tracker.JointConfig{}, math.MaxUint64},
	}
	for _, tt := range tests {
		if got := tt.cfg.CommittedIndex(a); got != tt.want {
			t.Errorf("%v.CommittedIndex = %d, want %d", tt.cfg, got, tt.want)
		}
	}
}

func TestMajorityVoteResultNeedsAQuorumOfGrants(t *testing.T) {
	y, n := true, false
	tests := []struct {
		voters []uint64
		votes  map[uint64]bool
		want   tracker.VoteResult
	}{
		{nil, nil, tracker.VoteWon},
		{[]uint64{1}, nil, tracker.VotePending},
		{[]uint64{1}, map[uint64]bool{1: y}, tracker.VoteWon},
		{[]uint64{1}, map[uint64]bool{1: n}, tracker.VoteLost},
		{[]uint64{1, 2}, map[uint64]bool{1: y}, tracker.VotePending},
		{[]uint64{1, 2}, map[uint64]bool{1: y, 2: n}, tracker.VoteLost},
		{[]uint64{1, 2, 3}, map[uint64]bool{1: y, 2: y}, tracker.VoteWon},
		{[]uint64{1, 2, 3}, map[uint64]bool{1: y, 2: n}, tracker.VotePending},
		{[]uint64{1, 2, 3}, map[uint64]bool{1: n, 2: n}, tracker.VoteLost},
		{[]uint64{1, 2, 3, 4}, map[uint64]bool{1: y, 2: y, 3: n}, tracker.VotePending},
		{[]uint64{1, 2, 3, 4}, map[uint64]bool{1: y, 2: n, 3: n}, tracker.VoteLost},
		// Votes of non-voters do not count.
		{[]uint64{1, 2, 3}, map[uint64]bool{1: y, 4: y, 5: y}, tracker.VotePending},
	}
	for _, tt := range tests {
		c := tracker.MakeMajorityConfig(tt.voters...)
		if got := c.VoteResult(tt.votes); got != tt.want {
			t.Errorf("%v.VoteResult(%v) = %v, want %v", c, tt.votes, got, tt.want)
		}
	}
}

func TestJointVoteIsWonInBothHalvesAndLostInEither(t *testing.T) {
	y, n := true, false
	cfg := tracker.JointConfig{{1, 2, 3}, {3, 4, 5}}
	tests := []struct {
		votes map[uint64]bool
		want  tracker.VoteResult
	}{
		{map[uint64]bool{}, tracker.VotePending},
		{map[uint64]bool{1: y, 2: y}, tracker.VotePending},
		{map[uint64]bool{1: y, 2: y, 4: y, 5: y}, tracker.VoteWon},
		{map[uint64]bool{1: y, 3: y, 4: y}, tracker.VoteWon},
		{map[uint64]bool{1: y, 2: y, 4: n, 5: n}, tracker.VoteLost},
		{map[uint64]bool{1: n, 2: n, 4: y, 5: y}, tracker.VoteLost},
		{map[uint64]bool{1: n, 2: n}, tracker.VoteLost},
	}
	for _, tt := range tests {
		if got := cfg.VoteResult(tt.votes); got != tt.want {
			t.Errorf("%v.VoteResult(%v) = %v, want %v", cfg, tt.votes, got, tt.want)
		}
	}
	if got := (tracker.JointConfig{{1}}).VoteResult(map[uint64]bool{1: y}); got != tracker.VoteWon {
		t.Errorf("non-joint config with its voter's grant: %v, want VoteWon", got)
	}
}

func TestJointConfigIDsAreSortedUnionOfHalves(t *testing.T) {
	cfg := tracker.JointConfig{{2, 5, 7}, {1, 2, 3}}
	if diff := cmp.Diff([]uint64{1, 2, 3, 5, 7}, cfg.IDs()); diff != "" {
		t.Errorf("IDs (-want +got):\n%s", diff)
	}
	if ids := (tracker.JointConfig{}).IDs(); ids != nil {
		t.Errorf("IDs of empty config = %v, want nil", ids)
	}
	if !cfg.Contains(1) || !cfg.Contains(7) || cfg.Contains(4) {
		t.Errorf("Contains does not cover exactly both halves")
	}
}

func TestJointConfigIsJointOnlyWithOutgoingVoters(t *testing.T) {
	if (tracker.JointConfig{{1, 2}}).IsJoint() {
		t.Error("config without outgoing half reports joint")
	}
	if !(tracker.JointConfig{{1, 2}, {1}}).IsJoint() {
		t.Error("config with outgoing voters reports not joint")
	}
}

func TestVoteResultHasReadableNames(t *testing.T) {
	want := map[tracker.VoteResult]string{
		tracker.VotePending: "VotePending",
		tracker.VoteLost:    "VoteLost",
		tracker.VoteWon:     "VoteWon",
		0:                   "VoteResult(0)",
	}
	for v, s := range want {
		if v.String() != s {
			t.Errorf("%d.String() = %q, want %q", uint8(v), v.String(), s)
		}
	}
}

func TestCommittedIndexDoesNotAllocateUpToSevenVoters(t *testing.T) {
	for n := 1; n <= 7; n++ {
		cfg, prs := benchConfig(n)
		allocs := testing.AllocsPerRun(100, func() { cfg.CommittedIndex(prs) })
		if allocs != 0 {
			t.Errorf("%d voters: %v allocations, want 0", n, allocs)
		}
	}
}
