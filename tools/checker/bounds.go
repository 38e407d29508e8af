package checker

import (
	"cmp"
	"maps"
	"slices"

	"github.com/tickraft/raft/core"
)

// Limits are the bounds a node was configured with (the Config fields of
// the same names; zero means the default) and the largest proposal made so
// far, which a bound may be passed by: one message, one batch to apply and
// one proposal on an empty uncommitted tail are admitted whole.
type Limits struct {
	MaxInflightMsgs           int
	MaxInflightBytes          uint64
	MaxUncommittedEntriesSize uint64
	MaxUncommittedEntries     int
	MaxCommittedSizePerReady  uint64
	MaxPendingReads           int
	// LargestEntry is the payload of the largest entry proposed so far,
	// LargestBatch the most entries proposed at once (at least 1).
	LargestEntry uint64
	LargestBatch int
}

// withDefaults fills the zero limits with the library's defaults.
func (l Limits) withDefaults() Limits {
	l.MaxInflightMsgs = cmp.Or(l.MaxInflightMsgs, core.DefaultMaxInflightMsgs)
	l.MaxInflightBytes = cmp.Or(l.MaxInflightBytes, core.DefaultMaxInflightBytes)
	l.MaxUncommittedEntriesSize = cmp.Or(l.MaxUncommittedEntriesSize, core.DefaultMaxUncommittedEntriesSize)
	l.MaxUncommittedEntries = cmp.Or(l.MaxUncommittedEntries, core.DefaultMaxUncommittedEntries)
	l.MaxCommittedSizePerReady = cmp.Or(l.MaxCommittedSizePerReady, core.DefaultMaxCommittedSizePerReady)
	l.MaxPendingReads = cmp.Or(l.MaxPendingReads, core.DefaultMaxPendingReads)
	l.LargestBatch = max(l.LargestBatch, 1)
	return l
}

// CheckBounds verifies that a node's use of its bounded queues, as its
// Status reports it, stays within its limits. It reads the library's own
// counters, so it cannot see a bug that miscounts; the simulator judges the
// same bounds independently too, from its own network and Readys. The
// limits: reads waiting on the leader,
// local reads and forwarded reads at most MaxPendingReads each; committed
// payload handed out to apply at most MaxCommittedSizePerReady plus one entry; and on a
// leader, each follower's inflight window at most MaxInflightMsgs messages
// and MaxInflightBytes plus one entry, and the uncommitted tail at most
// its bounds or one batch, whichever is larger.
func CheckBounds(s core.Status, lim Limits) error {
	l := lim.withDefaults()
	id := s.ID
	switch {
	case s.PendingReads > l.MaxPendingReads:
		return violation(MemoryBounds, "node %d: %d reads pending, bound %d", id, s.PendingReads, l.MaxPendingReads)
	case s.LocalReads > l.MaxPendingReads:
		return violation(MemoryBounds, "node %d: %d local reads waiting, bound %d", id, s.LocalReads, l.MaxPendingReads)
	case s.ForwardedReads > l.MaxPendingReads:
		return violation(MemoryBounds, "node %d: %d forwarded reads waiting, bound %d", id, s.ForwardedReads, l.MaxPendingReads)
	case s.ApplyingBytes > l.MaxCommittedSizePerReady+l.LargestEntry:
		return violation(MemoryBounds, "node %d: %d bytes handed out to apply, bound %d + one entry of up to %d",
			id, s.ApplyingBytes, l.MaxCommittedSizePerReady, l.LargestEntry)
	case s.RaftState != core.StateLeader:
		return nil
	case s.UncommittedBytes > max(l.MaxUncommittedEntriesSize, l.LargestEntry*uint64(l.LargestBatch)):
		return violation(MemoryBounds, "leader %d: %d uncommitted bytes, bound %d (or one batch of up to %d entries of %d bytes)",
			id, s.UncommittedBytes, l.MaxUncommittedEntriesSize, l.LargestBatch, l.LargestEntry)
	case s.UncommittedEntries > max(l.MaxUncommittedEntries, l.LargestBatch):
		return violation(MemoryBounds, "leader %d: %d uncommitted entries, bound %d", id, s.UncommittedEntries, l.MaxUncommittedEntries)
	}
	return checkInflights(s, l)
}

// checkInflights checks a leader's window to each follower, in ID order.
func checkInflights(s core.Status, l Limits) error {
	for _, pid := range slices.Sorted(maps.Keys(s.Progress)) {
		in := s.Progress[pid].Inflights
		if in == nil || pid == s.ID {
			continue
		}
		if n := in.Count(); n > l.MaxInflightMsgs {
			return violation(MemoryBounds, "leader %d: %d appends in flight to %d, bound %d", s.ID, n, pid, l.MaxInflightMsgs)
		}
		if b := in.Bytes(); b > l.MaxInflightBytes+l.LargestEntry {
			return violation(MemoryBounds, "leader %d: %d bytes in flight to %d, bound %d + one entry of up to %d",
				s.ID, b, pid, l.MaxInflightBytes, l.LargestEntry)
		}
	}
	return nil
}
