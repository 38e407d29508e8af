package wal_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// Claim: each group of a SharedStorage serves again after a restart what
// it was given (its boot configuration, entries and hard states saved in
// batches with the other groups', a snapshot of its own with compaction,
// a snapshot received from a leader), independently of the other groups.
func TestSharedStorageServesEachGroupAfterRestart(t *testing.T) {
	dir := t.TempDir()
	opts := wal.Options{SegmentBytes: 2048}
	s, err := wal.OpenSharedStorage(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wal.OpenSharedStorage(dir, opts); !errors.Is(err, wal.ErrLocked) {
		t.Fatalf("a second OpenSharedStorage = %v, want ErrLocked", err)
	}
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	groups := []uint64{10, 20, 30}
	for _, id := range groups {
		g, err := s.Group(id)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Bootstrap(cs); err != nil {
			t.Fatal(err)
		}
		if err := g.Bootstrap(cs); err == nil {
			t.Fatalf("a second Bootstrap of group %d succeeded", id)
		}
	}
	for i := uint64(1); i <= 30; i++ {
		var rds []wal.GroupReady
		for k, id := range groups {
			term := uint64(k + 1)
			rds = append(rds, wal.GroupReady{Group: id, Ready: raft.Ready{
				HardState: raftpb.HardState{Term: term, Vote: 1, Commit: i - 1}, Entries: ents(term, i, i), MustSync: true}})
		}
		if err := s.Save(rds); err != nil {
			t.Fatal(err)
		}
	}
	g20, _ := s.Group(20)
	if err := g20.Compact(25, cs, []byte("group 20 at 25")); err != nil {
		t.Fatal(err)
	}
	g30, _ := s.Group(30)
	received := raftpb.Snapshot{Data: []byte("group 30 from its leader"),
		Metadata: raftpb.SnapshotMetadata{Index: 40, Term: 5, ConfState: cs}}
	if err := g30.Save(raft.Ready{Snapshot: received, HardState: raftpb.HardState{Term: 5, Commit: 40}, MustSync: true}); err != nil {
		t.Fatal(err)
	}
	want := map[uint64]storageState{}
	for _, id := range groups {
		g, _ := s.Group(id)
		want[id] = served(t, g)
	}
	if want[20].Snap.Index != 25 || string(want[30].Data) != "group 30 from its leader" || len(want[10].Entries) != 30 {
		t.Fatalf("the storages do not serve what the test gave them: %+v", want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = wal.OpenSharedStorage(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range groups {
		g, err := s.Group(id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[id], served(t, g), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("group %d after a restart (-want +got):\n%s", id, diff)
		}
	}
	if g, _ := s.Group(99); served(t, g).HS.Term != 0 {
		t.Errorf("a group never saved serves %+v", served(t, g))
	}
}
