package raftloop_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
	"github.com/tickraft/raft/tools/wal"
)

// walNode is a node of TestWALDiskRestartsFromWhatItSaved.
type walNode struct {
	st   *wal.Storage
	loop *raftloop.Loop
	sm   *list
}

// startWAL opens node id's storage in dir (bootstrapping it with voters
// when new) and starts its loop from what the storage holds: the state
// machine from the snapshot, Applied at its index.
func startWAL(t *testing.T, dir string, id uint64, voters []uint64, n *net) *walNode {
	t.Helper()
	st, err := wal.OpenStorage(filepath.Join(dir, fmt.Sprint(id)), wal.Options{SegmentBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := st.LastIndex(); last == 0 && voters != nil {
		if err := st.Bootstrap(raftpb.ConfState{Voters: voters}); err != nil {
			t.Fatal(err)
		}
	}
	snap, _ := st.Snapshot()
	sm := &list{conf: raftpb.ConfState{Voters: voters}}
	if !snap.IsEmpty() {
		_ = sm.Restore(snap)
	}
	l, err := raftloop.New(raftloop.Config{
		Raft: raft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, Applied: snap.Metadata.Index},
		Disk: raftloop.NewWALDisk(st), Network: n, StateMachine: sm,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &walNode{st: st, loop: l, sm: sm}
}

// runWAL runs the nodes and delivers their messages until nothing moves.
func runWAL(t *testing.T, nodes map[uint64]*walNode, n *net) {
	t.Helper()
	for range 1000 {
		moved := false
		for id := uint64(1); id <= uint64(len(nodes)); id++ {
			ran, err := nodes[id].loop.Run()
			if err != nil {
				t.Fatal(err)
			}
			moved = moved || ran
		}
		if !moved && len(n.queue) == 0 {
			return
		}
		msgs := n.queue
		n.queue = nil
		for _, m := range msgs {
			if err := nodes[m.To].loop.Step(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatal("the cluster never settles")
}

// TestWALDiskRestartsFromWhatItSaved runs nodes over the production Disk,
// files under a temporary directory (each sync a real fsync, so the
// cluster is small): a node closed and reopened restarts from its log and
// snapshot files with the state it had; a proposal after the restart
// commits.
func TestWALDiskRestartsFromWhatItSaved(t *testing.T) {
	dir, n := t.TempDir(), &net{}
	voters := []uint64{1, 2}
	nodes := map[uint64]*walNode{}
	for _, id := range voters {
		nodes[id] = startWAL(t, dir, id, voters, n)
	}
	if err := nodes[1].loop.Campaign(); err != nil {
		t.Fatal(err)
	}
	runWAL(t, nodes, n)
	for _, p := range []string{"a", "b", "c"} {
		if _, _, err := nodes[1].loop.Propose([]byte(p)); err != nil {
			t.Fatal(err)
		}
		runWAL(t, nodes, n)
	}
	n2 := nodes[2]
	if err := n2.st.Compact(n2.loop.Applied(), n2.sm.conf, n2.sm.data()); err != nil {
		t.Fatal(err)
	}
	for _, nd := range nodes {
		if err := nd.st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range voters {
		nodes[id] = startWAL(t, dir, id, nil, n)
		defer nodes[id].st.Close()
	}
	if snap, _ := nodes[2].st.Snapshot(); snap.Metadata.Index != 4 {
		t.Fatalf("node 2 reopened with the snapshot at %d, want 4", snap.Metadata.Index)
	}
	if err := nodes[1].loop.Campaign(); err != nil {
		t.Fatal(err)
	}
	runWAL(t, nodes, n)
	lead := uint64(1)
	if st := nodes[1].loop.RawNode().BasicStatus(); st.RaftState != raft.StateLeader {
		t.Fatalf("node 1 is %v after campaigning again", st.RaftState)
	}
	if _, _, err := nodes[lead].loop.Propose([]byte("d")); err != nil {
		t.Fatal(err)
	}
	runWAL(t, nodes, n)
	for _, id := range voters {
		if got := fmt.Sprint(nodes[id].sm.items); got != "[a b c d]" {
			t.Fatalf("node %d holds %s after the restart", id, got)
		}
	}
}
