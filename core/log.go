package core

import (
	"errors"
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// raftLog is a node's log: the stable part the application has written
// (storage) followed by the unstable tail it has not yet acknowledged, plus
// the bookkeeping of what is committed, handed out to apply and applied.
//
// Invariants (checked by checkInvariants): applied <= applying <= committed
// <= lastIndex(), and firstIndex()-1 <= committed.
type raftLog struct {
	// committed is the highest index known to be stored on a quorum
	// (§5.3); entries up to it never change.
	committed uint64
	// applying is the highest index handed out to the application to apply.
	applying uint64
	// unstable holds what the node has but the application has not yet
	// acknowledged as durable. It shadows storage from unstable.offset on.
	// Its tail (the recent entries) and the fields below are what an
	// idle node does not read (Raft's doc).
	unstable unstable
	// storage holds the entries the application has made durable.
	storage Storage
	// applied is the highest index the application has acknowledged as
	// applied.
	applied uint64
	// bounds are the limits of what is handed out to apply, shared with
	// the node's settings.
	bounds *applyBounds
	// applyingEntsSize is the payload handed out to apply and not yet
	// acknowledged.
	applyingEntsSize uint64
	// applyingEntsPaused reports whether no more committed entries are
	// handed out until the application acknowledges some: set when the
	// outstanding payload reaches the budget or a batch had to be cut.
	applyingEntsPaused bool
}

// applyBounds are the limits of the committed entries a log hands out to
// apply (Config.MaxCommittedSizePerReady, MaxCommittedEntriesPerReady).
type applyBounds struct {
	// maxSize bounds the payload bytes handed out to apply and not yet
	// acknowledged. A batch is cut to what is left of the budget but
	// always carries one entry; 0 thus means one entry per batch.
	maxSize uint64
	// maxEntries bounds the number of committed entries one batch hands
	// out to apply; 0 means no bound by count.
	maxEntries uint64
}

// newLog returns the log held by storage, with nothing unstable and
// everything up to the compaction point taken as committed and applied,
// handing out committed entries within bounds. Errors from storage, and a
// storage whose indexes make no sense, are returned.
func newLog(storage Storage, bounds *applyBounds) (*raftLog, error) {
	l := &raftLog{}
	if err := l.init(storage, bounds); err != nil {
		return nil, err
	}
	return l, nil
}

// init builds into l the log newLog returns (a Raft holds its log inline).
func (l *raftLog) init(storage Storage, bounds *applyBounds) error {
	first, err := storage.FirstIndex()
	if err != nil {
		return fmt.Errorf("reading the first index from storage: %w", err)
	}
	last, err := storage.LastIndex()
	if err != nil {
		return fmt.Errorf("reading the last index from storage: %w", err)
	}
	if first == 0 || first > last+1 {
		return fmt.Errorf("storage has first index %d and last index %d; want 1 <= first <= last+1",
			first, last)
	}
	if _, err := storage.Term(last); err != nil {
		return fmt.Errorf("reading the term of the last index %d from storage: %w", last, err)
	}
	*l = raftLog{
		storage:   storage,
		committed: snapshotCommitted(storage, first, last),
		applying:  first - 1,
		applied:   first - 1,
		bounds:    bounds,
	}
	l.unstable.offset = last + 1
	l.unstable.offsetInProgress = last + 1
	return nil
}

// snapshotCommitted returns the highest index a restarting log knows to
// be committed from its storage alone: its storage's snapshot, which holds
// only committed state, even when the application has not compacted the
// log up to it (in the asynchronous mode the durable commit index may lag
// the snapshot), or else the entry before its first.
func snapshotCommitted(storage Storage, first, last uint64) uint64 {
	snap, err := storage.Snapshot()
	if err != nil {
		return first - 1
	}
	return max(first-1, min(snap.Metadata.Index, last))
}

// brokenStorage returns the panic message for a Storage method that failed
// where the Storage contract says it must not.
func brokenStorage(method string, err error) string {
	return fmt.Sprintf("invariant violated: Storage.%s must not fail once the node runs: %v", method, err)
}

// firstIndex returns the index of the first entry that can be read.
func (l *raftLog) firstIndex() uint64 {
	if i, ok := l.unstable.maybeFirstIndex(); ok {
		return i
	}
	i, err := l.storage.FirstIndex()
	if err != nil {
		panic(brokenStorage("FirstIndex", err))
	}
	return i
}

// lastIndex returns the index of the last entry, or of the snapshot if no
// entry follows it. The log knows it without asking Storage: when nothing
// is unstable, the last entry is the one before the unstable offset, the
// last the application acknowledged as written (Storage holds exactly
// what the node handed out and it acknowledged; the checked mode verifies
// it).
func (l *raftLog) lastIndex() uint64 {
	if i, ok := l.unstable.maybeLastIndex(); ok {
		return i
	}
	return l.unstable.offset - 1
}

// lastEntryID returns the ID of the last entry (or of the snapshot).
func (l *raftLog) lastEntryID() entryID {
	i := l.lastIndex()
	t, err := l.term(i)
	if err != nil {
		panic(brokenStorage("Term(LastIndex())", err))
	}
	return entryID{term: t, index: i}
}

// term returns the term of the entry at index i, for i in
// [firstIndex()-1, lastIndex()]. Below that it returns an error wrapping
// ErrCompacted, above it one wrapping ErrUnavailable. Index 0 stands for
// the empty log prefix every log shares, so its term is always 0.
func (l *raftLog) term(i uint64) (uint64, error) {
	if i == 0 {
		return 0, nil
	}
	if t, ok := l.unstable.maybeTerm(i); ok {
		return t, nil
	}
	if first := l.firstIndex(); i+1 < first {
		return 0, fmt.Errorf("%w: term of %d asked for, first index is %d", ErrCompacted, i, first)
	}
	if last := l.lastIndex(); i > last {
		return 0, fmt.Errorf("%w: term of %d asked for, last index is %d", ErrUnavailable, i, last)
	}
	return l.storage.Term(i)
}

// matchTerm reports whether the log holds the entry id.
func (l *raftLog) matchTerm(id entryID) bool {
	t, err := l.term(id.index)
	return err == nil && t == id.term
}

// isUpToDate reports whether a log ending at their is at least as
// up-to-date as this one, the condition for granting a vote (§5.4.1): a
// later last term, or the same last term and a log at least as long.
func (l *raftLog) isUpToDate(their entryID) bool {
	our := l.lastEntryID()
	return their.term > our.term || (their.term == our.term && their.index >= our.index)
}

// findConflict returns the index of the first entry of ents that this log
// does not hold: it has another term there, or no entry at all. It returns
// 0 if the log holds every entry of ents. Entries below firstIndex are
// taken to match: they are covered by a snapshot, which holds only
// committed entries. A storage error other than ErrCompacted and
// ErrUnavailable is returned with the index where it was met.
func (l *raftLog) findConflict(ents []raftpb.Entry) (uint64, error) {
	last := l.lastIndex()
	for i := range ents {
		if ents[i].Index > last {
			// Beyond our log: new, no need to ask term (and build an error).
			return ents[i].Index, nil
		}
		t, err := l.term(ents[i].Index)
		switch {
		case errors.Is(err, ErrCompacted):
			continue
		case errors.Is(err, ErrUnavailable):
			return ents[i].Index, nil
		case err != nil:
			return ents[i].Index, err
		case t != ents[i].Term:
			return ents[i].Index, nil
		}
	}
	return 0, nil
}

// committedConflict refuses entries that contradict committed ones, with
// an error wrapping ErrCommittedConflict: by Leader Completeness (§5.4) no
// correct leader sends them. It is the one check of that rule; entries it
// lets through never replace a committed entry (maybeAppend asserts it).
// A compacted entry is committed and applied, and so taken to match.
func (l *raftLog) committedConflict(ents []raftpb.Entry) error {
	for i := range ents {
		e := &ents[i]
		if e.Index > l.committed {
			return nil
		}
		if t, err := l.term(e.Index); err == nil && t != e.Term {
			return fmt.Errorf("%w: entry %d/%d, committed term %d", ErrCommittedConflict, e.Term, e.Index, t)
		}
	}
	return nil
}

// findConflictByTerm returns the largest index at or below index (and at
// or below lastIndex()) whose term is at most term, together with that
// term. It is the fast backtracking of a rejected append (§5.3, thesis
// §3.5 "optimization"): every index above it cannot match a log whose
// entry at index has the given term. The search stops at firstIndex()-1,
// whose index and term are then returned even if that term is larger. If
// the term of index cannot be read (compacted, or a storage error) it
// returns index and term 0.
func (l *raftLog) findConflictByTerm(index, term uint64) (uint64, uint64) {
	index = min(index, l.lastIndex())
	stop := l.firstIndex() - 1
	for {
		t, err := l.term(index)
		if err != nil {
			return index, 0
		}
		if t <= term || index <= stop {
			return index, t
		}
		index--
	}
}

// maybeAppend handles the entries of an append request whose entries
// follow prev and whose sender has committed up to committed (§5.3). If the
// log does not hold prev it changes nothing and returns ok false. Otherwise
// it truncates the log at the first conflicting entry, appends the rest,
// advances the commit index as far as the sender's commit and the new
// entries allow, and returns the index of the last new entry, the first
// index whose entry it replaced with one of another term (overwrote, 0:
// none; entries of the log from there on were dropped, durable or not)
// and ok true. A storage error changes nothing. The caller has checked
// ents with checkEntriesContiguous and committedConflict, and answers a
// prev below its commit index itself (a compacted prev never matches
// here); with the tickraft_invariants tag a conflict at or below the
// commit index panics.
func (l *raftLog) maybeAppend(prev entryID, committed uint64, ents []raftpb.Entry) (lastNewIndex, overwrote uint64, ok bool, err error) {
	if !l.matchTerm(prev) {
		return 0, 0, false, nil
	}
	lastNew := prev.index + uint64(len(ents))
	lastBefore := l.lastIndex()
	ci, err := l.findConflict(ents)
	if err != nil {
		return 0, 0, false, err
	}
	if assertInvariants && ci != 0 && ci <= l.committed {
		panic(fmt.Sprintf("invariant violated: entry %d of term %d would replace a committed one (committed up to %d); committedConflict lets none through",
			ci, ents[ci-ents[0].Index].Term, l.committed))
	}
	if ci != 0 {
		l.unstable.appendReceived(ents[ci-ents[0].Index:])
	}
	l.commitTo(min(committed, lastNew))
	if ci != 0 && ci <= lastBefore {
		overwrote = ci
	}
	return lastNew, overwrote, true, nil
}

// append adds the leader's own new entries, which must be contiguous and
// follow an index between the commit index and the last index, and
// returns the new last index.
func (l *raftLog) append(ents ...raftpb.Entry) uint64 {
	if len(ents) == 0 {
		return l.lastIndex()
	}
	if after := ents[0].Index - 1; after < l.committed || after > l.lastIndex() {
		panic(fmt.Sprintf("invariant violated: append after %d must lie in [committed %d, last index %d]",
			after, l.committed, l.lastIndex()))
	}
	l.unstable.truncateAndAppend(ents)
	return l.lastIndex()
}

// commitTo raises the commit index to tocommit; it never lowers it. The
// caller has checked that tocommit is at most lastIndex().
func (l *raftLog) commitTo(tocommit uint64) {
	if tocommit <= l.committed {
		return
	}
	if last := l.lastIndex(); tocommit > last {
		panic(fmt.Sprintf("invariant violated: commit index %d beyond the last index %d", tocommit, last))
	}
	l.committed = tocommit
}

// maybeCommit commits up to at.index if that is above the commit index and
// the log holds at there, and reports whether it did. The leader passes its
// current term: only an entry of its own term is committed by counting
// replicas (§5.4.2).
func (l *raftLog) maybeCommit(at entryID) bool {
	if at.index <= l.committed || !l.matchTerm(at) {
		return false
	}
	l.commitTo(at.index)
	return true
}

// appliedTo records that the application has applied the entries up to i
// (at most the commit index), whose payload of size bytes was handed out by
// nextCommittedEnts. The applied index never decreases: an older
// acknowledgement only releases its bytes.
func (l *raftLog) appliedTo(i uint64, size uint64) {
	if i > l.committed {
		panic(fmt.Sprintf("invariant violated: applied index %d beyond the commit index %d", i, l.committed))
	}
	l.applied = max(l.applied, i)
	l.applying = max(l.applying, i)
	l.unstable.forgetRecentUpTo(l.applied)
	l.applyingEntsSize -= min(size, l.applyingEntsSize)
	l.applyingEntsPaused = l.applying > l.applied && l.applyingEntsSize >= l.bounds.maxSize
}

// acceptApplying records that the committed entries up to i, with size
// payload bytes, were handed out to apply. allowUnstable must be what the
// batch was taken with. It pauses handing out when the outstanding payload
// reaches the budget, or when the batch stopped short of what could be
// applied: the next entry would overrun the budget, so it waits for room.
func (l *raftLog) acceptApplying(i uint64, size uint64, allowUnstable bool) {
	if i > l.committed || i < l.applying {
		panic(fmt.Sprintf("invariant violated: handing out entries up to %d outside [applying %d, committed %d]",
			i, l.applying, l.committed))
	}
	l.applying = i
	l.applyingEntsSize += size
	full := l.applyingEntsSize >= l.bounds.maxSize
	cut := i < l.maxAppliableIndex(allowUnstable)
	l.applyingEntsPaused = l.applying > l.applied && (full || cut)
}

// maxAppliableIndex returns the highest index that may be handed out to
// apply: the commit index, or if unstable entries may not be applied yet,
// no further than the last stable index.
func (l *raftLog) maxAppliableIndex(allowUnstable bool) uint64 {
	if allowUnstable {
		return l.committed
	}
	return min(l.committed, l.unstable.offset-1)
}

// stableTo records that the application has written the entries up to id.
func (l *raftLog) stableTo(id entryID) { l.unstable.stableTo(id) }

// stableSnapTo records that the application has written the snapshot at i.
func (l *raftLog) stableSnapTo(i uint64) { l.unstable.stableSnapTo(i) }

// acceptUnstable records that everything unstable was handed out to be
// written.
func (l *raftLog) acceptUnstable() { l.unstable.acceptInProgress() }

// hasNextUnstableEnts reports whether there are unstable entries not yet
// handed out to be written.
func (l *raftLog) hasNextUnstableEnts() bool { return len(l.nextUnstableEnts()) > 0 }

// nextUnstableEnts returns the unstable entries not yet handed out to be
// written. The caller must not modify them.
func (l *raftLog) nextUnstableEnts() []raftpb.Entry { return l.unstable.nextEntries() }

// hasNextOrInProgressUnstableEnts reports whether any entries are unstable,
// handed out or not.
func (l *raftLog) hasNextOrInProgressUnstableEnts() bool { return len(l.unstable.entries) > 0 }

// hasNextUnstableSnapshot reports whether an unstable snapshot waits to be
// handed out to be written.
func (l *raftLog) hasNextUnstableSnapshot() bool { return l.unstable.nextSnapshot() != nil }

// nextUnstableSnapshot returns the unstable snapshot if it was not yet
// handed out to be written, or nil.
func (l *raftLog) nextUnstableSnapshot() *raftpb.Snapshot { return l.unstable.nextSnapshot() }

// hasNextOrInProgressSnapshot reports whether a snapshot is unstable,
// handed out or not. Committed entries wait for it to be applied.
func (l *raftLog) hasNextOrInProgressSnapshot() bool { return l.unstable.snapshot != nil }

// nextApplyRange returns the indexes [lo, hi) that nextCommittedEnts may
// hand out, and the payload budget for them.
func (l *raftLog) nextApplyRange(allowUnstable bool) (lo, hi, budget uint64) {
	if l.applyingEntsPaused || l.hasNextOrInProgressSnapshot() {
		return 0, 0, 0
	}
	lo, hi = l.applying+1, l.maxAppliableIndex(allowUnstable)+1
	if lo >= hi {
		return 0, 0, 0
	}
	if l.bounds.maxEntries > 0 {
		hi = min(hi, lo+l.bounds.maxEntries)
	}
	return lo, hi, l.bounds.maxSize - min(l.applyingEntsSize, l.bounds.maxSize)
}

// hasNextCommittedEnts reports whether nextCommittedEnts would return
// entries. It does not read storage.
func (l *raftLog) hasNextCommittedEnts(allowUnstable bool) bool {
	lo, hi, _ := l.nextApplyRange(allowUnstable)
	return lo < hi
}

// nextCommittedEnts returns the committed entries after applying, up to the
// commit index (or only up to the last stable index unless allowUnstable),
// cut to the payload left in the apply budget but at least one entry. It
// returns nothing while handing out is paused or a snapshot is pending.
// Storage errors are returned. The caller must not modify the entries.
func (l *raftLog) nextCommittedEnts(allowUnstable bool) ([]raftpb.Entry, error) {
	lo, hi, budget := l.nextApplyRange(allowUnstable)
	if lo >= hi {
		return nil, nil
	}
	return l.slice(lo, hi, budget)
}

// snapshot returns the unstable snapshot if there is one, and else the
// storage's.
func (l *raftLog) snapshot() (raftpb.Snapshot, error) {
	if l.unstable.snapshot != nil {
		return *l.unstable.snapshot, nil
	}
	return l.storage.Snapshot()
}

// restore replaces the log by the snapshot s, which the caller has checked
// is beyond the commit index, and commits up to it.
func (l *raftLog) restore(s raftpb.Snapshot) {
	if s.Metadata.Index < l.committed {
		panic(fmt.Sprintf("invariant violated: restoring the snapshot at %d would lower the commit index %d",
			s.Metadata.Index, l.committed))
	}
	l.committed = s.Metadata.Index
	l.unstable.restore(s)
}

// String returns a deterministic one-line summary of the log's indexes.
func (l *raftLog) String() string {
	snap := uint64(0)
	if l.unstable.snapshot != nil {
		snap = l.unstable.snapshot.Metadata.Index
	}
	return fmt.Sprintf("committed=%d applying=%d applied=%d unstable.offset=%d "+
		"unstable.offsetInProgress=%d len(unstable.entries)=%d unstable.snapshot=%d",
		l.committed, l.applying, l.applied, l.unstable.offset,
		l.unstable.offsetInProgress, len(l.unstable.entries), snap)
}

// checkInvariants returns an error naming the first invariant of the log
// (or of its unstable tail) that does not hold, or nil.
func (l *raftLog) checkInvariants() error {
	if err := l.unstable.checkInvariants(); err != nil {
		return err
	}
	// Only what the log holds itself: Storage's first index is the
	// application's (the checked mode checks Storage), so the compaction
	// point is checked only while a snapshot is still unstable.
	last := l.lastIndex()
	first, snap := l.unstable.maybeFirstIndex()
	switch {
	case l.applied > l.applying:
		return fmt.Errorf("raftLog: applied %d above applying %d", l.applied, l.applying)
	case l.applying > l.committed:
		return fmt.Errorf("raftLog: applying %d above committed %d", l.applying, l.committed)
	case l.committed > last:
		return fmt.Errorf("raftLog: committed %d above the last index %d", l.committed, last)
	case snap && first-1 > l.committed:
		return fmt.Errorf("raftLog: snapshot's first index %d above committed %d + 1", first, l.committed)
	}
	return nil
}
