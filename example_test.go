package raft_test

import (
	"fmt"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// node is an in-memory member of an example cluster.
type node struct {
	rn      *raft.RawNode
	storage *raft.MemoryStorage
	applied []string
}

// newNode boots a member of a new cluster whose voters are given.
func newNode(id uint64, voters []uint64) *node {
	st := raft.NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: voters})
	rn, err := raft.NewRawNode(&raft.Config{ID: id, Storage: st})
	if err != nil {
		panic(err)
	}
	return &node{rn: rn, storage: st}
}

// handleReady runs the application's half of the contract for one Ready
// and returns the messages to send.
func (n *node) handleReady() []raftpb.Message {
	rd := n.rn.Ready()
	// 1. Persist the hard state, the snapshot and the entries.
	if !rd.HardState.IsEmpty() {
		mustStore(n.storage.SetHardState(rd.HardState))
	}
	if !rd.Snapshot.IsEmpty() {
		mustStore(n.storage.ApplySnapshot(rd.Snapshot))
	}
	mustStore(n.storage.Append(rd.Entries))
	// 2. Messages may leave before the write; MessagesAfterPersist after.
	out := append(rd.Messages, rd.MessagesAfterPersist...)
	// 3. Apply committed entries, conf changes through ApplyConfChange.
	for _, e := range rd.CommittedEntries {
		if cc, err := e.ConfChange(); cc != nil && err == nil {
			_, _ = n.rn.ApplyConfChange(cc)
		} else if e.Type == raftpb.EntryNormal && len(e.Data) > 0 {
			n.applied = append(n.applied, string(e.Data))
		}
	}
	// 4. Acknowledge.
	n.rn.Advance()
	return out
}

// mustStore stops at a storage error: a node must not go on after failing
// to persist what a Ready asked for.
func mustStore(err error) {
	if err != nil {
		panic(err)
	}
}

// newCluster boots a node for each voter and elects node 1.
func newCluster(voters []uint64) map[uint64]*node {
	nodes := map[uint64]*node{}
	for _, id := range voters {
		nodes[id] = newNode(id, voters)
	}
	_ = nodes[1].rn.Campaign()
	run(nodes)
	return nodes
}

// run delivers messages between the nodes until nothing moves.
func run(nodes map[uint64]*node) {
	for {
		var msgs []raftpb.Message
		for id := uint64(1); id <= uint64(len(nodes)); id++ {
			for nodes[id].rn.HasReady() {
				msgs = append(msgs, nodes[id].handleReady()...)
			}
		}
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			if err := nodes[m.To].rn.Step(m); err != nil {
				fmt.Println("refused:", err)
			}
		}
	}
}

// Example shows the Ready loop on a three-node cluster held in memory: an
// election, a proposal that returns its index and term, and the entry
// applied on every node.
func Example() {
	voters := []uint64{1, 2, 3}
	nodes := newCluster(voters)
	fmt.Println("leader:", nodes[2].rn.BasicStatus().Lead)

	index, term, err := nodes[1].rn.Propose([]byte("x=1"))
	fmt.Println("proposed at", index, "in term", term, err)
	run(nodes)
	for _, id := range voters {
		fmt.Println(id, "applied", nodes[id].applied)
	}
	// Output:
	// leader: 1
	// proposed at 2 in term 1 <nil>
	// 1 applied [x=1]
	// 2 applied [x=1]
	// 3 applied [x=1]
}

// ExampleRawNode_Propose_noLeader shows that a proposal that cannot be
// accepted is refused at once with an error saying why.
func ExampleRawNode_Propose_noLeader() {
	n := newNode(2, []uint64{1, 2, 3})
	_, _, err := n.rn.Propose([]byte("x"))
	fmt.Println(err)
	// Output:
	// raft: proposal dropped: raft: no leader at term 0
}

// ExampleRawNode_ProposeConfChange adds a fourth node as a learner: the
// change commits like any entry and takes effect when applied.
func ExampleRawNode_ProposeConfChange() {
	voters := []uint64{1, 2, 3}
	nodes := newCluster(voters)
	cc := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 4}}}
	if _, _, err := nodes[1].rn.ProposeConfChange(cc); err != nil {
		fmt.Println(err)
	}
	// A second change while the first is unapplied is refused.
	_, _, err := nodes[1].rn.ProposeConfChange(cc)
	fmt.Println(err)
	// Node 4 starts empty; it learns the log from the leader.
	nodes[4] = newNode(4, nil)
	run(nodes)
	fmt.Println(nodes[1].rn.Status().Config)
	// Output:
	// raft: proposal dropped: raft: configuration change pending: index 2 not yet applied
	// voters=(1 2 3) learners=(4)
}
