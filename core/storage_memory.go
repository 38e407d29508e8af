package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// MemoryStorage is a Storage kept in memory, for tests, examples and
// applications that persist elsewhere and keep a copy here for the node to
// read. It also offers the writes a Ready asks for: SetHardState,
// ApplySnapshot and Append.
//
// MemoryStorage is not safe for concurrent use (core does not import sync):
// an application that writes from another goroutine than the one driving
// the node must guard every call with its own lock.
//
// Entries handed to Append are copied, but their Data is shared: neither
// side may modify it afterwards.
//
// The log is held in segments of up to memorySegmentLen entries
// (storage_memory_segments.go), so that an append never copies the entries
// already held and a compaction drops whole segments without copying the
// entries it keeps. Entries therefore returns at most the rest of one
// segment (the Storage contract lets it return a shorter prefix), and a
// compacted entry stays reachable until every entry of its segment is
// compacted. A compacted segment that Entries never returned a slice of
// is reused for the entries appended after the compaction.
type MemoryStorage struct {
	hardState raftpb.HardState
	// voters is the ConfState that InitialState returns, and the ConfState
	// of the snapshot held, when it names voters only (the usual one; a
	// new group's storages are given nothing else): kept here, one slice,
	// so that such a storage allocates nothing for it. Any other ConfState
	// is kept whole in the cold part (conf).
	voters []uint64
	// cold is what only a storage given a snapshot, compacted or given a
	// ConfState beyond voters holds, nil until then: an idle group's
	// storages hold one word for it.
	cold *memoryCold
	// segs holds the log from base on: segs[k].ents[j] has index
	// base+k*memorySegmentLen+j. Every segment but the last is full. The
	// first segment may still hold compacted entries (below
	// compacted.index+1), which are never read.
	segs []memorySegment
	// base is the index of segs[0].ents[0], or compacted.index+1 when no
	// segment is held.
	base uint64
}

// memoryCold is the part of a MemoryStorage that a snapshot, a
// compaction or a ConfState beyond voters gives it.
type memoryCold struct {
	// snapshot is the latest snapshot, or nil for the empty one; its
	// ConfState is read from the storage's (conf). It is replaced, never
	// modified: Snapshot hands out copies that share its slices.
	snapshot *raftpb.Snapshot
	// spare holds emptied full segments no caller can read, for the
	// appends after a compaction: at most those the last compaction
	// dropped, so that the storage never holds more than its log did.
	spare [][]raftpb.Entry
	// compacted is the last compacted entry, standing for the compacted
	// prefix: only its index and term are kept (zero: nothing compacted).
	compacted entryID
	// conf is the ConfState when it names more than voters, nil when the
	// storage's voters are the whole of it.
	conf *raftpb.ConfState
}

// coldState returns the storage's cold part, allocating it on first use.
func (ms *MemoryStorage) coldState() *memoryCold {
	if ms.cold == nil {
		ms.cold = &memoryCold{}
	}
	return ms.cold
}

var _ Storage = (*MemoryStorage)(nil)

// NewMemoryStorage returns an empty MemoryStorage: no entries, the empty
// snapshot at index 0 term 0, and an empty HardState and ConfState.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{base: 1}
}

// InitialState implements Storage. It returns the HardState last set and
// the ConfState of the latest snapshot or of SetConfState, whichever came
// last. It never fails.
func (ms *MemoryStorage) InitialState() (raftpb.HardState, raftpb.ConfState, error) {
	return ms.hardState, ms.confState(), nil
}

// confState returns the ConfState held.
func (ms *MemoryStorage) confState() raftpb.ConfState {
	if ms.cold != nil && ms.cold.conf != nil {
		return *ms.cold.conf
	}
	return raftpb.ConfState{Voters: ms.voters}
}

// setConfState holds cs: its voters alone when that is all it names,
// else the whole of it in the cold part.
func (ms *MemoryStorage) setConfState(cs raftpb.ConfState) {
	if cs.VotersOutgoing == nil && cs.Learners == nil && cs.LearnersNext == nil && !cs.AutoLeave {
		ms.voters = cs.Voters
		if ms.cold != nil {
			ms.cold.conf = nil
		}
		return
	}
	ms.voters = nil
	ms.coldState().conf = &cs
}

// compactedEntry returns the last compacted entry (zero if none).
func (ms *MemoryStorage) compactedEntry() entryID {
	if ms.cold == nil {
		return entryID{}
	}
	return ms.cold.compacted
}

// SetHardState records st, as the application must before it sends the
// messages of the Ready that carried it. It never fails; the error is there
// for stores that can.
func (ms *MemoryStorage) SetHardState(st raftpb.HardState) error {
	ms.hardState = st
	return nil
}

// SetConfState sets the ConfState that InitialState returns, so that a new
// cluster can boot from this storage. A later ApplySnapshot or CreateSnapshot
// replaces it.
func (ms *MemoryStorage) SetConfState(cs raftpb.ConfState) {
	ms.setConfState(cs)
}

// heldSnapshot returns a copy of the snapshot held (the empty one if
// none) with the ConfState held.
func (ms *MemoryStorage) heldSnapshot() raftpb.Snapshot {
	var snap raftpb.Snapshot
	if ms.cold != nil && ms.cold.snapshot != nil {
		snap = *ms.cold.snapshot
	}
	snap.Metadata.ConfState = ms.confState()
	return snap
}

// offset returns the index of the last compacted entry.
func (ms *MemoryStorage) offset() uint64 { return ms.compactedEntry().index }

// lastIndex is LastIndex without the error.
func (ms *MemoryStorage) lastIndex() uint64 { return ms.base + ms.heldLen() - 1 }

// Entries implements Storage. It returns at most the entries up to the end
// of the segment that holds lo. The returned slice has its capacity cut to
// its length, so that an append by the caller cannot reach the storage's
// array, and that array is never written over nor reused afterwards. lo >
// hi is an error.
func (ms *MemoryStorage) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	if lo <= ms.offset() {
		return nil, fmt.Errorf("%w: entries from %d requested, first index is %d",
			ErrCompacted, lo, ms.offset()+1)
	}
	if hi > ms.lastIndex()+1 {
		return nil, fmt.Errorf("%w: entries up to %d requested, last index is %d",
			ErrUnavailable, hi-1, ms.lastIndex())
	}
	if lo > hi {
		return nil, fmt.Errorf("invalid entry range [%d, %d)", lo, hi)
	}
	if lo == hi {
		return nil, nil
	}
	return ms.lend(lo, hi, maxSize), nil
}

// Term implements Storage.
func (ms *MemoryStorage) Term(i uint64) (uint64, error) {
	if i < ms.offset() {
		return 0, fmt.Errorf("%w: term of %d requested, compacted up to %d",
			ErrCompacted, i, ms.offset())
	}
	if i > ms.lastIndex() {
		return 0, fmt.Errorf("%w: term of %d requested, last index is %d",
			ErrUnavailable, i, ms.lastIndex())
	}
	if i == ms.offset() {
		return ms.compactedEntry().term, nil
	}
	return ms.entry(i).Term, nil
}

// LastIndex implements Storage. It never fails.
func (ms *MemoryStorage) LastIndex() (uint64, error) { return ms.lastIndex(), nil }

// FirstIndex implements Storage. It never fails.
func (ms *MemoryStorage) FirstIndex() (uint64, error) { return ms.offset() + 1, nil }

// Snapshot implements Storage. It never fails.
func (ms *MemoryStorage) Snapshot() (raftpb.Snapshot, error) { return ms.heldSnapshot(), nil }

// ApplySnapshot replaces the whole content of the storage with snap: the
// log becomes empty after snap's index and the ConfState becomes snap's.
// The HardState is left alone. A snapshot not newer than the one held (its
// index at or below the held index) is refused with an error wrapping
// ErrSnapOutOfDate.
func (ms *MemoryStorage) ApplySnapshot(snap raftpb.Snapshot) error {
	if held := ms.heldSnapshot().Metadata.Index; snap.Metadata.Index <= held {
		return fmt.Errorf("%w: snapshot at %d offered, holding one at %d",
			ErrSnapOutOfDate, snap.Metadata.Index, held)
	}
	ms.cold = &memoryCold{snapshot: &snap, compacted: entryID{term: snap.Metadata.Term, index: snap.Metadata.Index}}
	ms.setConfState(snap.Metadata.ConfState)
	ms.segs = nil
	ms.base = snap.Metadata.Index + 1
	return nil
}

// CreateSnapshot records a snapshot of the application's state at index i,
// with data as its content, and returns it. If cs is not nil it becomes the
// snapshot's ConfState; otherwise the ConfState held is kept. The log is not
// compacted: call Compact for that. i at or below the held snapshot's index
// is refused with an error wrapping ErrSnapOutOfDate, and i beyond the last
// index with one wrapping ErrUnavailable.
func (ms *MemoryStorage) CreateSnapshot(i uint64, cs *raftpb.ConfState, data []byte) (raftpb.Snapshot, error) {
	snap := ms.heldSnapshot()
	if held := snap.Metadata.Index; i <= held {
		return raftpb.Snapshot{}, fmt.Errorf("%w: snapshot at %d asked for, holding one at %d",
			ErrSnapOutOfDate, i, held)
	}
	term, err := ms.Term(i)
	if err != nil {
		return raftpb.Snapshot{}, fmt.Errorf("cannot snapshot at %d: %w", i, err)
	}
	snap.Metadata.Index = i
	snap.Metadata.Term = term
	if cs != nil {
		snap.Metadata.ConfState = *cs
		ms.setConfState(*cs)
	}
	snap.Data = data
	ms.coldState().snapshot = &snap
	return snap, nil
}

// Compact discards the entries up to and including compactIndex, keeping
// only the term of the last one. The application compacts only entries it
// has applied, covered by a snapshot, and whose write the node has been
// told of: until then storage may still hold an older entry at that index,
// which the node's unstable tail shadows. compactIndex at or below the current
// compaction point is refused with an error wrapping ErrCompacted, and one
// beyond the last index with an error wrapping ErrUnavailable.
//
// Compact drops the segments it compacts whole and copies no entry: the
// entries it keeps stay where they are.
func (ms *MemoryStorage) Compact(compactIndex uint64) error {
	if compactIndex <= ms.offset() {
		return fmt.Errorf("%w: compaction at %d asked for, already compacted up to %d",
			ErrCompacted, compactIndex, ms.offset())
	}
	if compactIndex > ms.lastIndex() {
		return fmt.Errorf("%w: compaction at %d asked for, last index is %d",
			ErrUnavailable, compactIndex, ms.lastIndex())
	}
	term, _ := ms.Term(compactIndex)
	ms.coldState().compacted = entryID{term: term, index: compactIndex}
	ms.dropSegmentsBefore(compactIndex + 1)
	return nil
}

// Append writes entries to the log. Entries at or below the compaction
// point are skipped; an entry at an index the log already holds replaces
// it together with everything after it. The entries are copied, so the
// caller may reuse its slice (but not the entries' Data). It returns an
// error wrapping ErrMalformedEntries, leaving the storage unchanged, if the
// entries are not contiguous (each index one past the one before, terms
// never decreasing), would leave a gap after the last index, or start with
// a term below the term they follow.
func (ms *MemoryStorage) Append(entries []raftpb.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := checkEntriesContiguous(idOf(&entries[0]), entries[1:]); err != nil {
		return err
	}
	first := ms.offset() + 1
	if last := entries[len(entries)-1].Index; last < first {
		return nil // all compacted
	}
	if entries[0].Index < first {
		entries = entries[first-entries[0].Index:]
	}
	from := entries[0].Index
	if from > ms.lastIndex()+1 {
		return fmt.Errorf("%w: entries from %d leave a gap after the last index %d",
			ErrMalformedEntries, from, ms.lastIndex())
	}
	if prev, _ := ms.Term(from - 1); prev > entries[0].Term {
		return fmt.Errorf("%w: entry at %d has term %d below the term %d before it",
			ErrMalformedEntries, from, entries[0].Term, prev)
	}
	if from <= ms.lastIndex() {
		ms.truncateFrom(from)
	}
	ms.appendAtEnd(entries)
	return nil
}
