package core

import "github.com/tickraft/raft/raftpb"

// Storage is the node's read access to the stable part of its log: the
// entries and snapshot the application has made durable. The node never
// writes through Storage; the application writes what each Ready asks
// (MemoryStorage offers Append, ApplySnapshot and friends for that) and
// acknowledges it, after which the node reads it back from here. The
// entries a Ready hands out to persist are valid until the next Advance
// when the node reuses its entry arrays (Config.ReuseEntryArrays): a
// Storage that keeps them in memory copies the Entry values, as
// MemoryStorage.Append does.
//
// The stable log is the run of entries FirstIndex() through LastIndex(),
// preceded by a compacted prefix of which only the term of its last entry
// (at FirstIndex()-1) is kept, and a snapshot of the application's state
// that should cover at least that prefix. A fresh storage has compacted
// nothing: FirstIndex is 1, LastIndex is 0 and the term at index 0 is 0.
//
// Errors other than those named below are passed up to the caller. The node
// cannot work without knowing where its log begins and ends, so FirstIndex,
// LastIndex and Term(LastIndex()) must not fail once the node has been
// created from the storage; if they do, the node panics naming that contract.
type Storage interface {
	// InitialState returns the persisted HardState and the ConfState the
	// node starts from: the membership of the latest snapshot, or for a new
	// cluster the first members. Conf changes in later entries are not
	// part of it; the node learns them again as it applies those entries.
	InitialState() (raftpb.HardState, raftpb.ConfState, error)

	// Entries returns entries with indexes from lo on, in order: a prefix
	// of [lo, hi). The prefix is no longer than the longest one whose
	// payload (the sum of len(Data)) fits in maxSize, and holds at least
	// one entry when lo < hi; maxSize 0 asks for exactly one entry. It may
	// be shorter than maxSize allows, where the storage's own layout ends
	// (MemoryStorage stops at the end of a segment), so a caller that needs
	// all of [lo, hi) asks again from where the result ends, as the node
	// does. It returns an error wrapping ErrCompacted if lo < FirstIndex()
	// and one wrapping ErrUnavailable if hi > LastIndex()+1. The caller
	// must not modify the returned slice or its entries.
	Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error)

	// Term returns the term of the entry at index i, for i in
	// [FirstIndex()-1, LastIndex()]; the term at FirstIndex()-1 is the
	// snapshot's. Below that range it returns an error wrapping
	// ErrCompacted, above it one wrapping ErrUnavailable.
	Term(i uint64) (uint64, error)

	// LastIndex returns the index of the last entry held, or the snapshot's
	// index if no entry follows the snapshot.
	LastIndex() (uint64, error)

	// FirstIndex returns the index of the first entry that can be read
	// through Entries: one past the snapshot's index. Older entries were
	// compacted away.
	FirstIndex() (uint64, error)

	// Snapshot returns the most recent snapshot. Its index should be at
	// least FirstIndex()-1, or a follower that needs compacted entries
	// cannot be caught up. It may return an error
	// wrapping ErrSnapshotTemporarilyUnavailable while the snapshot is being
	// made; the node then retries later.
	Snapshot() (raftpb.Snapshot, error)
}

// SnapshotSizer is an optional interface of a Storage, for the chunked
// snapshot transfer (Config.SnapshotChunkSize): a Storage that keeps its
// snapshot's data on disk, and whose Snapshot returns the metadata with
// nil Data, reports the data's size here, so that the leader can offer
// the snapshot in chunks without holding it in memory. The chunks are
// then read by the application's snapshot worker, from disk. Without it
// the leader counts the chunks from len(Snapshot().Data).
type SnapshotSizer interface {
	// SnapshotSize returns the metadata of the snapshot Snapshot returns
	// and the length in bytes of its data. An error, or metadata of
	// another snapshot, makes the node count len(Snapshot().Data).
	SnapshotSize() (raftpb.SnapshotMetadata, uint64, error)
}
