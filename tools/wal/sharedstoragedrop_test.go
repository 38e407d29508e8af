package wal_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// snapDirOf is group id's snapshot directory under a SharedStorage's dir.
func snapDirOf(dir string, id uint64) string {
	return filepath.Join(dir, "snap", fmt.Sprintf("%016x", id))
}

// dropStorageSetup boots groups 10 and 20 on a SharedStorage in dir,
// saves entries for both, and compacts both so that each has a snapshot
// file.
func dropStorageSetup(t *testing.T, s *wal.SharedStorage) {
	t.Helper()
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	for _, id := range []uint64{10, 20} {
		g, err := s.Group(id)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Bootstrap(cs); err != nil {
			t.Fatal(err)
		}
	}
	for i := uint64(1); i <= 6; i++ {
		var rds []wal.GroupReady
		for _, id := range []uint64{10, 20} {
			rds = append(rds, wal.GroupReady{Group: id, Ready: raft.Ready{
				HardState: raftpb.HardState{Term: 3, Vote: 2, Commit: i - 1}, Entries: ents(3, i, i), MustSync: true}})
		}
		if err := s.Save(rds); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []uint64{10, 20} {
		g, _ := s.Group(id)
		if err := g.Compact(4, cs, []byte(fmt.Sprintf("group %d at 4", id))); err != nil {
			t.Fatal(err)
		}
	}
}

// Claim: SharedStorage.Drop deletes a group's snapshot directory and
// keeps its term and vote: after a restart Tombstone names it, and its
// storage starts with an empty log at the tombstone's term and vote (a
// replica added back), refuses Bootstrap, takes a leader's snapshot and
// serves it after another restart, no longer dropped; the other group
// serves exactly what it did.
func TestSharedStorageDropKeepsTermAndVoteAndDeletesSnapshots(t *testing.T) {
	dir := t.TempDir()
	opts := wal.Options{SegmentBytes: 2048}
	s, err := wal.OpenSharedStorage(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	dropStorageSetup(t, s)
	g20, _ := s.Group(20)
	want20 := served(t, g20)
	if _, err := os.Stat(snapDirOf(dir, 10)); err != nil {
		t.Fatalf("group 10 has no snapshot directory before the drop: %v", err)
	}
	if err := s.Drop(10); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(snapDirOf(dir, 10)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Drop group 10's snapshot directory is still there: %v", err)
	}
	if err := s.Drop(10); err != nil {
		t.Errorf("dropping a dropped group again: %v", err)
	}
	tomb := raftpb.HardState{Term: 3, Vote: 2}
	if g10, err := s.Group(10); err != nil {
		t.Fatal(err)
	} else if got := served(t, g10); got.HS != tomb || len(got.Entries) != 0 || got.Snap.Index != 0 {
		t.Errorf("dropped group 10 serves %+v before a restart, want an empty log at term 3, vote 2", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = wal.OpenSharedStorage(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if hs, ok := s.Tombstone(10); !ok || hs != tomb {
		t.Errorf("Tombstone(10) = %v, %v after a restart; want %v, true", hs, ok, tomb)
	}
	if _, ok := s.Tombstone(20); ok {
		t.Errorf("live group 20 has a tombstone")
	}
	if d := s.Dropped(); len(d) != 1 || d[0] != (wal.Tombstone{Group: 10, HardState: tomb}) {
		t.Errorf("Dropped() = %v, want group 10 alone with %v", d, tomb)
	}
	g20, _ = s.Group(20)
	if diff := cmp.Diff(want20, served(t, g20), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("group 20 after group 10's drop (-want +got):\n%s", diff)
	}
	g10, err := s.Group(10)
	if err != nil {
		t.Fatal(err)
	}
	if got := served(t, g10); got.HS != tomb || len(got.Entries) != 0 || got.Snap.Index != 0 || len(got.CS.Voters) != 0 {
		t.Errorf("dropped group 10 serves %+v, want an empty log at term 3, vote 2", got)
	}
	if err := g10.Bootstrap(raftpb.ConfState{Voters: []uint64{1}}); err == nil {
		t.Errorf("Bootstrap of a dropped group succeeded")
	}
	if err := g10.Save(raft.Ready{HardState: raftpb.HardState{Term: 2, Vote: 2}, MustSync: true}); !errors.Is(err, wal.ErrStaleHardState) {
		t.Errorf("a hard state below the tombstone = %v, want ErrStaleHardState", err)
	}
	snap := raftpb.Snapshot{Data: []byte("group 10 added back"),
		Metadata: raftpb.SnapshotMetadata{Index: 9, Term: 4, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}
	if err := g10.Save(raft.Ready{Snapshot: snap, HardState: raftpb.HardState{Term: 4, Commit: 9}, MustSync: true}); err != nil {
		t.Fatal(err)
	}
	want10 := served(t, g10)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = wal.OpenSharedStorage(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.Tombstone(10); ok || len(s.Dropped()) != 0 {
		t.Errorf("a re-created group is still dropped: %v", s.Dropped())
	}
	g10, _ = s.Group(10)
	if diff := cmp.Diff(want10, served(t, g10), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("re-created group 10 after a restart (-want +got):\n%s", diff)
	}
}

// Claim: a SharedStorage crashed before every mutating operation of a
// Drop (the tombstone's write and sync, the snapshot files' deletion),
// with unsynced data lost, kept or torn, opens with the group either
// serving what it did before or dropped with its term and vote and its
// snapshot files gone; the other group serves exactly what it did.
func TestSharedStorageDropCrashLeavesTheGroupOrItsTombstone(t *testing.T) {
	setup := func(fs *crashFS) (*wal.SharedStorage, storageState, storageState) {
		s, err := wal.OpenSharedStorage(crashDir, sharedCrashOpts(fs))
		if err != nil {
			t.Fatal(err)
		}
		dropStorageSetup(t, s)
		g10, _ := s.Group(10)
		g20, _ := s.Group(20)
		return s, served(t, g10), served(t, g20)
	}
	fs := newCrashFS()
	s, _, _ := setup(fs)
	start := fs.ops
	if err := s.Drop(10); err != nil {
		t.Fatal(err)
	}
	total := fs.ops - start
	if total < 3 {
		t.Fatalf("a Drop made %d operations", total)
	}
	tomb := raftpb.HardState{Term: 3, Vote: 2}
	for at := 1; at <= total+1; at++ {
		for d, mode := range []crashMode{loseAll, keepAll, tear} {
			fs := newCrashFS()
			s, before10, before20 := setup(fs)
			fs.failAt = fs.ops + at
			err := s.Drop(10)
			if err != nil && !errors.Is(err, errCrashed) {
				t.Fatalf("crash before operation %d: Drop = %v", at, err)
			}
			acked := err == nil // a drop it acknowledged must survive the crash
			fs.crash(mode, rand.New(rand.NewPCG(uint64(at), uint64(d))))
			fs.failAt = 0
			s, err = wal.OpenSharedStorage(crashDir, sharedCrashOpts(fs))
			if err != nil {
				t.Fatalf("crash before operation %d, mode %d: reopening: %v", at, mode, err)
			}
			g20, _ := s.Group(20)
			if diff := cmp.Diff(before20, served(t, g20), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("crash before operation %d, mode %d: group 20 (-want +got):\n%s", at, mode, diff)
			}
			if hs, ok := s.Tombstone(10); ok {
				if hs != tomb {
					t.Errorf("crash before operation %d, mode %d: tombstone %v, want %v", at, mode, hs, tomb)
				}
				for _, f := range fs.files(snapDirOf(crashDir, 10)) {
					if strings.HasSuffix(f, ".snap") {
						t.Errorf("crash before operation %d, mode %d: dropped group 10 keeps %s", at, mode, f)
					}
				}
			} else {
				if acked {
					t.Errorf("crash before operation %d, mode %d: Drop succeeded, yet group 10 is not dropped after the crash", at, mode)
				}
				g10, err := s.Group(10)
				if err != nil {
					t.Fatalf("crash before operation %d, mode %d: group 10, not dropped: %v", at, mode, err)
				}
				if diff := cmp.Diff(before10, served(t, g10), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("crash before operation %d, mode %d: group 10, not dropped (-want +got):\n%s", at, mode, diff)
				}
			}
			s.Close()
		}
	}
}
