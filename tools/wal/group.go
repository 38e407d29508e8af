package wal

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/tickraft/raft/raftpb"
)

// This file holds what the log remembers of each group it holds, and the
// checking and encoding of a batch of updates: one group's in a log of
// one group, several groups' in a shared log.

// Update is what one Ready of one group asks a shared log to persist: the
// same parts, in the same order, that Storage.Persist and WAL.Save take.
type Update struct {
	// Group is the Raft group the update belongs to.
	Group uint64
	// Snapshot, when not nil, is the metadata of a snapshot the group
	// installed or took, whose data is durable already (package
	// snapfile). Its marker is written first; the entries after its index
	// survive it when the group's log holds its index with its term, as
	// for WAL.SaveSnapshot. A marker older than the group's last is
	// refused.
	Snapshot *raftpb.SnapshotMetadata
	// Entries replace the group's log from Entries[0].Index on; their
	// indexes must be consecutive, after the group's snapshot, and leave
	// no hole after its last index.
	Entries []raftpb.Entry
	// HardState is written after the entries when it is not empty and
	// differs from the group's last.
	HardState raftpb.HardState
}

// groupState is what the log remembers of one group: its last hard state
// and snapshot marker, the shape of its log, and, in a shared log, how far
// the group let its entries go (ReleaseTo).
type groupState struct {
	hs    raftpb.HardState
	snap  raftpb.SnapshotMetadata
	shape logShape
	// released is the highest index the group released: no entry of it up
	// to there is needed, a snapshot marker covers them.
	released uint64
}

// groupWrite is one update checked against its group's state: the records
// it writes.
type groupWrite struct {
	group   uint64
	snap    *raftpb.SnapshotMetadata
	keepLog bool
	ents    []raftpb.Entry
	hs      raftpb.HardState
	writeHS bool
}

// plan checks every update of batch, in order, against the state its
// group is in after the updates before it, and leaves in w.writes what
// each writes and in w.work the state each group touched ends in. It
// changes no group's state: a refused batch changes nothing.
func (w *WAL) plan(batch []Update) error {
	clear(w.workAt)
	w.work, w.writes = w.work[:0], w.writes[:0]
	for i := range batch {
		u := &batch[i]
		k, ok := w.workAt[u.Group]
		if !ok {
			k = w.startWork(u.Group)
		}
		wr, err := w.work[k].apply(u)
		if err == nil {
			err = w.checkTombstone(u)
		}
		if err != nil {
			if w.shared {
				return fmt.Errorf("%w (group %d)", err, u.Group)
			}
			return err
		}
		w.writes = append(w.writes, wr)
	}
	return nil
}

// startWork copies group's state into the next scratch slot of w.work and
// returns the slot. The copy's runs live in the slot's own array, reused
// from batch to batch: the group's own must stay as they are until the
// write succeeds, and a save allocates nothing once the arrays are grown.
func (w *WAL) startWork(group uint64) int {
	k := len(w.work)
	if k < cap(w.work) {
		w.work = w.work[:k+1]
	} else {
		w.work = append(w.work, groupState{})
	}
	slot := &w.work[k]
	runs := slot.shape.runs[:0]
	*slot = groupState{}
	if cur := w.groups[group]; cur != nil {
		*slot = *cur
	}
	slot.shape.runs = append(runs, slot.shape.runs...)
	w.workAt[group] = k
	return k
}

// apply checks u against the group's state and moves the state past it.
func (g *groupState) apply(u *Update) (groupWrite, error) {
	wr := groupWrite{group: u.Group, snap: u.Snapshot, ents: u.Entries, hs: u.HardState}
	if u.Snapshot != nil {
		if u.Snapshot.Index < g.snap.Index {
			return wr, fmt.Errorf("wal: snapshot at %d is older than the snapshot at %d", u.Snapshot.Index, g.snap.Index)
		}
		wr.keepLog = g.shape.snapshot(u.Snapshot.Index, u.Snapshot.Term)
	}
	if err := g.shape.checkAppend(u.Entries); err != nil {
		return wr, err
	}
	wr.writeHS = !u.HardState.IsEmpty() && u.HardState != g.hs
	g.shape.append(u.Entries)
	if u.Snapshot != nil {
		g.snap = *u.Snapshot
	}
	if !u.HardState.IsEmpty() {
		g.hs = u.HardState
	}
	return wr, nil
}

// empty reports whether the group holds nothing: no hard state, snapshot
// marker or entry.
func (g *groupState) empty() bool {
	return g.hs.IsEmpty() && emptyMeta(&g.snap) && g.shape.last == 0
}

// commitPlan makes the states plan computed the groups' own, once the
// batch is written, copying the runs into each group's own array.
func (w *WAL) commitPlan() {
	for id, k := range w.workAt {
		cur := w.groups[id]
		if _, dropped := w.tombs[id]; cur == nil && dropped && w.work[k].empty() {
			continue // a dropped group that wrote nothing stays dropped
		}
		if cur == nil {
			cur = &groupState{}
			w.groups[id] = cur
		}
		runs := cur.shape.runs[:0]
		*cur = w.work[k]
		cur.shape.runs = append(runs, w.work[k].shape.runs...)
	}
	clear(w.writes) // the caller's entries are not kept
	w.writes = w.writes[:0]
}

// encodeBatch returns the records of the planned writes in w.buf, in
// order, each stamped with its group and the bytes of the segment synced
// so far: for each update a snapshot marker, then the entries, then the
// hard state, the order of the persistence contract (a hard state is
// never durable before the entries and snapshot of its Ready), so that a
// crash that tears the write keeps a prefix of it.
func (w *WAL) encodeBatch() ([]byte, error) {
	buf := w.buf[:0]
	var err error
	for i := range w.writes {
		if buf, err = w.writes[i].encode(buf, w.synced); err != nil {
			return nil, err
		}
	}
	w.buf = buf
	return buf, nil
}

// encode appends the records of one update.
func (wr *groupWrite) encode(buf []byte, synced int64) ([]byte, error) {
	st := stamp{group: wr.group, synced: synced}
	var err error
	if wr.snap != nil {
		buf, err = appendRecord(buf, recSnapshot, func(b []byte) []byte {
			return appendSnapshotMarker(appendStamp(b, st), wr.snap, wr.keepLog)
		})
		if err != nil {
			return nil, err
		}
	}
	if len(wr.ents) > 0 {
		buf, err = appendRecord(buf, recEntries, func(b []byte) []byte { return appendEntries(appendStamp(b, st), wr.ents) })
		if err != nil {
			return nil, err
		}
	}
	if wr.writeHS {
		buf, _ = appendRecord(buf, recHardState, func(b []byte) []byte { return wr.hs.AppendMarshal(appendStamp(b, st)) })
	}
	return buf, nil
}

// groupIDs returns the groups the log holds, in increasing order, so that
// a segment head restates them in an order that does not depend on map
// iteration.
func (w *WAL) groupIDs() []uint64 {
	return slices.SortedFunc(maps.Keys(w.groups), cmp.Compare[uint64])
}

// nextSegment returns segment seq as it would be created now: in a log of
// one group named by the index after the log's last, in a shared log with
// each group's index after its last.
func (w *WAL) nextSegment(seq uint64) segment {
	if !w.shared {
		return segment{seq: seq, firstIndex: w.groups[w.opts.GroupID].shape.last + 1}
	}
	s := segment{seq: seq, shared: true, firsts: make(map[uint64]uint64, len(w.groups))}
	for id, g := range w.groups {
		s.firsts[id] = g.shape.last + 1
	}
	return s
}

// needsBefore reports whether some group still needs a record of a
// segment older than s: an entry below its first index in s that the
// group has not released. Hard states and snapshot markers are never
// needed there: s restates every group's.
func (w *WAL) needsBefore(s segment) bool {
	if !w.shared {
		return s.firstIndex-1 > w.groups[w.opts.GroupID].released
	}
	for id, first := range s.firsts {
		g := w.groups[id]
		if g == nil || first-1 > g.released {
			return true
		}
	}
	return false
}

// pinning returns the groups that need a record in the oldest segment
// some group needs (those for which needsBefore holds of the next one),
// with the index each must release up to, sorted by group. Segments
// before it that no group needs are skipped: the next release of any
// group deletes them.
func (w *WAL) pinning() []Pin {
	if w.err != nil || !w.shared {
		return nil
	}
	n := 0
	for n+1 < len(w.segs) && !w.needsBefore(w.segs[n+1]) {
		n++
	}
	if n+1 >= len(w.segs) {
		return nil
	}
	var out []Pin
	for id, first := range w.segs[n+1].firsts {
		if g := w.groups[id]; g == nil || first-1 > g.released {
			out = append(out, Pin{Group: id, Index: first - 1})
		}
	}
	slices.SortFunc(out, func(a, b Pin) int { return cmp.Compare(a.Group, b.Group) })
	return out
}
