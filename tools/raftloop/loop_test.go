package raftloop_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// durable returns what d holds durably: the state a restart would find.
func durable(t *testing.T, d *raftloop.CrashDisk) (raftpb.HardState, uint64) {
	t.Helper()
	r, err := d.Reopen()
	if err != nil {
		t.Fatal(err)
	}
	hs, _, _ := r.Storage().InitialState()
	last, _ := r.Storage().LastIndex()
	return hs, last
}

// checkAckDurable fails t if m, as it is sent, acknowledges what its
// sender's disk does not hold durably (thesis §3.8: a server persists
// before it answers): an append acknowledged beyond the durable log, a
// vote granted that is not durable. It judges from the disk model alone.
func checkAckDurable(t *testing.T, c *cluster, m raftpb.Message) {
	t.Helper()
	n := c.nodes[m.From]
	if n == nil || m.Reject || (m.Type != raftpb.MsgAppResp && m.Type != raftpb.MsgVoteResp) {
		return
	}
	hs, last := durable(t, n.disk)
	switch m.Type {
	case raftpb.MsgAppResp:
		if m.Index > last {
			t.Fatalf("node %d acknowledged index %d with %d durable: %v", m.From, m.Index, last, m)
		}
	case raftpb.MsgVoteResp:
		if hs.Term < m.Term || (hs.Term == m.Term && hs.Vote != m.To) {
			t.Fatalf("node %d granted a vote in term %d to %d with %v durable", m.From, m.Term, m.To, hs)
		}
	}
}

// workload elects a leader, commits proposals, and elects another leader
// after the first is cut off, with every message checked.
func workload(t *testing.T, c *cluster) {
	checked := 0
	c.net.onSend = func(m raftpb.Message) {
		checkAckDurable(t, c, m)
		if (m.Type == raftpb.MsgAppResp || m.Type == raftpb.MsgVoteResp) && !m.Reject {
			checked++ // an acknowledgement the disk model judged
		}
	}
	for i := range 5 {
		if _, _, err := c.nodes[1].loop.Propose([]byte(fmt.Sprint("p", i))); err != nil {
			t.Fatal(err)
		}
		c.run()
	}
	c.nodes[1].down = true
	c.tick(30)
	for _, id := range []uint64{2, 3} {
		if got := c.nodes[id].sm.items; len(got) != 5 {
			t.Fatalf("node %d applied %v, want the 5 proposals", id, got)
		}
	}
	if checked == 0 {
		t.Fatal("no acknowledgement was checked")
	}
	// A new leader serves writes: judged by what the state machines of
	// nodes 2 and 3 applied, not by the library's idea of its leader.
	if _, _, err := c.nodes[2].loop.Propose([]byte("after")); err != nil {
		t.Fatalf("a proposal through node 2 after node 1 was cut off: %v", err)
	}
	c.run()
	for _, id := range []uint64{2, 3} {
		if got := c.nodes[id].sm.items; len(got) != 6 {
			t.Fatalf("node %d applied %v after node 1 was cut off, want the 5 proposals and one more", id, got)
		}
	}
	if len(c.refused) > 0 {
		t.Fatalf("steps refused: %v", c.refused)
	}
}

func TestSyncLoopSendsAcknowledgementsOnlyOnceDurable(t *testing.T) {
	workload(t, newCluster(3, nil))
}

// TestAsyncReadWaitsForApply releases a read on an asynchronous leader
// whose apply worker lags: the read waits for the apply, which releases
// it.
func TestAsyncReadWaitsForApply(t *testing.T) {
	c := newCluster(3, func(id uint64) raft.Config {
		return raft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, AsyncStorageWrites: true}
	})
	l := c.nodes[1]
	if _, _, err := l.loop.Propose([]byte("x")); err != nil {
		t.Fatal(err)
	}
	runHoldingApplies(c)
	if err := l.loop.ReadIndex([]byte("r")); err != nil {
		t.Fatal(err)
	}
	runHoldingApplies(c)
	if len(l.reads) != 0 || l.loop.Applying() == 0 {
		t.Fatalf("read served %v before the apply (%d applies queued)", l.reads, l.loop.Applying())
	}
	c.run()
	if got := fmt.Sprint(l.reads); got != "[r at 2: [x]]" {
		t.Fatalf("reads served: %s", got)
	}
}

// runHoldingApplies runs the cluster but the apply worker of node 1.
func runHoldingApplies(c *cluster) {
	for range 20 {
		for _, id := range c.ids() {
			n := c.nodes[id].loop
			for n.RawNode().HasReady() || n.Appending() > 0 || (id != 1 && n.Applying() > 0) {
				_ = n.HandleReady()
				_, _ = n.RunAppend()
				if id != 1 {
					_, _ = n.RunApply()
				}
			}
		}
		c.deliver()
	}
}

func TestAsyncWorkersAcknowledgeOnlyOnceDurable(t *testing.T) {
	workload(t, newCluster(3, func(id uint64) raft.Config {
		return raft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, AsyncStorageWrites: true}
	}))
}

// TestCrashAtAnyRecordKeepsHardStateBehindLog crashes a follower that
// catches up (entries and the commit index that covers them in one
// write) after every record of its unsynced writes: the hard state never
// becomes durable before the entries of its write, so a durable commit
// index is always within the durable log.
func TestCrashAtAnyRecordKeepsHardStateBehindLog(t *testing.T) {
	c := newCluster(3, nil)
	n := c.nodes[3]
	n.down = true
	c.propose("a", "b", "c")
	n.down = false
	c.nodes[1].ticks++
	c.nodes[1].loop.Tick() // a heartbeat: node 3 answers, the leader sends it the entries
	for range 4 {
		if _, err := c.nodes[1].loop.Run(); err != nil {
			t.Fatal(err)
		}
		c.deliver()
		for n.loop.RawNode().HasReady() {
			if _, err := n.loop.BeginReady(); err != nil { // never synced
				t.Fatal(err)
			}
		}
	}
	if hs, _, _ := n.disk.Storage().InitialState(); hs.Commit < 4 {
		t.Fatalf("node 3 was handed commit %d, want 4: the test crashes nothing useful", hs.Commit)
	}
	total := n.disk.Unsynced()
	for keep := 0; keep <= total; keep++ {
		cp := *n.disk
		cp.Crash(keep)
		hs, last := durable(t, &cp)
		if hs.Commit > last {
			t.Fatalf("crash after %d of %d records: commit %d durable beyond the log's last index %d", keep, total, hs.Commit, last)
		}
	}
}

// TestCrashKeepsSyncedAndAPrefix checks the disk model itself: a crash
// keeps every synced write and the first records of the rest.
func TestCrashKeepsSyncedAndAPrefix(t *testing.T) {
	ents := func(lo, hi uint64) []raftpb.Entry {
		var es []raftpb.Entry
		for i := lo; i <= hi; i++ {
			es = append(es, raftpb.Entry{Term: 1, Index: i})
		}
		return es
	}
	for keep := 0; keep <= 5; keep++ {
		d := raftloop.NewCrashDisk()
		d.Bootstrap(raftpb.ConfState{Voters: []uint64{1}})
		_ = d.Save(raftpb.HardState{Term: 1}, ents(1, 2), raftpb.Snapshot{})
		_ = d.Sync()
		_ = d.Save(raftpb.HardState{Term: 2}, ents(3, 5), raftpb.Snapshot{}) // 4 records
		if got := d.Crash(keep); got != min(keep, 4) {
			t.Fatalf("Crash(%d) kept %d records", keep, got)
		}
		r, _ := d.Reopen()
		hs, _, _ := r.Storage().InitialState()
		last, _ := r.Storage().LastIndex()
		wantLast, wantTerm := 2+uint64(min(keep, 3)), uint64(1)
		if keep >= 4 {
			wantTerm = 2
		}
		if last != wantLast || hs.Term != wantTerm {
			t.Fatalf("Crash(%d): last index %d term %d, want %d and %d", keep, last, hs.Term, wantLast, wantTerm)
		}
	}
}

// TestInputsSeeElapsedTicksFirst pauses a leader that reads under a lease
// for longer than an election timeout: the read it then takes must see
// the elapsed ticks first, so the leader, having heard from no follower,
// steps down and refuses it instead of serving it on an expired lease.
func TestInputsSeeElapsedTicksFirst(t *testing.T) {
	c := newCluster(3, func(id uint64) raft.Config {
		return raft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, LeaseReads: true}
	})
	c.propose("x")
	c.nodes[2].down, c.nodes[3].down = true, true
	l := c.nodes[1]
	l.ticks = 30 // the pause: no tick reached the node meanwhile
	err := l.loop.ReadIndex([]byte("late"))
	if _, err := l.loop.Run(); err != nil {
		t.Fatal(err)
	}
	if len(l.reads) > 0 {
		t.Fatalf("the paused leader served %v on its lease", l.reads)
	}
	if err == nil {
		t.Fatalf("the paused leader accepted the read; state %v", l.loop.RawNode().BasicStatus().RaftState)
	}
}

// TestConfChangeReachesNodeBeforeStateMachine checks that a committed conf
// change is handed to the node (which then reports the new
// configuration) and that the state machine is told what came of it.
func TestConfChangeReachesNodeBeforeStateMachine(t *testing.T) {
	c := newCluster(3, nil)
	cc := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 4}}}
	if _, _, err := c.nodes[1].loop.ProposeConfChange(cc); err != nil {
		t.Fatal(err)
	}
	c.run()
	for _, id := range c.ids() {
		if got := fmt.Sprint(c.nodes[id].loop.RawNode().Status().Config); got != "voters=(1 2 3) learners=(4)" {
			t.Fatalf("node %d's configuration: %s", id, got)
		}
		if l := c.nodes[id].sm.conf.Learners; len(l) != 1 || l[0] != 4 {
			t.Fatalf("node %d's state machine holds %v", id, c.nodes[id].sm.conf)
		}
	}
}

// TestChunkedSnapshotIsFetchedInChunks checks that the snapshot example
// really moves its snapshot in chunks, through the snapshot worker.
func TestChunkedSnapshotIsFetchedInChunks(t *testing.T) {
	c := newCluster(3, func(id uint64) raft.Config {
		return raft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, SnapshotChunkSize: 4}
	})
	c.nodes[3].down = true
	c.propose("alpha", "beta", "gamma")
	n1 := c.nodes[1]
	if err := n1.disk.Compact(n1.loop.Applied(), n1.sm.conf, n1.sm.data()); err != nil {
		t.Fatal(err)
	}
	c.nodes[3].down = false
	c.tick(3)
	chunks, whole := c.net.sent[raftpb.MsgSnapChunk], c.net.sent[raftpb.MsgSnap]
	if want := (len(n1.sm.data()) + 3) / 4; chunks < want || whole != 0 {
		t.Fatalf("%d chunks and %d whole snapshots sent, want at least %d chunks and no whole one", chunks, whole, want)
	}
	if got := fmt.Sprint(c.nodes[3].sm.items); got != "[alpha beta gamma]" {
		t.Fatalf("node 3 holds %s", got)
	}
}

func TestNewRefusesMissingParts(t *testing.T) {
	_, err := raftloop.New(raftloop.Config{Raft: raft.Config{ID: 1}})
	if !errors.Is(err, raftloop.ErrConfig) {
		t.Fatalf("New without a disk: %v", err)
	}
}

// Claim: the snapshot worker refuses a message that is not its work with
// a typed error, instead of dropping it.
func TestDoSnapshotWorkRefusesOtherMessages(t *testing.T) {
	d := raftloop.NewCrashDisk()
	d.Bootstrap(raftpb.ConfState{Voters: []uint64{1}})
	l, err := raftloop.New(raftloop.Config{
		Raft: raft.Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1}, Disk: d, Network: &net{}, StateMachine: &list{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.DoSnapshotWork(raftpb.Message{Type: raftpb.MsgApp}); !errors.Is(err, raftloop.ErrNotSnapshotWork) {
		t.Fatalf("DoSnapshotWork(MsgApp) = %v, want ErrNotSnapshotWork", err)
	}
}

// keepingDisk is a CrashDisk that also keeps one older snapshot's data to
// serve chunks of (a SnapshotSource).
type keepingDisk struct {
	*raftloop.CrashDisk
	old  raftpb.SnapshotMetadata
	data []byte
}

func (d *keepingDisk) ServedSnapshot(index, term uint64) ([]byte, bool) {
	if index == d.old.Index && term == d.old.Term {
		return d.data, true
	}
	return nil, false
}

// Claim: a chunk request for a snapshot the Disk's Storage no longer
// holds is refused (ChunkNotHeld) by a plain Disk, and served by a
// SnapshotSource that still keeps it, with the bytes of that snapshot.
func TestTheSnapshotWorkerServesOlderSnapshotsASourceKeeps(t *testing.T) {
	old := raftpb.SnapshotMetadata{Index: 5, Term: 1}
	id := raftpb.ChunkID{Index: old.Index, Term: old.Term, Chunk: 1}
	// As a source node hands its worker a receiver's request: the chunk
	// to fill in and send rides in Responses.
	req := raftpb.ChunkRequest{To: raft.LocalSnapshotThread, From: 1, ID: id, Size: 4}.Message()
	req.Responses = []raftpb.Message{raftpb.Chunk{To: 2, From: 1, ID: id}.Message()}
	for _, keeps := range []bool{false, true} {
		d := raftloop.NewCrashDisk()
		d.Bootstrap(raftpb.ConfState{Voters: []uint64{1}})
		var disk raftloop.Disk = d
		if keeps {
			disk = &keepingDisk{CrashDisk: d, old: old, data: []byte("0123456789")}
		}
		n := &net{}
		l, err := raftloop.New(raftloop.Config{
			Raft: raft.Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1}, Disk: disk, Network: n, StateMachine: &list{},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.DoSnapshotWork(req); err != nil {
			t.Fatal(err)
		}
		if len(n.queue) != 1 {
			t.Fatalf("keeps=%v: %d messages sent, want the chunk", keeps, len(n.queue))
		}
		c, err := raftpb.ParseChunk(n.queue[0])
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !keeps && (!c.Refused || c.Why != raftpb.ChunkNotHeld):
			t.Fatalf("a plain Disk served a snapshot its Storage does not hold: %+v", c)
		case keeps && (c.Refused || string(c.Data) != "4567"):
			t.Fatalf("a SnapshotSource keeping the snapshot answered %+v, want chunk 1 = %q", c, "4567")
		}
	}
}
