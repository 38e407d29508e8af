package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// entryID names one log entry by its term and index. By the Log Matching
// property (§5.3) two logs holding the same entryID agree on every entry up
// to and including it.
type entryID struct{ term, index uint64 }

// idOf returns the entryID of e.
func idOf(e *raftpb.Entry) entryID { return entryID{term: e.Term, index: e.Index} }

// noLimit is the byte limit that limits nothing.
const noLimit = ^uint64(0)

// payloadSize returns the payload bytes of ents: the sum of len(Data). Every
// byte limit of core counts these, not encoded bytes.
func payloadSize(ents []raftpb.Entry) uint64 {
	var n uint64
	for i := range ents {
		n += ents[i].PayloadSize()
	}
	return n
}

// prefixWithin returns how many leading entries of ents fit in budget
// payload bytes. It may return 0.
func prefixWithin(ents []raftpb.Entry, budget uint64) int {
	var size uint64
	for i := range ents {
		s := ents[i].PayloadSize()
		if s > budget-size {
			return i
		}
		size += s
	}
	return len(ents)
}

// limitSize returns the longest prefix of ents whose payload fits in
// maxSize, but never fewer than one entry, so that a single large entry can
// still make progress. maxSize 0 means exactly one entry (even if the
// following entries carry no payload); noLimit keeps everything.
func limitSize(ents []raftpb.Entry, maxSize uint64) []raftpb.Entry {
	if len(ents) == 0 {
		return ents
	}
	if maxSize == 0 {
		return ents[:1]
	}
	return ents[:max(1, prefixWithin(ents, maxSize))]
}

// checkEntriesContiguous reports, as an error wrapping ErrMalformedEntries,
// whether ents fails to continue a log whose last entry is prev: the
// indexes must run prev.index+1, prev.index+2, ... and the terms must never
// decrease, starting from prev.term.
func checkEntriesContiguous(prev entryID, ents []raftpb.Entry) error {
	last := prev
	for i := range ents {
		id := idOf(&ents[i])
		if id.index != last.index+1 {
			return fmt.Errorf("%w: entry %d has index %d, want %d",
				ErrMalformedEntries, i, id.index, last.index+1)
		}
		if id.term < last.term {
			return fmt.Errorf("%w: entry at index %d has term %d below the previous term %d",
				ErrMalformedEntries, id.index, id.term, last.term)
		}
		last = id
	}
	return nil
}
