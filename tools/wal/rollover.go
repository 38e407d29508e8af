package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal/walfs"
)

// This file holds the segment lifecycle: rollover to a new segment and
// release of the segments a snapshot covers.

// rollover syncs the last segment, starts the next one, large enough to
// take a write of need bytes after its head, and seals the last one: the
// new segment is made durable first, then the seal written and synced. A
// crash before the seal is durable leaves an unsealed segment, whole up to
// where the new one's head says it was synced, followed by one holding its
// head alone: Open removes that one (nothing was written to it). From the
// seal on, a missing newest segment is visible: the segment before names
// it. Four syncs: the old segment, the new file, the directory, the seal.
func (w *WAL) rollover(need int64) error {
	if err := w.sync(); err != nil {
		return err
	}
	old, oldSize := w.f, w.size
	next := w.nextSegment(w.segs[len(w.segs)-1].seq + 1)
	f, head, size, err := w.newSegment(next, oldSize, need)
	if err != nil {
		return w.fail(err)
	}
	seal, _ := appendRecord(nil, recSeal, func(b []byte) []byte {
		return binary.AppendUvarint(appendStamp(b, stamp{group: w.sealGroup(), synced: oldSize}), next.seq)
	})
	if _, err := old.WriteAt(seal, oldSize); err != nil {
		return w.fail(errors.Join(err, f.Close()))
	}
	if err := w.syncFile(old); err != nil {
		return w.fail(errors.Join(err, f.Close()))
	}
	if err := old.Close(); err != nil {
		return w.fail(errors.Join(err, f.Close()))
	}
	w.f, w.size, w.synced, w.alloc = f, int64(len(head)), int64(len(head)), size
	w.segs = append(w.segs, next)
	w.logger.Info("wal: started a segment", "file", filepath.Join(w.dir, next.name()))
	return nil
}

// dropUnfinishedRollover removes the newest segment when a crash
// interrupted the rollover that created it: it holds its head alone
// (records a segment is created with carry a stamp of zero synced bytes),
// and the segment before it is not sealed but whole up to where that head
// says it was synced. Nothing was ever written to it. A segment before it
// that ends short of that is lost data, which Open reports.
func (w *WAL) dropUnfinishedRollover(segs []segment) ([]segment, error) {
	if len(segs) < 2 {
		return segs, nil
	}
	newest := filepath.Join(w.dir, segs[len(segs)-1].name())
	data, err := w.fs.ReadFile(newest)
	if err != nil {
		return nil, err
	}
	res := scanRecords(data)
	if res.dataEnd > res.end || len(res.records) == 0 || res.records[0].typ != recSegment {
		return segs, nil
	}
	h, err := decodeSegmentHead(res.records[0].payload)
	if err != nil {
		return segs, nil
	}
	for _, rec := range res.records[1:] {
		if rec.stamp.synced != 0 {
			return segs, nil
		}
	}
	prev, err := w.fs.ReadFile(filepath.Join(w.dir, segs[len(segs)-2].name()))
	if err != nil {
		return nil, err
	}
	pres := scanRecords(prev)
	if recs := pres.records; pres.end != h.prevEnd || len(recs) > 0 && recs[len(recs)-1].typ == recSeal {
		return segs, nil
	}
	w.logger.Warn("wal: removing a segment whose creation a crash interrupted", "file", newest)
	if err := w.fs.Remove(newest); err != nil {
		return nil, err
	}
	return segs[:len(segs)-1], w.fs.SyncDir(w.dir)
}

// startFirstSegment creates the first segment of a new log and the
// manifest naming it, and makes it the one written to.
func (w *WAL) startFirstSegment() error {
	s := w.nextSegment(1)
	f, head, size, err := w.newSegment(s, 0, 0)
	if err != nil {
		return err
	}
	if err := w.writeManifest(manifest{first: 1, last: 1}); err != nil {
		return errors.Join(err, f.Close())
	}
	w.f, w.size, w.synced, w.alloc = f, int64(len(head)), int64(len(head)), size
	w.segs = append(w.segs, s)
	return nil
}

// newSegment creates segment s durably, headed by its segment head, the
// current hard state and snapshot marker of every group (after its group
// record, in a shared log) and every tombstone of a dropped group (in a
// shared log), with room for need more bytes.
// prevEnd is where the previous segment's records end before its seal
// (it is synced that far). The head makes
// every segment carry the log's state as of its creation, so that removing
// the segments before it loses nothing but entries.
func (w *WAL) newSegment(s segment, prevEnd, need int64) (walfs.File, []byte, int64, error) {
	head, size := w.segmentHeadBytes(s, prevEnd, need)
	f, err := w.createSegment(s, head, size)
	return f, head, size, err
}

// segmentHeadBytes returns the records that open segment s and the size
// to create it with: Options.SegmentBytes, or more when the head and a
// write of need bytes take more.
func (w *WAL) segmentHeadBytes(s segment, prevEnd, need int64) ([]byte, int64) {
	h := segmentHead{version: singleGroupVersion, group: w.opts.GroupID, seq: s.seq, firstIndex: s.firstIndex, prevEnd: prevEnd}
	if w.shared {
		h = segmentHead{version: FormatVersion, seq: s.seq, prevEnd: prevEnd, shared: true}
	}
	ids := w.headIDs()
	encode := func() []byte {
		head, _ := appendRecord(nil, recSegment, func(b []byte) []byte { return appendSegmentHead(b, h) })
		for _, id := range ids {
			// A tombstone first: a re-created group's state starts from it.
			head = w.appendTombstone(head, id)
			if w.groups[id] != nil {
				head = w.appendGroupHead(head, s, id)
			}
		}
		return head
	}
	// The size is part of the head; a second pass settles its varint.
	h.size = w.opts.SegmentBytes
	head := encode()
	if int64(len(head))+need+sealReserve > h.size {
		h.size = int64(len(head)) + need + sealReserve + 16
		head = encode()
	}
	return head, h.size
}

// appendGroupHead appends what segment s restates of group id: in a
// shared log its group record, then its hard state and snapshot marker.
func (w *WAL) appendGroupHead(head []byte, s segment, id uint64) []byte {
	g := w.groups[id]
	st := stamp{group: id}
	if w.shared {
		head, _ = appendRecord(head, recGroup, func(b []byte) []byte {
			return binary.AppendUvarint(appendStamp(b, st), s.firsts[id])
		})
	}
	if !g.hs.IsEmpty() {
		head, _ = appendRecord(head, recHardState, func(b []byte) []byte { return g.hs.AppendMarshal(appendStamp(b, st)) })
	}
	if !emptyMeta(&g.snap) {
		// The marker restates the snapshot the log already starts
		// from: it keeps the entries after it.
		head, _ = appendRecord(head, recSnapshot, func(b []byte) []byte {
			return appendSnapshotMarker(appendStamp(b, st), &g.snap, true)
		})
	}
	return head
}

// sealGroup is the group a seal's stamp names: the log's in a log of one
// group, zero (no group: a seal holds no group's data) in a shared log.
func (w *WAL) sealGroup() uint64 {
	if w.shared {
		return 0
	}
	return w.opts.GroupID
}

// ReleaseTo deletes the oldest segments as long as every entry they hold
// that is still part of the log has an index of at most index: those
// entries are covered by a snapshot. index may not pass the last snapshot
// marker saved (the marker is what stands in for the deleted entries), and
// the segment being written to is never deleted. Segments go oldest
// first, so a crash halfway leaves an unbroken run.
func (w *WAL) ReleaseTo(index uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.releaseTo(w.opts.GroupID, index)
}

// releaseTo records that group needs no entry up to index and deletes the
// oldest segments as long as no group needs a record in them. w.mu is
// held.
func (w *WAL) releaseTo(group, index uint64) error {
	if w.err != nil {
		return w.err
	}
	g := w.groups[group]
	snapIndex := uint64(0)
	if g != nil {
		snapIndex = g.snap.Index
	}
	if index > snapIndex {
		return fmt.Errorf("wal: cannot release up to %d: the last snapshot marker is at %d", index, snapIndex)
	}
	if g == nil {
		return nil
	}
	g.released = max(g.released, index)
	return w.deleteUnneeded(group, index)
}

// deleteUnneeded deletes the oldest segments as long as no group needs a
// record in them, after a release of group up to index (logged) or a
// drop of group (index 0). w.mu is held.
func (w *WAL) deleteUnneeded(group, index uint64) error {
	n := 0
	for n+1 < len(w.segs) && !w.needsBefore(w.segs[n+1]) {
		n++
	}
	if n == 0 {
		return nil
	}
	// The markers that let the segments go must be durable before they
	// go: a marker saved without a sync could be lost to a crash that
	// keeps the deletions.
	if err := w.sync(); err != nil {
		return err
	}
	// The manifest moves first: a crash halfway leaves old segments below
	// the run it names, which Open tolerates, never a hole in it.
	if err := w.writeManifest(manifest{first: w.segs[n].seq, last: w.segs[len(w.segs)-1].seq}); err != nil {
		return fmt.Errorf("wal: release: %w", err)
	}
	for i := 0; i < n; i++ {
		path := filepath.Join(w.dir, w.segs[0].name())
		if err := w.fs.Remove(path); err != nil {
			return fmt.Errorf("wal: release: %w", err)
		}
		w.segs = w.segs[1:]
		w.logger.Info("wal: released a segment", "file", path, "group", group, "upTo", index)
	}
	return w.fs.SyncDir(w.dir)
}

// emptyMeta reports whether meta is the zero snapshot metadata: no
// snapshot and no configuration saved.
func emptyMeta(meta *raftpb.SnapshotMetadata) bool {
	cs := &meta.ConfState
	return meta.Index == 0 && meta.Term == 0 && len(cs.Voters) == 0 && len(cs.Learners) == 0 &&
		len(cs.VotersOutgoing) == 0 && len(cs.LearnersNext) == 0 && !cs.AutoLeave
}
