package core

import (
	"fmt"
	"sort"

	"github.com/tickraft/raft/raftpb"
)

// uncommittedTail is the leader's budget for entries of its own term not
// yet handed out to apply (MaxUncommittedEntriesSize,
// MaxUncommittedEntries): it admits proposals, counts every entry the
// leader appends, and releases them as a Ready hands them out. Only a
// leader has one (leaderState), so a new term starts with an empty tail.
// Only this file assigns its fields.
type uncommittedTail struct {
	size, maxSize uint64
	entries       int
	maxEntries    int
}

// newUncommittedTail returns an empty tail with the given bounds.
func newUncommittedTail(maxSize uint64, maxEntries int) uncommittedTail {
	return uncommittedTail{maxSize: maxSize, maxEntries: maxEntries}
}

// admit refuses a proposal of n entries totalling size bytes that would
// take the tail past its bounds. An empty tail accepts any one proposal,
// so that a single large entry is never refused for ever.
func (u *uncommittedTail) admit(size uint64, n int) error {
	if u.entries == 0 {
		return nil
	}
	if size > u.maxSize-min(u.size, u.maxSize) || n > u.maxEntries-min(u.entries, u.maxEntries) {
		return fmt.Errorf("%w: %w: %d bytes in %d entries uncommitted, limits %d bytes and %d entries",
			ErrProposalDropped, ErrUncommittedTailFull, u.size, u.entries, u.maxSize, u.maxEntries)
	}
	return nil
}

// add counts n appended entries totalling size bytes.
func (u *uncommittedTail) add(size uint64, n int) {
	u.size += size
	u.entries += n
}

// release takes the committed entries handed out to apply off the tail:
// those of the leader's term, the only ones it counted (entries of
// earlier terms it commits were never in its tail). Terms never decrease
// along the log, so those are a suffix of ents; in steady state all of
// them, whose payload, total, the caller summed.
func (u *uncommittedTail) release(ents []raftpb.Entry, total, term uint64) {
	size, n := total, len(ents)
	if ents[0].Term != term {
		from := sort.Search(len(ents), func(i int) bool { return ents[i].Term >= term })
		size, n = payloadSize(ents[from:]), len(ents)-from
	}
	if size > u.size || n > u.entries {
		panic(fmt.Sprintf("invariant: releasing %d entries (%d bytes) from an uncommitted tail of %d (%d bytes)",
			n, size, u.entries, u.size))
	}
	u.size -= size
	u.entries -= n
}
