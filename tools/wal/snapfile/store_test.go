package snapfile_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal/snapfile"
)

// snap returns a snapshot at index and term whose data is size bytes
// derived from index.
func snap(index, term uint64, size int) raftpb.Snapshot {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(uint64(i)*7 + index)
	}
	return raftpb.Snapshot{Data: data, Metadata: raftpb.SnapshotMetadata{
		Index: index, Term: term, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}},
	}}
}

func mustOpen(t *testing.T, dir string) *snapfile.Store {
	t.Helper()
	s, err := snapfile.Open(dir, snapfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustSave(t *testing.T, s *snapfile.Store, sn raftpb.Snapshot) {
	t.Helper()
	if err := s.Save(sn); err != nil {
		t.Fatal(err)
	}
}

func checkSnap(t *testing.T, got raftpb.Snapshot, err error, want raftpb.Snapshot) {
	t.Helper()
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("snapshot differs (-want +got):\n%s", diff)
	}
}

// snapFiles returns the names of the snapshot files in dir.
func snapFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.snap"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSavedSnapshotsLoadBackAfterReopen(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	a, b := snap(10, 2, 1000), snap(20, 3, 0)
	mustSave(t, s, a)
	mustSave(t, s, b)
	s = mustOpen(t, dir)
	got, err := s.LoadAt(10, 2)
	checkSnap(t, got, err, a)
	got, err = s.Load()
	checkSnap(t, got, err, b)
	if _, err := s.LoadAt(10, 3); !errors.Is(err, snapfile.ErrNoSnapshot) {
		t.Errorf("LoadAt of a term not held = %v, want ErrNoSnapshot", err)
	}
}

func TestEmptyStoreHasNoSnapshot(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	if _, err := s.Load(); !errors.Is(err, snapfile.ErrNoSnapshot) {
		t.Errorf("Load = %v, want ErrNoSnapshot", err)
	}
	if err := s.Save(raftpb.Snapshot{}); err == nil {
		t.Error("Save accepted a snapshot at index 0")
	}
}

func TestLeftoverTempFileIsIgnoredAndRemoved(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	a := snap(10, 2, 100)
	mustSave(t, s, a)
	// A crash in the middle of saving a newer snapshot left its
	// temporary file, half written.
	tmp := filepath.Join(dir, "0000000000000003-0000000000000014.snap.12345.tmp")
	if err := os.WriteFile(tmp, []byte("tksnap1\n\x05\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	checkSnap(t, got, err, a)
	s = mustOpen(t, dir)
	got, err = s.Load()
	checkSnap(t, got, err, a)
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open left the temporary file: %v", err)
	}
}

func TestEveryFlippedByteMakesASnapshotDamaged(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	mustSave(t, s, snap(5, 1, 40))
	path := snapFiles(t, dir)[0]
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x01
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoadAt(5, 1); !errors.Is(err, snapfile.ErrDamaged) {
			t.Fatalf("byte %d flipped: LoadAt = %v, want ErrDamaged", i, err)
		}
	}
	for n := 0; n < len(good); n++ {
		if err := os.WriteFile(path, good[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoadAt(5, 1); !errors.Is(err, snapfile.ErrDamaged) {
			t.Fatalf("cut to %d bytes: LoadAt = %v, want ErrDamaged", n, err)
		}
	}
}

func TestLoadSkipsADamagedNewestSnapshotForAnOlderOne(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	a, b := snap(10, 2, 100), snap(20, 2, 100)
	mustSave(t, s, a)
	mustSave(t, s, b)
	newest := filepath.Join(dir, "0000000000000002-0000000000000014.snap")
	data, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	data[50] ^= 0xff
	if err := os.WriteFile(newest, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	checkSnap(t, got, err, a)
	// With the older one damaged as well, Load says so.
	if err := os.WriteFile(filepath.Join(dir, "0000000000000002-000000000000000a.snap"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); !errors.Is(err, snapfile.ErrDamaged) {
		t.Errorf("Load with every file damaged = %v, want ErrDamaged", err)
	}
}

func TestDeleteBeforeKeepsTheSnapshotAtTheIndexAndNewer(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	for _, i := range []uint64{5, 10, 15, 20} {
		mustSave(t, s, snap(i, 1, 10))
	}
	if err := s.DeleteBefore(15); err != nil {
		t.Fatal(err)
	}
	if got := len(snapFiles(t, dir)); got != 2 {
		t.Errorf("%d snapshot files left, want 2", got)
	}
	for _, i := range []uint64{15, 20} {
		got, err := s.LoadAt(i, 1)
		checkSnap(t, got, err, snap(i, 1, 10))
	}
	if _, err := s.LoadAt(10, 1); !errors.Is(err, snapfile.ErrNoSnapshot) {
		t.Errorf("LoadAt of a deleted snapshot = %v, want ErrNoSnapshot", err)
	}
}
