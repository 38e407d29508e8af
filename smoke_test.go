package raft

import (
	"fmt"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

type smokeNode struct {
	rn      *RawNode
	st      *MemoryStorage
	applied []raftpb.Entry
}

func newSmokeCluster(t *testing.T, n int) []*smokeNode {
	var voters []uint64
	for i := 1; i <= n; i++ {
		voters = append(voters, uint64(i))
	}
	var nodes []*smokeNode
	for i := 1; i <= n; i++ {
		st := NewMemoryStorage()
		st.SetConfState(raftpb.ConfState{Voters: voters})
		rn, err := NewRawNode(&Config{ID: uint64(i), Storage: st})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, &smokeNode{rn: rn, st: st})
	}
	return nodes
}

func smokeStabilize(t *testing.T, nodes []*smokeNode) {
	for round := 0; round < 1000; round++ {
		var msgs []raftpb.Message
		moved := false
		for _, nd := range nodes {
			for nd.rn.HasReady() {
				moved = true
				rd := nd.rn.Ready()
				if !rd.HardState.IsEmpty() {
					nd.st.SetHardState(rd.HardState)
				}
				if !rd.Snapshot.IsEmpty() {
					nd.st.ApplySnapshot(rd.Snapshot)
				}
				nd.st.Append(rd.Entries)
				msgs = append(msgs, rd.Messages...)
				msgs = append(msgs, rd.MessagesAfterPersist...)
				nd.applied = append(nd.applied, rd.CommittedEntries...)
				nd.rn.Advance()
			}
		}
		for _, m := range msgs {
			if err := nodes[m.To-1].rn.Step(m); err != nil {
				t.Fatalf("step %v: %v", m, err)
			}
		}
		if !moved && len(msgs) == 0 {
			return
		}
	}
	t.Fatal("no quiescence")
}

func TestSmokeThreeNodesElectAndCommit(t *testing.T) {
	nodes := newSmokeCluster(t, 3)
	if err := nodes[0].rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	smokeStabilize(t, nodes)
	if s := nodes[0].rn.BasicStatus(); s.RaftState != StateLeader {
		t.Fatalf("node 1 is %v", s.RaftState)
	}
	for i := 0; i < 10; i++ {
		idx, term, err := nodes[0].rn.Propose([]byte(fmt.Sprintf("e%d", i)))
		if err != nil || idx == 0 || term == 0 {
			t.Fatal(idx, term, err)
		}
	}
	smokeStabilize(t, nodes)
	for _, nd := range nodes {
		if len(nd.applied) != 11 {
			t.Fatalf("node %d applied %d: %v", nd.rn.BasicStatus().ID, len(nd.applied), raftpb.DescribeEntries(nd.applied))
		}
	}
	// Ticks: heartbeats keep everyone in place.
	for i := 0; i < 100; i++ {
		for _, nd := range nodes {
			nd.rn.Tick()
		}
		smokeStabilize(t, nodes)
	}
	for _, nd := range nodes {
		s := nd.rn.BasicStatus()
		if s.Lead != 1 || s.Term != 1 {
			t.Fatalf("node %d: %+v", s.ID, s)
		}
	}
}
