package wal_test

import (
	"fmt"
	"os"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// Three groups of one process share a log: each turn, one batch holds
// every group's Ready and costs one write and one sync. After a restart
// each group finds its own state: group 1 its snapshot marker and the
// entry after it, group 3 the hard state it saved alone.
func ExampleOpenShared() {
	dir, err := os.MkdirTemp("", "shared-wal")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	log, _, err := wal.OpenShared(dir, wal.Options{SegmentBytes: 4096})
	if err != nil {
		panic(err)
	}
	for i := uint64(1); i <= 3; i++ {
		batch := []wal.Update{
			{Group: 1, Entries: []raftpb.Entry{{Term: 1, Index: i, Data: []byte("a")}}, HardState: raftpb.HardState{Term: 1, Commit: i}},
			{Group: 2, Entries: []raftpb.Entry{{Term: 4, Index: i, Data: []byte("b")}}, HardState: raftpb.HardState{Term: 4, Vote: 2}},
		}
		if i == 3 {
			batch = append(batch, wal.Update{Group: 3, HardState: raftpb.HardState{Term: 7, Vote: 3}})
		}
		if err := log.Save(batch, true); err != nil {
			panic(err)
		}
	}
	if err := log.SaveSnapshot(1, raftpb.SnapshotMetadata{Index: 2, Term: 1}); err != nil {
		panic(err)
	}
	if err := log.ReleaseTo(1, 2); err != nil {
		panic(err)
	}
	if err := log.Close(); err != nil {
		panic(err)
	}

	log, rp, err := wal.OpenShared(dir, wal.Options{SegmentBytes: 4096})
	if err != nil {
		panic(err)
	}
	defer log.Close()
	for _, g := range []uint64{1, 2, 3} {
		r := rp.Group(g)
		fmt.Printf("group %d: %s, snapshot at %d, entries [%s]\n", g, r.HardState, r.Snapshot.Index, raftpb.DescribeEntries(r.Entries))
	}
	// Output:
	// group 1: Term:1 Vote:0 Commit:3, snapshot at 2, entries [1/3 EntryNormal "a"]
	// group 2: Term:4 Vote:2 Commit:0, snapshot at 0, entries [4/1 EntryNormal "b", 4/2 EntryNormal "b", 4/3 EntryNormal "b"]
	// group 3: Term:7 Vote:3 Commit:0, snapshot at 0, entries []
}
