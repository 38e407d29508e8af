package wal_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// member is one node of the example: its RawNode, the wal.Storage that is
// its only storage, and its state machine (key=value writes, in order).
type member struct {
	rn      *raft.RawNode
	st      *wal.Storage
	state   []string
	applied uint64
}

// startMember opens (or creates) the node's storage in dir, restores its
// state machine from the storage's snapshot, and boots its RawNode with
// Config.Applied at that snapshot's index.
func startMember(id uint64, dir string, voters []uint64) *member {
	st, err := wal.OpenStorage(dir, wal.Options{SegmentBytes: 1 << 20})
	if err != nil {
		panic(err)
	}
	if hs, cs, _ := st.InitialState(); hs.IsEmpty() && len(cs.Voters) == 0 {
		if err := st.Bootstrap(raftpb.ConfState{Voters: voters}); err != nil {
			panic(err)
		}
	}
	m := &member{st: st}
	snap, _ := st.Snapshot()
	m.restore(snap)
	m.rn, err = raft.NewRawNode(&raft.Config{ID: id, Storage: st, Applied: m.applied})
	if err != nil {
		panic(err)
	}
	return m
}

// restore loads the state machine from a snapshot's data.
func (m *member) restore(snap raftpb.Snapshot) {
	m.applied = snap.Metadata.Index
	m.state = nil
	if len(snap.Data) > 0 {
		m.state = strings.Split(string(snap.Data), ",")
	}
}

// handleReady persists a Ready with one call, applies it, and returns
// the messages to send (copied: the node reuses their arrays).
func (m *member) handleReady() []raftpb.Message {
	rd := m.rn.Ready()
	if err := m.st.Save(rd); err != nil {
		panic(err) // the disk's state is unknown: a real node stops here
	}
	out := slices.Concat(rd.Messages, rd.MessagesAfterPersist)
	if !rd.Snapshot.IsEmpty() {
		m.restore(rd.Snapshot)
	}
	for _, e := range rd.CommittedEntries {
		if e.Type == raftpb.EntryNormal && len(e.Data) > 0 {
			m.state = append(m.state, string(e.Data))
		}
		m.applied = e.Index
	}
	m.rn.Advance()
	return out
}

// deliver runs every member's Readys and delivers their messages until
// the cluster is quiet.
func deliver(ms map[uint64]*member) {
	for busy := true; busy; {
		busy = false
		for _, id := range slices.Sorted(maps.Keys(ms)) {
			m := ms[id]
			for m.rn.HasReady() {
				busy = true
				for _, msg := range m.handleReady() {
					if to := ms[msg.To]; to != nil {
						_ = to.rn.Step(msg)
					}
				}
			}
		}
	}
}

// Example runs a three-node cluster in one process with wal.Storage as
// each node's only storage: it boots a new cluster, writes, compacts one
// node, restarts that node from its directory, and reads its state back.
func Example() {
	root, err := os.MkdirTemp("", "wal-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	voters := []uint64{1, 2, 3}
	dir := func(id uint64) string { return filepath.Join(root, fmt.Sprint(id)) }
	ms := map[uint64]*member{}
	for _, id := range voters {
		ms[id] = startMember(id, dir(id), voters)
	}
	_ = ms[1].rn.Campaign()
	deliver(ms)
	for _, w := range []string{"x=1", "y=2", "x=3"} {
		_, _, _ = ms[1].rn.Propose([]byte(w))
		deliver(ms)
	}
	// Node 3 snapshots its state and drops the log under it.
	m3 := ms[3]
	_, cs, _ := m3.st.InitialState()
	if err := m3.st.Compact(m3.applied, cs, []byte(strings.Join(m3.state, ","))); err != nil {
		panic(err)
	}
	// It stops, and the cluster writes on without it.
	if err := m3.st.Close(); err != nil {
		panic(err)
	}
	delete(ms, 3)
	_, _, _ = ms[1].rn.Propose([]byte("z=4"))
	deliver(ms)
	// It restarts from its directory and catches up.
	ms[3] = startMember(3, dir(3), voters)
	fmt.Println("node 3 restarted at applied", ms[3].applied, "with", ms[3].state)
	for i := 0; i < 3; i++ { // a heartbeat tells it the leader is there
		ms[1].rn.Tick()
		deliver(ms)
	}
	for _, id := range voters {
		fmt.Println("node", id, "applied", ms[id].applied, ms[id].state)
		_ = ms[id].st.Close()
	}
	// Output:
	// node 3 restarted at applied 4 with [x=1 y=2 x=3]
	// node 1 applied 5 [x=1 y=2 x=3 z=4]
	// node 2 applied 5 [x=1 y=2 x=3 z=4]
	// node 3 applied 5 [x=1 y=2 x=3 z=4]
}
