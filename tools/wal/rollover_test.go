package wal_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// fillSegments saves entries 1..n of term 1 one at a time into a log with
// tiny segments, and returns it.
func fillSegments(t *testing.T, dir string, n uint64) *wal.WAL {
	t.Helper()
	w, _ := mustOpen(t, dir, wal.Options{SegmentBytes: 200})
	for i := uint64(1); i <= n; i++ {
		mustSave(t, w, raftpb.HardState{Term: 1, Vote: 1, Commit: i - 1}, ents(1, i, i))
	}
	return w
}

func TestSegmentsRollOverAndReplayAsOneLog(t *testing.T) {
	dir := t.TempDir()
	w := fillSegments(t, dir, 40)
	mustClose(t, w)
	if got := len(segments(t, dir)); got < 5 {
		t.Fatalf("%d segments after 40 saves with 200-byte segments, want several", got)
	}
	_, rp := mustOpen(t, dir, wal.Options{SegmentBytes: 200})
	checkReplay(t, rp, wal.Replay{HardState: raftpb.HardState{Term: 1, Vote: 1, Commit: 39}, Entries: ents(1, 1, 40)})
}

func TestReleaseToDeletesExactlyTheSegmentsTheSnapshotCovers(t *testing.T) {
	// Segments hold about four entries each: snapshots at every index of a
	// stretch fall on, just before and just after their boundaries.
	for snapIndex := uint64(20); snapIndex <= 30; snapIndex++ {
		t.Run(fmt.Sprint(snapIndex), func(t *testing.T) { checkReleaseTo(t, snapIndex) })
	}
}

func checkReleaseTo(t *testing.T, snapIndex uint64) {
	dir := t.TempDir()
	w := fillSegments(t, dir, 40)
	before := segments(t, dir)
	meta := raftpb.SnapshotMetadata{Index: snapIndex, Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1}}}
	if err := w.ReleaseTo(snapIndex); err == nil {
		t.Fatal("ReleaseTo passed the last snapshot marker")
	}
	if err := w.SaveSnapshot(meta); err != nil {
		t.Fatal(err)
	}
	if err := w.ReleaseTo(snapIndex); err != nil {
		t.Fatal(err)
	}
	after := segments(t, dir)
	if len(after) >= len(before) {
		t.Fatalf("ReleaseTo(%d) kept all %d segments", snapIndex, len(before))
	}
	// Not too many: the oldest segment left starts at or before the first
	// entry after the snapshot. Not too few: the next one starts after
	// it, so the oldest could not go as well.
	if first := firstIndexOf(t, after[0]); first > snapIndex+1 {
		t.Errorf("oldest segment left is %s: entries %d..%d are lost", after[0], snapIndex+1, first-1)
	}
	if len(after) > 1 && firstIndexOf(t, after[1]) <= snapIndex+1 {
		t.Errorf("segment %s was kept though %s starts at or before %d", after[0], after[1], snapIndex+1)
	}
	// The hard state and the marker outlive the segments they were
	// written in.
	mustClose(t, w)
	w, rp := mustOpen(t, dir, wal.Options{SegmentBytes: 200})
	checkReplay(t, rp, wal.Replay{
		Snapshot:  meta,
		HardState: raftpb.HardState{Term: 1, Vote: 1, Commit: 39},
		Entries:   ents(1, snapIndex+1, 40),
	})
	mustSave(t, w, raftpb.HardState{Term: 2, Vote: 1, Commit: 40}, ents(2, 41, 41))
	mustClose(t, w)
	_, rp = mustOpen(t, dir, wal.Options{SegmentBytes: 200})
	checkReplay(t, rp, wal.Replay{
		Snapshot:  meta,
		HardState: raftpb.HardState{Term: 2, Vote: 1, Commit: 40},
		Entries:   concat(ents(1, snapIndex+1, 40), ents(2, 41, 41)),
	})
}

func TestReleaseToAfterAnOverwriteKeepsTheLiveEntries(t *testing.T) {
	dir := t.TempDir()
	w := fillSegments(t, dir, 30)
	// A new leader rewrites 11..30; the segments holding the old 11..30
	// become garbage, the ones holding 1..10 are still the log.
	for i := uint64(11); i <= 20; i++ {
		mustSave(t, w, raftpb.HardState{Term: 2, Vote: 2, Commit: 10}, ents(2, i, i))
	}
	meta := raftpb.SnapshotMetadata{Index: 15, Term: 2}
	if err := w.SaveSnapshot(meta); err != nil {
		t.Fatal(err)
	}
	if err := w.ReleaseTo(15); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	_, rp := mustOpen(t, dir, wal.Options{SegmentBytes: 200})
	checkReplay(t, rp, wal.Replay{
		Snapshot:  meta,
		HardState: raftpb.HardState{Term: 2, Vote: 2, Commit: 10},
		Entries:   ents(2, 16, 20),
	})
}

func TestReleaseToNeverDeletesTheLastSegment(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, wal.Options{})
	mustSave(t, w, raftpb.HardState{Term: 1}, ents(1, 1, 10))
	if err := w.SaveSnapshot(raftpb.SnapshotMetadata{Index: 10, Term: 1}); err != nil {
		t.Fatal(err)
	}
	if err := w.ReleaseTo(10); err != nil {
		t.Fatal(err)
	}
	if got := segments(t, dir); len(got) != 1 {
		t.Errorf("segments = %v, want the one being written", got)
	}
	mustClose(t, w)
}

func TestMissingSegmentInTheMiddleIsCorruption(t *testing.T) {
	dir := t.TempDir()
	mustClose(t, fillSegments(t, dir, 40))
	segs := segments(t, dir)
	if err := os.Remove(filepath.Join(dir, segs[2])); err != nil {
		t.Fatal(err)
	}
	_, _, err := wal.Open(dir, wal.Options{})
	var ce *wal.CorruptionError
	if !errors.As(err, &ce) || ce.File != filepath.Join(dir, segs[3]) {
		t.Fatalf("Open = %v, want a CorruptionError naming %s", err, segs[3])
	}
}

func TestSegmentsDeletedBeyondTheSnapshotAreCorruption(t *testing.T) {
	dir := t.TempDir()
	mustClose(t, fillSegments(t, dir, 40))
	// Someone deleted the oldest segments by hand, with no snapshot to
	// stand in for their entries.
	segs := segments(t, dir)
	for _, s := range segs[:2] {
		if err := os.Remove(filepath.Join(dir, s)); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := wal.Open(dir, wal.Options{})
	if !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
}

func TestEachSegmentStartsWithTheHardStateAndMarkerInForce(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, wal.Options{SegmentBytes: 200})
	hs := raftpb.HardState{Term: 1, Vote: 1, Commit: 1}
	mustSave(t, w, hs, ents(1, 1, 1))
	first := raftpb.SnapshotMetadata{Index: 1, Term: 1}
	if err := w.SaveSnapshot(first); err != nil {
		t.Fatal(err)
	}
	// Neither changes again while the entries fill many segments.
	for i := uint64(2); i <= 40; i++ {
		mustSave(t, w, hs, ents(1, i, i))
	}
	segs := segments(t, dir)
	mustClose(t, w)
	// The last segment begins with the hard state and the snapshot marker
	// in force when it was started, though neither was saved in it: alone,
	// cut to that head, it opens to them.
	last := segs[len(segs)-1]
	data := readFile(t, filepath.Join(dir, last))
	offs := wal.RecordOffsets(data)
	if len(segs) < 5 || len(offs) < 4 {
		t.Fatalf("%d segments, the last with %d records: want many, the last with a head of three and entries", len(segs), len(offs))
	}
	cut := filepath.Join(t.TempDir(), last)
	writeFile(t, cut, zeroed(data, offs[3], int64(len(data))))
	_, rp := mustOpen(t, filepath.Dir(cut), wal.Options{SegmentBytes: 200})
	checkReplay(t, rp, wal.Replay{Snapshot: first, HardState: hs})
}
