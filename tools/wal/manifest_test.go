package wal_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// TestTheNewestSegmentDeletedIsCorruption: the newest segment holds the
// last acknowledged entries, and nothing after it names it; the seal of
// the segment before it does (or the manifest, when there is only one),
// so Open refuses a log that lost it instead of replaying what is
// left as if it were whole.
func TestTheNewestSegmentDeletedIsCorruption(t *testing.T) {
	dir := t.TempDir()
	mustClose(t, fillSegments(t, dir, 40))
	segs := segments(t, dir)
	if err := os.Remove(filepath.Join(dir, segs[len(segs)-1])); err != nil {
		t.Fatal(err)
	}
	_, _, err := wal.Open(dir, wal.Options{})
	var ce *wal.CorruptionError
	if !errors.As(err, &ce) || !strings.Contains(ce.Reason, "is missing") || filepath.Base(ce.File) != segs[len(segs)-2] ||
		!errors.Is(err, raft.ErrLostLog) {
		t.Fatalf("Open after the newest segment was deleted = %v, want a lost log naming the segment whose seal names it", err)
	}
	// A log that never rolled over: the manifest names its one segment.
	dir = t.TempDir()
	w, _ := mustOpen(t, dir, smallSegments)
	mustSave(t, w, raftpb.HardState{Term: 1}, ents(1, 1, 3))
	mustClose(t, w)
	if err := os.Remove(filepath.Join(dir, segments(t, dir)[0])); err != nil {
		t.Fatal(err)
	}
	if _, _, err := wal.Open(dir, smallSegments); !errors.As(err, &ce) || filepath.Base(ce.File) != "SEGMENTS" || !errors.Is(err, raft.ErrLostLog) {
		t.Fatalf("Open after the only segment was deleted = %v, want a lost log naming the manifest", err)
	}
}

// TestTheOldestSegmentDeletedWithoutASnapshotIsCorruption: the oldest
// segment that the manifest names is gone.
func TestTheOldestSegmentDeletedWithoutASnapshotIsCorruption(t *testing.T) {
	dir := t.TempDir()
	mustClose(t, fillSegments(t, dir, 40))
	segs := segments(t, dir)
	if err := os.Remove(filepath.Join(dir, segs[0])); err != nil {
		t.Fatal(err)
	}
	if _, _, err := wal.Open(dir, wal.Options{}); !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("Open after the oldest segment was deleted = %v, want ErrCorrupt", err)
	}
}

// TestTheManifestToleratesWhatACrashLeaves: a segment created just before
// a crash, before the manifest named it, and segments a release had not
// deleted yet when it crashed, are no loss.
func TestTheManifestToleratesWhatACrashLeaves(t *testing.T) {
	dir := t.TempDir()
	mustClose(t, fillSegments(t, dir, 12))
	manifest := readFile(t, filepath.Join(dir, "SEGMENTS"))
	w := fillSegments(t, dir, 40) // more segments; the manifest moves on
	mustClose(t, w)
	// Put back the old manifest: the newest segments are past the run it
	// names, as if created just before a crash.
	writeFile(t, filepath.Join(dir, "SEGMENTS"), manifest)
	_, rp := mustOpen(t, dir, wal.Options{})
	if n := len(rp.Entries); n != 40 {
		t.Fatalf("replayed %d entries, want 40", n)
	}
	// A release that moved the manifest and crashed before deleting.
	dir2 := t.TempDir()
	w = fillSegments(t, dir2, 40)
	if err := w.SaveSnapshot(raftpb.SnapshotMetadata{Index: 20, Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1}}}); err != nil {
		t.Fatal(err)
	}
	saved := copyDir(t, dir2)
	if err := w.ReleaseTo(20); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	writeFile(t, filepath.Join(saved, "SEGMENTS"), readFile(t, filepath.Join(dir2, "SEGMENTS")))
	mustOpen(t, saved, wal.Options{})
}

// TestALogWithoutAManifestGetsOne: a log written before manifests opens,
// and from then on a lost newest segment is caught.
func TestALogWithoutAManifestGetsOne(t *testing.T) {
	dir := t.TempDir()
	mustClose(t, fillSegments(t, dir, 40))
	if err := os.Remove(filepath.Join(dir, "SEGMENTS")); err != nil {
		t.Fatal(err)
	}
	w, _ := mustOpen(t, dir, wal.Options{})
	mustClose(t, w)
	segs := segments(t, dir)
	if err := os.Remove(filepath.Join(dir, segs[len(segs)-1])); err != nil {
		t.Fatal(err)
	}
	if _, _, err := wal.Open(dir, wal.Options{}); !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
}

// TestADamagedManifestIsCorruption: the manifest is checksummed.
func TestADamagedManifestIsCorruption(t *testing.T) {
	dir := t.TempDir()
	mustClose(t, fillSegments(t, dir, 12))
	path := filepath.Join(dir, "SEGMENTS")
	writeFile(t, path, flipped(readFile(t, path), 3))
	if _, _, err := wal.Open(dir, wal.Options{}); !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("Open with a damaged manifest = %v, want ErrCorrupt", err)
	}
}
