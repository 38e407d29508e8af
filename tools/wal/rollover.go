package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// This file holds the segment lifecycle: rollover to a new segment and
// release of the segments a snapshot covers.

// maybeRollover starts a new segment when the last one has grown past
// Options.SegmentBytes.
func (w *WAL) maybeRollover() error {
	if w.size < w.opts.SegmentBytes {
		return nil
	}
	if err := w.sync(); err != nil {
		return err
	}
	old := w.f
	next := segment{seq: w.segs[len(w.segs)-1].seq + 1, firstIndex: w.shape.last + 1}
	if err := w.startSegment(next); err != nil {
		return w.fail(err)
	}
	if err := old.Close(); err != nil {
		return w.fail(err)
	}
	w.logger.Info("wal: started a segment", "file", filepath.Join(w.dir, next.name()))
	return nil
}

// startSegment creates segment s, headed by the current hard state and
// snapshot marker, and makes it the one appended to. The head makes every
// segment carry the log's state as of its creation, so that removing the
// segments before it loses nothing but entries.
func (w *WAL) startSegment(s segment) error {
	var head []byte
	if !w.hs.IsEmpty() {
		head, _ = appendRecord(head, recHardState, w.hs.AppendMarshal)
	}
	if w.snap.Index > 0 {
		// The marker restates the snapshot the log already starts from:
		// it keeps the entries after it.
		head, _ = appendRecord(head, recSnapshot, func(b []byte) []byte {
			return appendSnapshotMarker(b, &w.snap, true)
		})
	}
	f, err := createSegment(w.dir, s, head)
	if err != nil {
		return err
	}
	first := s.seq
	if len(w.segs) > 0 {
		first = w.segs[0].seq
	}
	if err := writeManifest(w.dir, manifest{first: first, last: s.seq}); err != nil {
		return errors.Join(err, f.Close())
	}
	w.f, w.size = f, int64(len(head))
	w.segs = append(w.segs, s)
	return nil
}

// ReleaseTo deletes the oldest segments as long as every entry they hold
// that is still part of the log has an index of at most index: those
// entries are covered by a snapshot. index may not pass the last snapshot
// marker saved (the marker is what stands in for the deleted entries), and
// the segment being appended to is never deleted. Segments go oldest
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
	if err := writeManifest(w.dir, manifest{first: w.segs[n].seq, last: w.segs[len(w.segs)-1].seq}); err != nil {
		return fmt.Errorf("wal: release: %w", err)
	}
	for i := 0; i < n; i++ {
		path := filepath.Join(w.dir, w.segs[0].name())
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("wal: release: %w", err)
		}
		w.segs = w.segs[1:]
		w.logger.Info("wal: released a segment", "file", path, "upTo", index)
	}
	return syncDir(w.dir)
}
