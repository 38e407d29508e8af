package wal

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/tickraft/raft/raftpb"
)

// This file holds the segment lifecycle: rollover to a new segment and
// release of the segments a snapshot covers.

// rollover syncs the last segment and starts the next, large enough to
// take a write of need bytes after its head.
func (w *WAL) rollover(need int64) error {
	if err := w.sync(); err != nil {
		return err
	}
	old := w.f
	next := segment{seq: w.segs[len(w.segs)-1].seq + 1, firstIndex: w.shape.last + 1}
	if err := w.startSegment(next, w.size, need); err != nil {
		return w.fail(err)
	}
	if err := old.Close(); err != nil {
		return w.fail(err)
	}
	w.logger.Info("wal: started a segment", "file", filepath.Join(w.dir, next.name()))
	return nil
}

// startSegment creates segment s, headed by its segment head, the current
// hard state and snapshot marker, with room for need more bytes, and makes
// it the one written to. prevEnd is where the previous segment's records
// end (it is synced that far). The head makes every segment carry the
// log's state as of its creation, so that removing the segments before it
// loses nothing but entries.
func (w *WAL) startSegment(s segment, prevEnd, need int64) error {
	head, size := w.segmentHeadBytes(s, prevEnd, need)
	f, err := w.createSegment(s, head, size)
	if err != nil {
		return err
	}
	first := s.seq
	if len(w.segs) > 0 {
		first = w.segs[0].seq
	}
	if err := w.writeManifest(manifest{first: first, last: s.seq}); err != nil {
		return errors.Join(err, f.Close())
	}
	w.f, w.size, w.synced, w.alloc = f, int64(len(head)), int64(len(head)), size
	w.segs = append(w.segs, s)
	return nil
}

// segmentHeadBytes returns the records that open segment s and the size
// to create it with: Options.SegmentBytes, or more when the head and a
// write of need bytes take more.
func (w *WAL) segmentHeadBytes(s segment, prevEnd, need int64) ([]byte, int64) {
	h := segmentHead{version: FormatVersion, group: w.opts.GroupID, seq: s.seq, firstIndex: s.firstIndex, prevEnd: prevEnd}
	encode := func() []byte {
		head, _ := appendRecord(nil, recSegment, func(b []byte) []byte { return appendSegmentHead(b, h) })
		st := stamp{group: w.opts.GroupID}
		if !w.hs.IsEmpty() {
			head, _ = appendRecord(head, recHardState, func(b []byte) []byte { return w.hs.AppendMarshal(appendStamp(b, st)) })
		}
		if !emptyMeta(&w.snap) {
			// The marker restates the snapshot the log already starts
			// from: it keeps the entries after it.
			head, _ = appendRecord(head, recSnapshot, func(b []byte) []byte {
				return appendSnapshotMarker(appendStamp(b, st), &w.snap, true)
			})
		}
		return head
	}
	// The size is part of the head; a second pass settles its varint.
	h.size = w.opts.SegmentBytes
	head := encode()
	if int64(len(head))+need > h.size {
		h.size = int64(len(head)) + need + 16
		head = encode()
	}
	return head, h.size
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
	if w.err != nil {
		return w.err
	}
	if index > w.snap.Index {
		return fmt.Errorf("wal: cannot release up to %d: the last snapshot marker is at %d", index, w.snap.Index)
	}
	n := 0
	for n+1 < len(w.segs) && w.segs[n+1].firstIndex-1 <= index {
		n++
	}
	if n == 0 {
		return nil
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
		w.logger.Info("wal: released a segment", "file", path, "upTo", index)
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
