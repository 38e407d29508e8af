package tracker_test

import (
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/tickraft/raft/tracker"
)

// The references below define quorums the slow, obvious way: a set S is a
// quorum of a majority config C when C is empty or S holds more than half
// of C, and a quorum of a joint config when it is a quorum of both halves.
// They enumerate every subset of the voters, so they are only for small
// configurations.

// isQuorum reports whether the subset mask of ids is a quorum of cfg.
func isQuorum(cfg tracker.JointConfig, ids []uint64, mask int) bool {
	for _, half := range cfg {
		in := 0
		for i, id := range ids {
			if mask&(1<<i) != 0 && half.Contains(id) {
				in++
			}
		}
		if len(half) > 0 && 2*in <= len(half) {
			return false
		}
	}
	return true
}

// refCommitted returns the highest index such that every member of some
// quorum acknowledged it: the maximum over quorums of their minimum ack.
func refCommitted(cfg tracker.JointConfig, a acks) uint64 {
	ids := cfg.IDs()
	best := uint64(0)
	for mask := 0; mask < 1<<len(ids); mask++ {
		if !isQuorum(cfg, ids, mask) {
			continue
		}
		low := uint64(math.MaxUint64) // the empty quorum has acked everything
		for i, id := range ids {
			if mask&(1<<i) != 0 {
				low = min(low, a[id])
			}
		}
		best = max(best, low)
	}
	return best
}

// refVoteResult tries every way the missing voters could still answer: the
// vote is won if every completion wins, lost if none does.
func refVoteResult(cfg tracker.JointConfig, votes map[uint64]bool) tracker.VoteResult {
	ids := cfg.IDs()
	var missing []int
	for i, id := range ids {
		if _, ok := votes[id]; !ok {
			missing = append(missing, i)
		}
	}
	wins := 0
	for completion := 0; completion < 1<<len(missing); completion++ {
		yes := 0
		for i, id := range ids {
			if votes[id] {
				yes |= 1 << i
			}
		}
		for j, i := range missing {
			if completion&(1<<j) != 0 {
				yes |= 1 << i
			}
		}
		if isQuorum(cfg, ids, yes) {
			wins++
		}
	}
	switch wins {
	case 1 << len(missing):
		return tracker.VoteWon
	case 0:
		return tracker.VoteLost
	}
	return tracker.VotePending
}

// drawJoint draws a joint config over voters 1..10; either half may be
// empty.
func drawJoint(t *rapid.T) tracker.JointConfig {
	half := func(label string) tracker.MajorityConfig {
		ids := rapid.SliceOfNDistinct(rapid.Uint64Range(1, 10), 0, 10, rapid.ID[uint64]).Draw(t, label)
		return tracker.MakeMajorityConfig(ids...)
	}
	return tracker.JointConfig{half("incoming"), half("outgoing")}
}

func TestCommittedIndexEqualsBruteForceOverQuorums(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawJoint(t)
		a := acks{}
		for _, id := range append(cfg.IDs(), 11, 12) {
			if rapid.Bool().Draw(t, "known") {
				a[id] = rapid.Uint64Range(0, 20).Draw(t, "acked")
			}
		}
		if got, want := cfg.CommittedIndex(a), refCommitted(cfg, a); got != want {
			t.Fatalf("%v.CommittedIndex(%v) = %d, brute force says %d", cfg, a, got, want)
		}
		in := tracker.JointConfig{cfg[0]}
		if got, want := cfg[0].CommittedIndex(a), refCommitted(in, a); got != want {
			t.Fatalf("%v.CommittedIndex(%v) = %d, brute force says %d", cfg[0], a, got, want)
		}
	})
}

func TestVoteResultEqualsBruteForceOverCompletions(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawJoint(t)
		votes := map[uint64]bool{}
		for _, id := range append(cfg.IDs(), 11, 12) {
			switch rapid.IntRange(0, 2).Draw(t, "vote") {
			case 1:
				votes[id] = true
			case 2:
				votes[id] = false
			}
		}
		if got, want := cfg.VoteResult(votes), refVoteResult(cfg, votes); got != want {
			t.Fatalf("%v.VoteResult(%v) = %v, brute force says %v", cfg, votes, got, want)
		}
		in := tracker.JointConfig{cfg[0]}
		if got, want := cfg[0].VoteResult(votes), refVoteResult(in, votes); got != want {
			t.Fatalf("%v.VoteResult(%v) = %v, brute force says %v", cfg[0], votes, got, want)
		}
	})
}
