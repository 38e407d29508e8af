package core

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// asyncNode is a node in the asynchronous storage mode with its two
// worker queues, which the test completes when it chooses.
type asyncNode struct {
	r       *Raft
	st      *MemoryStorage
	appends []raftpb.Message
	applies []raftpb.Message
}

type asyncCluster struct {
	t     *testing.T
	nodes map[uint64]*asyncNode
	net   []raftpb.Message
}

func newAsyncCluster(t *testing.T, n int) *asyncCluster {
	c := &asyncCluster{t: t, nodes: map[uint64]*asyncNode{}}
	var ids []uint64
	for i := 1; i <= n; i++ {
		ids = append(ids, uint64(i))
	}
	for _, id := range ids {
		st := NewMemoryStorage()
		st.SetConfState(raftpb.ConfState{Voters: ids})
		r, err := NewRaft(&Config{ID: id, Storage: st, AsyncStorageWrites: true})
		must(t, err)
		c.nodes[id] = &asyncNode{r: r, st: st}
	}
	return c
}

// ready takes node id's Ready and routes its messages to its workers and
// the network.
func (c *asyncCluster) ready(id uint64) {
	n := c.nodes[id]
	for n.r.HasReady() {
		rd := n.r.Ready()
		if len(rd.Entries) > 0 || len(rd.CommittedEntries) > 0 || len(rd.MessagesAfterPersist) > 0 {
			c.t.Fatal("async Ready carries storage work outside messages")
		}
		for _, m := range rd.Messages {
			switch m.To {
			case LocalAppendThread:
				n.appends = append(n.appends, m)
			case LocalApplyThread:
				n.applies = append(n.applies, m)
			default:
				c.net = append(c.net, m)
			}
		}
	}
}

// completeAppend makes node id's oldest write durable and delivers its
// responses.
func (c *asyncCluster) completeAppend(id uint64) {
	n := c.nodes[id]
	m := n.appends[0]
	n.appends = n.appends[1:]
	if m.Snapshot != nil {
		must(c.t, n.st.ApplySnapshot(*m.Snapshot))
	}
	must(c.t, n.st.Append(m.Entries))
	if hs := (raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}); !hs.IsEmpty() {
		must(c.t, n.st.SetHardState(hs))
	}
	c.respond(id, m.Responses)
}

func (c *asyncCluster) completeApply(id uint64) {
	n := c.nodes[id]
	m := n.applies[0]
	n.applies = n.applies[1:]
	c.respond(id, m.Responses)
}

// step delivers m, failing the test if a correct message is refused or
// the recipient breaks an invariant.
func (c *asyncCluster) step(m raftpb.Message) {
	c.t.Helper()
	r := c.nodes[m.To].r
	if err := r.Step(m); err != nil {
		c.t.Fatalf("step %v: %v", m, err)
	}
	if err := r.CheckInvariants(); err != nil {
		c.t.Fatal(err)
	}
}

func (c *asyncCluster) respond(id uint64, resps []raftpb.Message) {
	for _, resp := range resps {
		if resp.To == id {
			c.step(resp)
		} else {
			c.net = append(c.net, resp)
		}
	}
}

// run delivers the network and completes every write and apply until
// nothing moves.
func (c *asyncCluster) run() {
	for round := 0; round < 1000; round++ {
		moved := false
		for id := uint64(1); id <= uint64(len(c.nodes)); id++ {
			c.ready(id)
			for len(c.nodes[id].appends) > 0 {
				c.completeAppend(id)
				moved = true
			}
			for len(c.nodes[id].applies) > 0 {
				c.completeApply(id)
				moved = true
			}
		}
		msgs := c.net
		c.net = nil
		for _, m := range msgs {
			if c.nodes[m.To] != nil {
				c.step(m)
			}
			moved = true
		}
		if !moved {
			return
		}
	}
	c.t.Fatal("async cluster never quiesced")
}

func TestAsyncModeElectsAndCommits(t *testing.T) {
	c := newAsyncCluster(t, 3)
	must(t, c.nodes[1].r.Campaign())
	c.run()
	if c.nodes[1].r.state != StateLeader {
		t.Fatalf("node 1 is %v", c.nodes[1].r.state)
	}
	idx, _, err := c.nodes[1].r.Propose([]byte("a"))
	must(t, err)
	c.run()
	for id, n := range c.nodes {
		if n.r.raftLog.applied != idx {
			t.Fatalf("node %d applied %d, want %d", id, n.r.raftLog.applied, idx)
		}
	}
}

// TestAsyncLeaderSendsBeforeItsWriteAndCountsItselfOnlyWhenDurable: the
// leader's appends leave in the same Ready as its own write (thesis
// §10.2.1), and with one follower down it cannot commit until its own
// write is durable.
func TestAsyncLeaderSendsBeforeItsWriteAndCountsItselfOnlyWhenDurable(t *testing.T) {
	c := newAsyncCluster(t, 3)
	must(t, c.nodes[1].r.Campaign())
	c.run()
	delete(c.nodes, 3)
	leader := c.nodes[1]
	idx, _, err := leader.r.Propose([]byte("a"))
	must(t, err)
	c.ready(1)
	var toFollower []raftpb.Message
	for _, m := range c.net {
		if m.To == 2 {
			toFollower = append(toFollower, m)
		}
	}
	if len(leader.appends) != 1 || len(toFollower) != 1 || toFollower[0].Type != raftpb.MsgApp {
		t.Fatalf("want the write queued and the append sent at once; writes %d, network %v", len(leader.appends), c.net)
	}
	// The follower persists and acknowledges.
	must(t, c.nodes[2].r.Step(toFollower[0]))
	c.net = nil
	c.ready(2)
	c.completeAppend(2)
	for _, m := range c.net {
		must(t, leader.r.Step(m))
	}
	c.net = nil
	if leader.r.raftLog.committed >= idx {
		t.Fatal("the leader committed counting its own write before it was durable")
	}
	c.completeAppend(1)
	if leader.r.raftLog.committed != idx {
		t.Fatalf("commit %d after the leader's write, want %d", leader.r.raftLog.committed, idx)
	}
}

func TestAsyncModeAllowsTwoWritesInFlight(t *testing.T) {
	c := newAsyncCluster(t, 1)
	must(t, c.nodes[1].r.Campaign())
	c.run()
	n := c.nodes[1]
	_, _, err := n.r.Propose([]byte("a"))
	must(t, err)
	c.ready(1)
	idx, _, err := n.r.Propose([]byte("b"))
	must(t, err)
	c.ready(1)
	if len(n.appends) != 2 {
		t.Fatalf("%d writes outstanding, want 2", len(n.appends))
	}
	c.completeAppend(1)
	c.completeAppend(1)
	c.run()
	if n.r.raftLog.applied != idx {
		t.Fatalf("applied %d, want %d", n.r.raftLog.applied, idx)
	}
}

// TestLateWriteAcknowledgementAfterOverwriteIsHarmless: a follower's write
// of term-1 entries completes after a new leader replaced them with term-2
// entries; the late acknowledgement names (term 1, index) and marks nothing
// of the new entries durable.
func TestLateWriteAcknowledgementAfterOverwriteIsHarmless(t *testing.T) {
	c := newAsyncCluster(t, 3)
	f := c.nodes[3].r
	// Term 1 entry at index 1 arrives; its write is pending.
	must(t, f.Step(raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 3, Term: 1, Entries: []raftpb.Entry{{Term: 1, Index: 1}}}))
	c.ready(3)
	// A leader of term 2 overwrites index 1 before the write completes.
	must(t, f.Step(raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 3, Term: 2, Entries: []raftpb.Entry{{Term: 2, Index: 1}}}))
	c.ready(3)
	c.completeAppend(3) // the late acknowledgement of 1/1
	if !f.raftLog.hasNextOrInProgressUnstableEnts() || f.raftLog.unstable.entries[0].Term != 2 {
		t.Fatalf("the late ack marked the overwritten index durable: unstable %v", f.raftLog.unstable.entries)
	}
	c.completeAppend(3)
	if f.raftLog.hasNextOrInProgressUnstableEnts() {
		t.Fatal("the term-2 write's own acknowledgement did not make it durable")
	}
}

func TestWorkerAcknowledgementsAreRefusedOutsideAsyncMode(t *testing.T) {
	c := newTestCluster(t, 3)
	err := c.nodes[1].Step(raftpb.Message{Type: raftpb.MsgStorageAppendResp, From: LocalAppendThread, To: 1})
	if !errors.Is(err, ErrStepLocalMsg) {
		t.Fatalf("worker ack in sync mode = %v", err)
	}
}

// TestAsyncModeNeverAppliesEntriesNotYetDurableHere: a follower whose
// write is still pending learns that its entries are committed; it hands
// them out to apply only once its own write is durable.
func TestAsyncModeNeverAppliesEntriesNotYetDurableHere(t *testing.T) {
	c := newAsyncCluster(t, 3)
	f := c.nodes[3]
	must(t, f.r.Step(raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 3, Term: 1, Commit: 1,
		Entries: []raftpb.Entry{{Term: 1, Index: 1, Data: []byte("x")}}}))
	c.ready(3)
	if len(f.applies) != 0 {
		t.Fatal("an entry was handed out to apply before this node's write of it was durable")
	}
	c.completeAppend(3)
	c.ready(3)
	if len(f.applies) != 1 || f.applies[0].Entries[0].Index != 1 {
		t.Fatalf("after the write: applies %v", f.applies)
	}
}

// TestAsyncSnapshotIsInstalledByTheApplyWorkerOnceDurable: in the
// asynchronous mode the append worker only persists a snapshot; once it is
// durable the node hands it to the apply worker, behind the applies queued
// before it, and counts it applied only when that worker says so.
func TestAsyncSnapshotIsInstalledByTheApplyWorkerOnceDurable(t *testing.T) {
	c := newAsyncCluster(t, 3)
	f := c.nodes[3]
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 5, Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}
	must(t, f.r.Step(raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 3, Term: 1, Snapshot: &snap}))
	c.ready(3)
	if len(f.appends) != 1 || f.appends[0].Snapshot == nil || len(f.applies) != 0 {
		t.Fatalf("want the snapshot at the append worker only: %d appends, %d applies", len(f.appends), len(f.applies))
	}
	c.completeAppend(3)
	c.ready(3)
	if len(f.applies) != 1 || f.applies[0].Snapshot == nil || f.applies[0].Snapshot.Metadata.Index != 5 {
		t.Fatalf("the durable snapshot did not go to the apply worker: %v", f.applies)
	}
	if f.r.raftLog.applied == 5 {
		t.Fatal("the snapshot counted as applied before the apply worker applied it")
	}
	c.completeApply(3)
	if f.r.raftLog.applied != 5 {
		t.Fatalf("applied %d after the apply worker installed the snapshot, want 5", f.r.raftLog.applied)
	}
	if err := f.r.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
