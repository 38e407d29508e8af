package tracker

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// AckedIndexer reports, for a voter, the highest log index it is known to
// have persisted. found is false when nothing is known about the voter; the
// quorum math then treats it as having acknowledged index 0.
type AckedIndexer interface {
	AckedIndex(voterID uint64) (idx uint64, found bool)
}

// VoteResult is the outcome of an election as far as the votes received so
// far decide it. The zero value is not a valid result.
type VoteResult uint8

const (
	// VotePending means the votes received so far neither win nor lose:
	// the outcome depends on voters that have not answered.
	VotePending VoteResult = 1 + iota
	// VoteLost means a quorum can no longer be reached, whatever the
	// missing voters answer.
	VoteLost
	// VoteWon means the granted votes form a quorum.
	VoteWon
)

// String returns the name of the result, such as "VoteWon".
func (v VoteResult) String() string {
	switch v {
	case VotePending:
		return "VotePending"
	case VoteLost:
		return "VoteLost"
	case VoteWon:
		return "VoteWon"
	}
	return "VoteResult(" + strconv.Itoa(int(v)) + ")"
}

// MajorityConfig is a set of voters, a quorum of which is any subset with
// more than half of them. Its IDs are sorted in ascending order and hold no
// duplicates: every method relies on that invariant, which
// [MakeMajorityConfig] establishes. The nil MajorityConfig has no voters.
type MajorityConfig []uint64

// MakeMajorityConfig returns the majority configuration of the given IDs,
// sorted and without duplicates. It does not keep a reference to ids.
func MakeMajorityConfig(ids ...uint64) MajorityConfig {
	if len(ids) == 0 {
		return nil
	}
	c := slices.Clone(MajorityConfig(ids))
	slices.Sort(c)
	return slices.Compact(c)
}

// Contains reports whether id is a voter of c.
func (c MajorityConfig) Contains(id uint64) bool {
	_, ok := slices.BinarySearch(c, id)
	return ok
}

// String returns the IDs of c in parentheses, such as "(1 2 3)".
func (c MajorityConfig) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, id := range c {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(id, 10))
	}
	b.WriteByte(')')
	return b.String()
}

// quorum returns the size of the smallest majority of c.
func (c MajorityConfig) quorum() int { return len(c)/2 + 1 }

// stackVoters is how many voters CommittedIndex handles without allocating.
const stackVoters = 7

// CommittedIndex returns the largest index that a majority of c has
// acknowledged according to l. A voter l knows nothing about counts as
// having acknowledged index 0. A configuration without voters returns
// math.MaxUint64: an empty quorum has trivially acknowledged everything, so
// that the minimum taken by [JointConfig.CommittedIndex] picks the other
// half. It does not allocate for up to seven voters.
func (c MajorityConfig) CommittedIndex(l AckedIndexer) uint64 {
	n := len(c)
	if n == 0 {
		return math.MaxUint64
	}
	var stack [stackVoters]uint64
	var acked []uint64
	if n <= len(stack) {
		acked = stack[:n]
	} else {
		acked = make([]uint64, n)
	}
	for i, id := range c {
		acked[i], _ = l.AckedIndex(id) // a missing voter has acked 0
	}
	sortSmall(acked)
	// In ascending order, the quorum() voters from position n-quorum() on
	// have all acknowledged at least acked[n-quorum()], and no larger index
	// is acknowledged by that many.
	return acked[n-c.quorum()]
}

// sortSmall sorts s in ascending order, by insertion for the short slices
// that voter sets are and without allocating.
func sortSmall(s []uint64) {
	if len(s) > stackVoters {
		slices.Sort(s)
		return
	}
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// VoteResult returns the outcome of an election in c given the votes cast
// so far (true for granted, false for rejected; a voter absent from votes
// has not answered). Votes of nodes outside c do not count. A configuration
// without voters wins.
func (c MajorityConfig) VoteResult(votes map[uint64]bool) VoteResult {
	return c.voteResult(func(id uint64) (bool, bool) {
		v, ok := votes[id]
		return v, ok
	})
}

// voteResult is VoteResult with the votes given as a function, so that
// callers can count a property of their own without building a map.
func (c MajorityConfig) voteResult(vote func(id uint64) (granted, voted bool)) VoteResult {
	if len(c) == 0 {
		return VoteWon
	}
	var granted, missing int
	for _, id := range c {
		v, ok := vote(id)
		switch {
		case !ok:
			missing++
		case v:
			granted++
		}
	}
	q := c.quorum()
	switch {
	case granted >= q:
		return VoteWon
	case granted+missing >= q:
		return VotePending
	}
	return VoteLost
}

// check reports an error if c breaks its sorted, duplicate-free invariant.
func (c MajorityConfig) check() error {
	for i := 1; i < len(c); i++ {
		if c[i-1] >= c[i] {
			return fmt.Errorf("majority config %v is not sorted without duplicates", c)
		}
	}
	return nil
}

// JointConfig is the configuration of joint consensus (thesis §4.3): [0] is
// the incoming majority configuration and [1] the outgoing one. A quorum of
// it is a set holding a quorum of both halves. An empty outgoing half means
// the configuration is not joint and only the incoming half decides.
type JointConfig [2]MajorityConfig

// IsJoint reports whether c is in joint consensus, that is whether its
// outgoing half has voters.
func (c JointConfig) IsJoint() bool { return len(c[1]) > 0 }

// Contains reports whether id is a voter of either half.
func (c JointConfig) Contains(id uint64) bool {
	return c[0].Contains(id) || c[1].Contains(id)
}

// IDs returns the voters of both halves, sorted and without duplicates, in
// a new slice (nil when there are none).
func (c JointConfig) IDs() []uint64 {
	ids := append(slices.Clone([]uint64(c[0])), c[1]...)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// String returns the incoming half, followed when joint by "&&" and the
// outgoing half, such as "(1 2 3)&&(1 2)".
func (c JointConfig) String() string {
	if !c.IsJoint() {
		return c[0].String()
	}
	return c[0].String() + "&&" + c[1].String()
}

// CommittedIndex returns the largest index acknowledged by a quorum of both
// halves: the smaller of their committed indexes. With both halves empty it
// returns math.MaxUint64, following [MajorityConfig.CommittedIndex].
func (c JointConfig) CommittedIndex(l AckedIndexer) uint64 {
	return min(c[0].CommittedIndex(l), c[1].CommittedIndex(l))
}

// VoteResult returns the outcome of an election in c: won when both halves
// win, lost when either loses, pending otherwise.
func (c JointConfig) VoteResult(votes map[uint64]bool) VoteResult {
	return joinResults(c[0].VoteResult(votes), c[1].VoteResult(votes))
}

// joinResults combines the results of the two halves of a joint election.
func joinResults(in, out VoteResult) VoteResult {
	switch {
	case in == out:
		return in
	case in == VoteLost || out == VoteLost:
		return VoteLost
	}
	return VotePending
}
