package core

import "github.com/tickraft/raft/raftpb"

// The segments of MemoryStorage's log. A segment's array is written only
// past the entries any caller may read: Entries cuts the capacity of what
// it returns and marks the segment lent, and a lent segment is never
// written over (a truncation copies it) nor reused once compacted.

// memorySegmentLen is the number of entries in a full segment of
// MemoryStorage (192 KiB of entry headers): large enough that a batch
// rarely straddles two segments and that segments are seldom allocated,
// small enough that a compaction keeps at most that many compacted
// entries reachable.
const memorySegmentLen = 4096

// memorySegment is a run of consecutive entries of MemoryStorage's log.
type memorySegment struct {
	ents []raftpb.Entry
	// lent reports whether Entries returned a slice of ents: the caller
	// may read it for as long as it likes.
	lent bool
}

// heldLen returns the number of entries in the segments, from base on.
func (ms *MemoryStorage) heldLen() uint64 {
	n := len(ms.segs)
	if n == 0 {
		return 0
	}
	return uint64(n-1)*memorySegmentLen + uint64(len(ms.segs[n-1].ents))
}

// locate returns the segment holding index i, which must lie in
// [base, lastIndex()], and i's position in it.
func (ms *MemoryStorage) locate(i uint64) (seg, at int) {
	d := i - ms.base
	return int(d / memorySegmentLen), int(d % memorySegmentLen)
}

// entry returns the entry at index i, which must lie in [base,
// lastIndex()].
func (ms *MemoryStorage) entry(i uint64) *raftpb.Entry {
	k, at := ms.locate(i)
	return &ms.segs[k].ents[at]
}

// lend returns the entries [lo, hi), lo < hi within the log, up to the end
// of lo's segment and cut to maxSize payload bytes, and marks the segment
// lent.
func (ms *MemoryStorage) lend(lo, hi, maxSize uint64) []raftpb.Entry {
	k, at := ms.locate(lo)
	seg := &ms.segs[k]
	seg.lent = true
	n := min(hi-lo, uint64(len(seg.ents)-at))
	ents := limitSize(seg.ents[at:at+int(n)], maxSize)
	return ents[:len(ents):len(ents)]
}

// dropSegmentsBefore lets go of the segments whose every entry lies below
// index first. Those no caller can read become the spare segments; the
// others are left to the collector.
func (ms *MemoryStorage) dropSegmentsBefore(first uint64) {
	k := int((first - ms.base) / memorySegmentLen)
	if k == 0 {
		return
	}
	if ms.cold != nil {
		clear(ms.cold.spare)
		ms.cold.spare = ms.cold.spare[:0]
	}
	ms.keepSpare(ms.segs[:k])
	n := copy(ms.segs, ms.segs[k:])
	clear(ms.segs[n:])
	ms.segs = ms.segs[:n]
	ms.base += uint64(k) * memorySegmentLen
}

// keepSpare adds the full segments of dropped that were never lent to the
// spare segments, emptied so that they keep no payload reachable.
func (ms *MemoryStorage) keepSpare(dropped []memorySegment) {
	for _, seg := range dropped {
		if !seg.lent && cap(seg.ents) == memorySegmentLen {
			clear(seg.ents)
			c := ms.coldState()
			c.spare = append(c.spare, seg.ents[:0])
		}
	}
}

// truncateFrom removes the entries from index i on, i within the held
// entries. The segment holding i is cut in place if no caller can read
// it, and else replaced by a copy of the entries it keeps, since a slice
// returned by Entries must not see the entries that will be written over.
// The segments after it are dropped.
func (ms *MemoryStorage) truncateFrom(i uint64) {
	k, at := ms.locate(i)
	seg := &ms.segs[k]
	if seg.lent {
		fresh := make([]raftpb.Entry, at, cap(seg.ents))
		copy(fresh, seg.ents[:at])
		*seg = memorySegment{ents: fresh}
	} else {
		clear(seg.ents[at:])
		seg.ents = seg.ents[:at]
	}
	ms.keepSpare(ms.segs[k+1:])
	clear(ms.segs[k+1:])
	ms.segs = ms.segs[:k+1]
}

// appendAtEnd copies ents, which follow the last index, into the
// segments: into the last segment while it has room, then into new ones.
// Entries already held are never copied again, except while a first
// segment grows to its full length.
func (ms *MemoryStorage) appendAtEnd(ents []raftpb.Entry) {
	for len(ents) > 0 {
		n := len(ms.segs)
		if n == 0 || len(ms.segs[n-1].ents) == memorySegmentLen {
			ms.segs = append(ms.segs, memorySegment{ents: ms.newSegment(len(ents))})
			n++
		}
		last := &ms.segs[n-1]
		take := min(memorySegmentLen-len(last.ents), len(ents))
		if len(last.ents)+take > cap(last.ents) {
			grown := make([]raftpb.Entry, len(last.ents),
				min(memorySegmentLen, max(2*cap(last.ents), len(last.ents)+take)))
			copy(grown, last.ents)
			*last = memorySegment{ents: grown}
		}
		last.ents = append(last.ents, ents[:take]...)
		ents = ents[take:]
	}
}

// newSegment returns an empty segment for a log about to receive want
// entries: a spare one or a new full one after a full segment, and a
// first one sized for what it receives, so that a small log (an idle
// group's) does not pay for a whole segment; a busy one grows its first
// segment by doubling up to memorySegmentLen.
func (ms *MemoryStorage) newSegment(want int) []raftpb.Entry {
	if len(ms.segs) == 0 {
		return make([]raftpb.Entry, 0, min(memorySegmentLen, want))
	}
	if c := ms.cold; c != nil && len(c.spare) > 0 {
		n := len(c.spare)
		seg := c.spare[n-1]
		c.spare[n-1] = nil
		c.spare = c.spare[:n-1]
		return seg
	}
	return make([]raftpb.Entry, 0, memorySegmentLen)
}
