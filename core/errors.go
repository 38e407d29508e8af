package core

import "errors"

// The sentinel errors of the log layer. Functions wrap them with detail
// (fmt.Errorf("%w: ...")), so test for them with errors.Is, never with ==.
var (
	// ErrCompacted means the requested index lies below the first index of
	// the log: the entries were compacted away and only a snapshot stands
	// for them now.
	ErrCompacted = errors.New("requested index is unavailable due to compaction")

	// ErrSnapOutOfDate means a snapshot was offered that is not newer than
	// the one already held, or was asked for at an index the held snapshot
	// already covers.
	ErrSnapOutOfDate = errors.New("requested index is older than the existing snapshot")

	// ErrUnavailable means the requested entries are not in storage: the
	// index lies beyond the last index.
	ErrUnavailable = errors.New("requested entry at index is unavailable")

	// ErrSnapshotTemporarilyUnavailable means the snapshot is being made and
	// cannot be returned now; the caller should retry later.
	ErrSnapshotTemporarilyUnavailable = errors.New("snapshot is temporarily unavailable")

	// ErrMalformedEntries means a run of entries does not form a piece of
	// a log: indexes are not consecutive, a term decreases, or the run does
	// not join the log it is meant to extend.
	ErrMalformedEntries = errors.New("malformed entries")

	// ErrCommittedConflict means an append would overwrite an entry that is
	// already committed. A correct leader never asks for that (§5.4), so the
	// sender is faulty or malicious; the log is left as it was.
	ErrCommittedConflict = errors.New("append conflicts with a committed entry")
)
