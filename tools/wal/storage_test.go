package wal_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// storageState is what a Storage serves, for comparing.
type storageState struct {
	HS      raftpb.HardState
	CS      raftpb.ConfState
	Snap    raftpb.SnapshotMetadata
	Data    []byte
	Entries []raftpb.Entry
}

// served reads back what s serves through raft.Storage.
func served(t *testing.T, s raft.Storage) storageState {
	t.Helper()
	st, err := servedState(s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// servedState reads back what s serves through raft.Storage.
func servedState(s raft.Storage) (storageState, error) {
	hs, cs, err := s.InitialState()
	if err != nil {
		return storageState{}, err
	}
	snap, _ := s.Snapshot()
	first, _ := s.FirstIndex()
	last, _ := s.LastIndex()
	var es []raftpb.Entry
	for lo := first; lo <= last; {
		more, err := s.Entries(lo, last+1, 1<<30) // may stop short: ask again
		if err != nil {
			return storageState{}, err
		}
		es = append(es, more...)
		lo += uint64(len(more))
	}
	return storageState{HS: hs, CS: cs, Snap: snap.Metadata, Data: snap.Data, Entries: es}, nil
}

// Claim: what a Storage was given (boot configuration, entries, hard
// states, a snapshot of its own with compaction) is what it serves again
// after a restart, and the directory is locked while it is open.
func TestStorageServesAfterRestartWhatItWasGiven(t *testing.T) {
	dir := t.TempDir()
	s, err := wal.OpenStorage(dir, smallSegments)
	if err != nil {
		t.Fatal(err)
	}
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	if err := s.Bootstrap(cs); err != nil {
		t.Fatal(err)
	}
	if err := s.Bootstrap(cs); err == nil {
		t.Fatal("a second Bootstrap succeeded")
	}
	if _, err := wal.OpenStorage(dir, smallSegments); !errors.Is(err, wal.ErrLocked) {
		t.Fatalf("a second OpenStorage = %v, want ErrLocked", err)
	}
	for i := uint64(1); i <= 30; i++ {
		rd := raft.Ready{HardState: raftpb.HardState{Term: 2, Vote: 1, Commit: i - 1}, Entries: ents(2, i, i), MustSync: true}
		if err := s.Save(rd); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Compact(20, cs, []byte("state at 20")); err != nil {
		t.Fatal(err)
	}
	want := served(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = wal.OpenStorage(dir, smallSegments)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if diff := cmp.Diff(want, served(t, s), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("after restart (-before +after):\n%s", diff)
	}
	if want.Snap.Index != 20 || len(want.Entries) != 10 {
		t.Errorf("served %+v, want a snapshot at 20 and entries 21..30", want)
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "snap", "*.snap"))
	if len(snaps) != 1 {
		t.Errorf("snapshot files %v, want the one at 20", snaps)
	}
}

// Claim: a received snapshot that conflicts with the log replaces it, in
// memory and after a restart.
func TestStorageInstallsAReceivedSnapshot(t *testing.T) {
	dir := t.TempDir()
	s, err := wal.OpenStorage(dir, smallSegments)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(raft.Ready{HardState: raftpb.HardState{Term: 1}, Entries: ents(1, 1, 5), MustSync: true}); err != nil {
		t.Fatal(err)
	}
	snap := raftpb.Snapshot{Data: []byte("leader's state"), Metadata: raftpb.SnapshotMetadata{Index: 9, Term: 3, ConfState: raftpb.ConfState{Voters: []uint64{1, 2}}}}
	if err := s.Save(raft.Ready{HardState: raftpb.HardState{Term: 3, Commit: 9}, Snapshot: snap, Entries: ents(3, 10, 11), MustSync: true}); err != nil {
		t.Fatal(err)
	}
	want := served(t, s)
	s.Close()
	s, err = wal.OpenStorage(dir, smallSegments)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := served(t, s)
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("after restart (-before +after):\n%s", diff)
	}
	if got.Snap.Index != 9 || string(got.Data) != "leader's state" || len(got.Entries) != 2 || got.Entries[0].Index != 10 {
		t.Errorf("served %+v, want the snapshot at 9 and entries 10..11", got)
	}
}

// Claim: a hard state whose commit index lies past the log is refused at
// open with an error matching raft.ErrLostLog that names the segment
// holding the hard state, however the log got there (here an application
// that broke the contract by overwriting committed entries); with
// AcceptLoss the storage opens and reports the loss.
func TestStorageRefusesAHardStatePastTheLog(t *testing.T) {
	dir := t.TempDir()
	s, err := wal.OpenStorage(dir, smallSegments)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(raft.Ready{HardState: raftpb.HardState{Term: 1, Commit: 5}, Entries: ents(1, 1, 5), MustSync: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(raft.Ready{Entries: ents(2, 3, 3), MustSync: true}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	seg := filepath.Join(dir, "wal", segments(t, filepath.Join(dir, "wal"))[0])
	_, err = wal.OpenStorage(dir, smallSegments)
	var ce *wal.CorruptionError
	if !errors.Is(err, raft.ErrLostLog) || !errors.As(err, &ce) || ce.File != seg {
		t.Fatalf("OpenStorage = %v, want a lost log naming %s", err, seg)
	}
	opts := smallSegments
	opts.AcceptLoss = true
	s, err = wal.OpenStorage(dir, opts)
	if err != nil || !errors.Is(s.Loss(), raft.ErrLostLog) {
		t.Fatalf("OpenStorage with AcceptLoss = %v, loss %v", err, s.Loss())
	}
	s.Close()
}

// Claim: a last segment cut short (synced records gone) is refused; with
// AcceptLoss the log opens to what is left, reports the loss, gets its
// size back and goes on, and the next open finds it whole.
func TestACutShortSegmentIsRefusedOrOpenedOverWithAcceptLoss(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, smallSegments)
	mustSave(t, w, raftpb.HardState{Term: 1, Commit: 2}, ents(1, 1, 2))
	mustSave(t, w, raftpb.HardState{Term: 1, Commit: 4}, ents(1, 3, 4))
	mustClose(t, w)
	seg := filepath.Join(dir, segments(t, dir)[0])
	data := readFile(t, seg)
	offs := wal.RecordOffsets(data)
	writeFile(t, seg, data[:offs[len(offs)-2]]) // the second save's records go
	var ce *wal.CorruptionError
	if _, _, err := wal.Open(dir, smallSegments); !errors.As(err, &ce) || ce.File != seg || !errors.Is(err, raft.ErrLostLog) {
		t.Fatalf("Open = %v, want a lost log naming %s", err, seg)
	}
	opts := smallSegments
	opts.AcceptLoss = true
	w, rp, err := wal.Open(dir, opts)
	if err != nil || !errors.Is(rp.Loss, raft.ErrLostLog) {
		t.Fatalf("Open with AcceptLoss = %v, loss %v", err, rp.Loss)
	}
	checkReplay(t, &wal.Replay{HardState: rp.HardState, Entries: rp.Entries},
		wal.Replay{HardState: raftpb.HardState{Term: 1, Commit: 2}, Entries: ents(1, 1, 2)})
	mustSave(t, w, raftpb.HardState{Term: 2, Commit: 3}, ents(2, 3, 3))
	mustClose(t, w)
	if got := len(readFile(t, seg)); got != len(data) {
		t.Errorf("the segment has %d bytes after AcceptLoss, want its size %d back", got, len(data))
	}
	_, rp = mustOpen(t, dir, smallSegments)
	checkReplay(t, rp, wal.Replay{HardState: raftpb.HardState{Term: 2, Commit: 3}, Entries: concat(ents(1, 1, 2), ents(2, 3, 3))})
}
