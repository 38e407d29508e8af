package wal_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

func TestOpenOnAnEmptyDirectoryReturnsAnEmptyLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	w, rp := mustOpen(t, dir, wal.Options{})
	checkReplay(t, rp, wal.Replay{})
	mustClose(t, w)
	if got := segments(t, dir); len(got) != 1 || got[0] != "0000000000000001-0000000000000001.wal" {
		t.Errorf("segments = %v, want the first one", got)
	}
	_, rp = mustOpen(t, dir, wal.Options{})
	checkReplay(t, rp, wal.Replay{})
}

func TestReopenReturnsEverythingSaved(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, wal.Options{})
	mustSave(t, w, raftpb.HardState{Term: 1, Vote: 1}, ents(1, 1, 3))
	mustSave(t, w, raftpb.HardState{Term: 1, Vote: 1, Commit: 3}, ents(1, 4, 5))
	if err := w.Save(raftpb.HardState{Term: 2, Vote: 2, Commit: 4}, nil, false); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)

	w, rp := mustOpen(t, dir, wal.Options{})
	checkReplay(t, rp, wal.Replay{HardState: raftpb.HardState{Term: 2, Vote: 2, Commit: 4}, Entries: ents(1, 1, 5)})
	// The reopened log appends where the old one stopped.
	mustSave(t, w, raftpb.HardState{}, ents(2, 6, 6))
	mustClose(t, w)
	_, rp = mustOpen(t, dir, wal.Options{})
	checkReplay(t, rp, wal.Replay{
		HardState: raftpb.HardState{Term: 2, Vote: 2, Commit: 4},
		Entries:   concat(ents(1, 1, 5), ents(2, 6, 6)),
	})
}

func TestEntriesFromAnIndexReplaceTheLogFromThatIndexOn(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, wal.Options{})
	mustSave(t, w, raftpb.HardState{Term: 1}, ents(1, 1, 6))
	// A new leader overwrites the uncommitted suffix 3..6 with a shorter one.
	mustSave(t, w, raftpb.HardState{Term: 2}, ents(2, 3, 4))
	// And a third rewrites from the start.
	mustSave(t, w, raftpb.HardState{Term: 3}, ents(3, 1, 2))
	mustSave(t, w, raftpb.HardState{Term: 3}, ents(3, 3, 3))
	mustClose(t, w)
	_, rp := mustOpen(t, dir, wal.Options{})
	checkReplay(t, rp, wal.Replay{HardState: raftpb.HardState{Term: 3}, Entries: ents(3, 1, 3)})
}

func TestSaveRefusesEntriesThatWouldBreakTheLog(t *testing.T) {
	w, _ := mustOpen(t, t.TempDir(), wal.Options{})
	defer mustClose(t, w)
	mustSave(t, w, raftpb.HardState{}, ents(1, 1, 3))
	if err := w.SaveSnapshot(raftpb.SnapshotMetadata{Index: 2, Term: 1}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		es   []raftpb.Entry
	}{
		{"a hole after the last index", ents(1, 5, 6)},
		{"indexes that are not consecutive", []raftpb.Entry{{Term: 1, Index: 4}, {Term: 1, Index: 6}}},
		{"a rewrite of the snapshot", ents(1, 2, 4)},
	} {
		if err := w.Save(raftpb.HardState{}, tc.es, true); err == nil {
			t.Errorf("%s: Save accepted %v", tc.name, tc.es)
		}
	}
	// The refusals left the log usable.
	mustSave(t, w, raftpb.HardState{}, ents(1, 4, 4))
}

func TestSnapshotMarkerThatMatchesTheLogKeepsTheEntriesAfterIt(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, wal.Options{})
	mustSave(t, w, raftpb.HardState{Term: 1, Commit: 5}, ents(1, 1, 6))
	meta := raftpb.SnapshotMetadata{Index: 4, Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
	if err := w.SaveSnapshot(meta); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	_, rp := mustOpen(t, dir, wal.Options{})
	checkReplay(t, rp, wal.Replay{Snapshot: meta, HardState: raftpb.HardState{Term: 1, Commit: 5}, Entries: ents(1, 5, 6)})
}

func TestSnapshotMarkerThatConflictsWithTheLogReplacesIt(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, wal.Options{})
	// A follower holds 1..6 of term 1, of which 4..6 never committed; the
	// leader of term 3 sends a snapshot at 5 whose term the log lacks.
	mustSave(t, w, raftpb.HardState{Term: 1, Commit: 3}, ents(1, 1, 6))
	meta := raftpb.SnapshotMetadata{Index: 5, Term: 3, ConfState: raftpb.ConfState{Voters: []uint64{1}}}
	if err := w.SaveSnapshot(meta); err != nil {
		t.Fatal(err)
	}
	mustSave(t, w, raftpb.HardState{Term: 3, Commit: 5}, nil)
	mustClose(t, w)
	w, rp := mustOpen(t, dir, wal.Options{})
	checkReplay(t, rp, wal.Replay{Snapshot: meta, HardState: raftpb.HardState{Term: 3, Commit: 5}})
	// The log continues from the snapshot; entry 6 of term 1 stays gone.
	mustSave(t, w, raftpb.HardState{}, ents(3, 6, 7))
	mustClose(t, w)
	_, rp = mustOpen(t, dir, wal.Options{})
	checkReplay(t, rp, wal.Replay{Snapshot: meta, HardState: raftpb.HardState{Term: 3, Commit: 5}, Entries: ents(3, 6, 7)})
}

func TestSaveSnapshotRefusesAnOlderSnapshot(t *testing.T) {
	w, _ := mustOpen(t, t.TempDir(), wal.Options{})
	defer mustClose(t, w)
	mustSave(t, w, raftpb.HardState{}, ents(1, 1, 5))
	if err := w.SaveSnapshot(raftpb.SnapshotMetadata{Index: 4, Term: 1}); err != nil {
		t.Fatal(err)
	}
	if err := w.SaveSnapshot(raftpb.SnapshotMetadata{Index: 3, Term: 1}); err == nil {
		t.Error("SaveSnapshot accepted a snapshot older than the last one")
	}
}

func TestClosedLogRefusesEveryCall(t *testing.T) {
	w, _ := mustOpen(t, t.TempDir(), wal.Options{})
	mustClose(t, w)
	calls := map[string]error{
		"Save":         w.Save(raftpb.HardState{Term: 1}, nil, true),
		"SaveSnapshot": w.SaveSnapshot(raftpb.SnapshotMetadata{Index: 1, Term: 1}),
		"Sync":         w.Sync(),
		"ReleaseTo":    w.ReleaseTo(0),
		"Close":        w.Close(),
	}
	for name, err := range calls {
		if !errors.Is(err, wal.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestAbandonedLogKeepsWhatWasWrittenAndRefusesEveryCall(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, wal.Options{})
	mustSave(t, w, raftpb.HardState{Term: 1}, ents(1, 1, 2))
	if err := w.Save(raftpb.HardState{Term: 1, Commit: 2}, ents(1, 3, 3), false); err != nil {
		t.Fatal(err)
	}
	if err := w.Abandon(); err != nil {
		t.Fatalf("Abandon: %v", err)
	}
	for name, err := range map[string]error{"Sync": w.Sync(), "Abandon": w.Abandon(), "Close": w.Close()} {
		if !errors.Is(err, wal.ErrClosed) {
			t.Errorf("%s after Abandon = %v, want ErrClosed", name, err)
		}
	}
	// The process lives on, so the unsynced write is still in its cache.
	_, rp := mustOpen(t, dir, wal.Options{})
	checkReplay(t, rp, wal.Replay{HardState: raftpb.HardState{Term: 1, Commit: 2}, Entries: ents(1, 1, 3)})
}

func TestLeftoverHalfCreatedSegmentIsRemoved(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, wal.Options{})
	mustSave(t, w, raftpb.HardState{Term: 1}, ents(1, 1, 2))
	mustClose(t, w)
	tmp := filepath.Join(dir, "0000000000000002-0000000000000003.wal.tmp")
	writeFile(t, tmp, []byte("half a segment"))
	_, rp := mustOpen(t, dir, wal.Options{})
	checkReplay(t, rp, wal.Replay{HardState: raftpb.HardState{Term: 1}, Entries: ents(1, 1, 2)})
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary segment is still there: %v", err)
	}
}
