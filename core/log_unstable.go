package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// maxUnstableCapHint bounds the capacity reserved for the next batch of
// unstable entries, so that one burst does not pin memory on an idle node.
const maxUnstableCapHint = 4096

// capHint holds maxUnstableCapHint in 16 bits: this fails to compile if
// it grows beyond them.
const _ = uint16(maxUnstableCapHint)

// unstable is the tail of the log that is not yet durable: entries (and at
// most one incoming snapshot) that the node holds but the application has
// not yet acknowledged as written to Storage.
//
// Part of it may be in progress: handed to the application in a Ready or a
// storage message but not yet acknowledged. Those parts are not handed out
// again.
//
// Invariants (checked by checkInvariants):
//   - entries[i] has index offset+i;
//   - offset <= offsetInProgress <= offset+len(entries);
//   - if snapshot != nil, its index is offset-1, and while it is not in
//     progress no entry is either (a snapshot is written before the entries
//     that follow it);
//   - snapshotInProgress implies snapshot != nil.
type unstable struct {
	// snapshot is an incoming snapshot not yet durable, or nil.
	snapshot *raftpb.Snapshot
	// entries are the unstable entries; entries[i] has index offset+i.
	entries []raftpb.Entry
	// offset is the index of entries[0], or where it would be: one past
	// the last stable index (or past the snapshot).
	offset uint64
	// snapshotInProgress reports whether snapshot was handed out to be
	// written.
	snapshotInProgress bool
	// reuseArrays reports whether the node takes back the arrays it
	// handed out (the synchronous loop); recentWhole whether recent is a
	// whole tail's array, to take back once applied; recentSpare whether
	// recent is such an array taken back, empty, for the next batch; and
	// spareIdle the ticks it went unused (log_unstable_arrays.go).
	reuseArrays bool
	recentWhole bool
	recentSpare bool
	spareIdle   uint16
	// capHint is the capacity the tail had when it last became empty: the
	// next batch is likely as large, so it is allocated at once rather
	// than regrown entry by entry. At most maxUnstableCapHint, it shares
	// the word of the flags.
	capHint uint16
	// offsetInProgress is one past the last entry handed out to be
	// written: entries [offset, offsetInProgress) are in progress.
	offsetInProgress uint64
	// recent are the entries that last became stable, recent[i] at index
	// recentOffset+i, in the array they were handed out in (a Ready's
	// Entries or a storage message's): Storage holds the same entries, and
	// the node reads them from here until they are applied, overwritten or
	// replaced by a snapshot, so that applying them does not read Storage.
	recent       []raftpb.Entry
	recentOffset uint64
}

// maybeFirstIndex returns the index of the first entry that could follow
// the unstable snapshot, and whether there is such a snapshot. Without one,
// the first index is storage's business.
func (u *unstable) maybeFirstIndex() (uint64, bool) {
	if u.snapshot != nil {
		return u.snapshot.Metadata.Index + 1, true
	}
	return 0, false
}

// maybeLastIndex returns the index of the last unstable entry, or else of
// the unstable snapshot, and whether there is either.
func (u *unstable) maybeLastIndex() (uint64, bool) {
	if n := len(u.entries); n > 0 {
		return u.offset + uint64(n) - 1, true
	}
	if u.snapshot != nil {
		return u.snapshot.Metadata.Index, true
	}
	return 0, false
}

// maybeTerm returns the term of the entry at index i, and whether the
// unstable tail (its entries or its snapshot's last index) knows it.
func (u *unstable) maybeTerm(i uint64) (uint64, bool) {
	if i < u.offset {
		if u.snapshot != nil && u.snapshot.Metadata.Index == i {
			return u.snapshot.Metadata.Term, true
		}
		return 0, false
	}
	if i-u.offset >= uint64(len(u.entries)) {
		return 0, false
	}
	return u.entries[i-u.offset].Term, true
}

// nextEntries returns the entries not yet handed out to be written, or nil.
// The slice's capacity is cut so that an append by the caller cannot reach
// the unstable array.
func (u *unstable) nextEntries() []raftpb.Entry {
	from := u.offsetInProgress - u.offset
	if from == uint64(len(u.entries)) {
		return nil
	}
	return u.entries[from:len(u.entries):len(u.entries)]
}

// nextSnapshot returns the snapshot if it has not yet been handed out to be
// written, or nil.
func (u *unstable) nextSnapshot() *raftpb.Snapshot {
	if u.snapshot == nil || u.snapshotInProgress {
		return nil
	}
	return u.snapshot
}

// acceptInProgress records that everything currently unstable has been
// handed out to be written, so that it is not handed out again.
func (u *unstable) acceptInProgress() {
	u.offsetInProgress = u.offset + uint64(len(u.entries))
	if u.snapshot != nil {
		u.snapshotInProgress = true
	}
}

// stableTo records that the application has written the entries up to and
// including id. If the entry at id.index no longer has id.term, it was
// overwritten after being handed out and the acknowledgement is ignored:
// the newer entry is still to be written. By Log Matching (§5.3) a matching
// term means every entry before it matches too. Writes are acknowledged in
// the order they were handed out, so a pending snapshot is acknowledged
// (stableSnapTo) before the entries that follow it.
func (u *unstable) stableTo(id entryID) {
	if id.index < u.offset {
		return // already stable, or covered by the snapshot
	}
	if t, ok := u.maybeTerm(id.index); !ok || t != id.term {
		return
	}
	n := id.index + 1 - u.offset
	size := cap(u.entries) // the array's whole capacity, before the reslice
	u.recent, u.recentOffset = u.recentOf(u.entries[:n], n == uint64(len(u.entries))), u.offset
	u.entries = u.entries[n:]
	u.offset = id.index + 1
	u.offsetInProgress = max(u.offsetInProgress, u.offset)
	u.shrinkEntries(size)
}

// shrinkEntries gives the backing array of entries, of capacity size, back
// to the collector when most of it is unused, so that a long-lived node
// does not keep every entry it ever appended reachable. An emptied tail
// remembers size as the capacity to reserve for the next batch.
func (u *unstable) shrinkEntries(size int) {
	if len(u.entries) == 0 {
		u.capHint = uint16(min(size, maxUnstableCapHint))
		u.entries = nil
		return
	}
	if len(u.entries)*2 < cap(u.entries) {
		u.entries = append([]raftpb.Entry(nil), u.entries...)
	}
}

// stableSnapTo records that the application has written the snapshot at
// index i. An acknowledgement for another snapshot is ignored.
func (u *unstable) stableSnapTo(i uint64) {
	if u.snapshot != nil && u.snapshot.Metadata.Index == i {
		u.snapshot = nil
		u.snapshotInProgress = false
	}
}

// restore replaces the whole unstable tail by the snapshot s.
func (u *unstable) restore(s raftpb.Snapshot) {
	u.offset = s.Metadata.Index + 1
	u.offsetInProgress = u.offset
	u.entries = nil
	u.dropRecent()
	u.snapshot = &s
	u.snapshotInProgress = false
}

// appendReceived adds entries received from the leader, like
// truncateAndAppend. Without ReuseEntryArrays a node keeps the slices of
// the messages it is given (the contract of Step), so when the tail is
// empty and the batch is as large as the tail usually grows, the tail
// holds the message's entries without copying them, its capacity cut so
// that a later append copies: a follower then copies each entry once,
// into its storage, instead of also into a fresh array per batch. With
// it, the entries are copied into the node's own array: the sender may
// take back the array behind a message's entries after its next Advance
// (log_unstable_arrays.go), and the node's own array is handed out and
// taken back by the same rule.
func (u *unstable) appendReceived(ents []raftpb.Entry) {
	if !u.reuseArrays && u.entries == nil && len(ents) > 0 && len(ents) >= int(u.capHint) && ents[0].Index == u.offset {
		u.entries = ents[:len(ents):len(ents)]
		return
	}
	u.truncateAndAppend(ents)
}

// truncateAndAppend adds ents, which must be contiguous, to the tail. An
// entry at an index the tail already holds replaces it and everything after
// it; ents starting at or before offset replace all unstable entries (and
// the stable ones they overlap, which the unstable tail now shadows).
// The caller's slice is never kept: later appends cannot clobber it, and
// slices handed out earlier never see an overwrite.
func (u *unstable) truncateAndAppend(ents []raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	from := ents[0].Index
	end := u.offset + uint64(len(u.entries))
	switch {
	case from == end:
		if u.entries == nil {
			u.entries = u.newArray(max(int(u.capHint), len(ents)))
		}
		if len(ents) == 1 {
			u.entries = append(u.entries, ents[0]) // a proposal: no bulk copy
			return
		}
		u.entries = append(u.entries, ents...)
	case from <= u.offset:
		u.forgetRecentFrom(from) // stable entries from there on are overwritten
		u.entries = append([]raftpb.Entry(nil), ents...)
		u.offset = from
		u.offsetInProgress = from
	case from < end:
		kept := u.entries[:from-u.offset]
		fresh := make([]raftpb.Entry, 0, len(kept)+len(ents))
		fresh = append(fresh, kept...)
		u.entries = append(fresh, ents...)
		u.offsetInProgress = min(u.offsetInProgress, from)
	default:
		panic(fmt.Sprintf("invariant violated: unstable append at %d leaves a gap after %d",
			from, end-1))
	}
}

// forgetRecentFrom drops the recent entries from index i on.
func (u *unstable) forgetRecentFrom(i uint64) {
	if i <= u.recentOffset {
		u.dropRecent()
		return
	}
	if !u.recentSpare {
		k := min(uint64(len(u.recent)), i-u.recentOffset)
		u.recent, u.recentWhole = u.recent[:k:k], false // handed out, overwritten: never taken back
	}
}

// forgetRecentUpTo drops the recent entries once every one of them, up to
// index i, was applied, so that they are no longer kept reachable.
func (u *unstable) forgetRecentUpTo(i uint64) {
	if u.recentOffset+uint64(len(u.recent)) <= i+1 {
		u.releaseApplied()
	}
}

// recentSlice returns the recent entries from lo on, up to hi, or nil if
// lo is not a recent entry. The capacity of the result is cut.
func (u *unstable) recentSlice(lo, hi uint64) []raftpb.Entry {
	end := u.recentOffset + uint64(len(u.recent))
	if lo < u.recentOffset || lo >= end || lo >= hi {
		return nil
	}
	hi = min(hi, end)
	return u.recent[lo-u.recentOffset : hi-u.recentOffset : hi-u.recentOffset]
}

// slice returns the entries [lo, hi), which must lie within the unstable
// entries; the caller checks that. The capacity of the result is cut so
// that an append by the caller copies.
func (u *unstable) slice(lo, hi uint64) []raftpb.Entry {
	end := u.offset + uint64(len(u.entries))
	if lo > hi || lo < u.offset || hi > end {
		panic(fmt.Sprintf("invariant violated: unstable.slice(%d, %d) outside the unstable entries [%d, %d)",
			lo, hi, u.offset, end))
	}
	return u.entries[lo-u.offset : hi-u.offset : hi-u.offset]
}

// checkInvariants returns an error naming the first invariant of unstable
// that does not hold, or nil.
func (u *unstable) checkInvariants() error {
	end := u.offset + uint64(len(u.entries))
	if u.offsetInProgress < u.offset || u.offsetInProgress > end {
		return fmt.Errorf("unstable: offsetInProgress %d outside [%d, %d]", u.offsetInProgress, u.offset, end)
	}
	for i := range u.entries {
		if want := u.offset + uint64(i); u.entries[i].Index != want {
			return fmt.Errorf("unstable: entries[%d] has index %d, want %d", i, u.entries[i].Index, want)
		}
	}
	if end := u.recentOffset + uint64(len(u.recent)); len(u.recent) > 0 && end > u.offset {
		return fmt.Errorf("unstable: recent entries up to %d reach past offset %d", end-1, u.offset)
	}
	for i := range u.recent {
		if want := u.recentOffset + uint64(i); u.recent[i].Index != want {
			return fmt.Errorf("unstable: recent[%d] has index %d, want %d", i, u.recent[i].Index, want)
		}
	}
	if u.snapshotInProgress && u.snapshot == nil {
		return fmt.Errorf("unstable: snapshot in progress but no snapshot")
	}
	if u.snapshot == nil {
		return nil
	}
	if u.snapshot.Metadata.Index+1 != u.offset {
		return fmt.Errorf("unstable: snapshot at %d but offset %d", u.snapshot.Metadata.Index, u.offset)
	}
	if !u.snapshotInProgress && u.offsetInProgress != u.offset {
		return fmt.Errorf("unstable: entries in progress before the snapshot at %d", u.snapshot.Metadata.Index)
	}
	return nil
}
