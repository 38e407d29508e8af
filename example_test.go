package raft_test

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// node is an in-memory member of an example cluster: its Ready loop
// (tools/raftloop, which persists, sends, applies and acknowledges each
// Ready in the order of the package documentation), the disk that loop
// writes (a MemoryStorage and the log of every write made to it, which a
// restart makes again), and the application's state.
type node struct {
	rn   *raft.RawNode
	loop *raftloop.Loop
	disk *raftloop.CrashDisk
	down bool // cut off: every message to or from it is lost

	conf   raftpb.ConfState // the membership at applied
	state  []string         // the payloads applied, in order
	served []string         // what the reads returned
}

// outbox holds the messages the nodes sent, until run delivers them.
type outbox struct{ msgs []raftpb.Message }

// Send queues copies of msgs and of their entries: the node reuses the
// arrays behind both after Advance.
func (o *outbox) Send(msgs []raftpb.Message) {
	for _, m := range msgs {
		m.Entries = slices.Clone(m.Entries)
		o.msgs = append(o.msgs, m)
	}
}

// sent is the examples' network.
var sent = &outbox{}

// newNode boots a member of a new cluster whose voters are given: its
// disk holds the first configuration.
func newNode(id uint64, voters []uint64) *node {
	boot := raftpb.ConfState{Voters: voters}
	n := &node{disk: raftloop.NewCrashDisk(), conf: boot}
	n.disk.Bootstrap(boot)
	n.start(raft.Config{ID: id})
	return n
}

// start starts the node's loop, and its RawNode, from c and its disk.
func (n *node) start(c raft.Config) { n.startOn(c, n.disk) }

// startOn starts the node's loop, and its RawNode, from c and disk d.
func (n *node) startOn(c raft.Config, d raftloop.Disk) {
	loop, err := raftloop.New(raftloop.Config{
		Raft: c, Disk: d, Network: sent, StateMachine: n, OnRead: n.serve,
	})
	if err != nil {
		panic(err)
	}
	n.loop, n.rn = loop, loop.RawNode()
}

// applied returns the index the application's state reflects.
func (n *node) applied() uint64 { return n.loop.Applied() }

// Apply applies one committed entry; the loop has handed a conf change
// to the node already.
func (n *node) Apply(e raftpb.Entry, conf raftloop.ConfApplied) error {
	switch {
	case conf.Change != nil:
		if conf.Err == nil {
			n.conf = conf.State
		}
	case len(e.Data) > 0:
		n.state = append(n.state, string(e.Data))
	}
	return nil
}

// Restore replaces the application's state with a snapshot's.
func (n *node) Restore(s raftpb.Snapshot) error {
	n.state = strings.Fields(string(s.Data))
	n.conf = s.Metadata.ConfState
	return nil
}

// snapshot takes a snapshot of the application's state at the applied
// index and compacts the log up to it, as ExampleMemoryStorage_Compact
// does step by step. The disk makes the snapshot durable first.
func (n *node) snapshot() {
	if err := n.disk.Compact(n.applied(), n.conf, []byte(strings.Join(n.state, " "))); err != nil {
		panic(err)
	}
}

// serve serves a released read, which the loop hands over once the
// applied state covers it.
func (n *node) serve(rs raft.ReadState) {
	if rs.Err != nil {
		n.served = append(n.served, fmt.Sprintf("%s failed: %v", rs.RequestCtx, rs.Err))
		return
	}
	n.served = append(n.served, fmt.Sprintf("%s at %d: %v", rs.RequestCtx, rs.Index, n.state))
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

// run delivers messages between the nodes until nothing moves. It is the
// example's transport: a message to or from a node that is down is lost
// and reported unreachable; a snapshot delivered is reported. A cluster
// still busy after maxRounds exchanges is broken, and run says so.
func run(nodes map[uint64]*node) {
	for range maxRounds {
		for id := uint64(1); id <= uint64(len(nodes)); id++ {
			// Readys, and the snapshot worker's jobs (chunked transfer).
			if _, err := nodes[id].loop.Run(); err != nil {
				panic(err) // a node must not go on after failing to persist
			}
		}
		msgs := sent.msgs
		sent.msgs = nil
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			from, to := nodes[m.From], nodes[m.To]
			if from.down || to.down {
				from.rn.ReportUnreachable(m.To)
				continue
			}
			if err := to.rn.Step(m); err != nil {
				fmt.Println("refused:", err)
			}
			if m.Type == raftpb.MsgSnap {
				from.rn.ReportSnapshot(m.To, false)
			}
		}
	}
	fmt.Println("run: the cluster never settles")
}

// maxRounds bounds the message exchanges of one run.
const maxRounds = 1000

// propose proposes each payload on node 1, the leader, and runs the
// cluster after each.
func propose(nodes map[uint64]*node, payloads ...string) {
	for _, p := range payloads {
		if _, _, err := nodes[1].rn.Propose([]byte(p)); err != nil {
			fmt.Println(err)
		}
		run(nodes)
	}
}

// tick ticks every node n times, delivering messages after each tick.
func tick(nodes map[uint64]*node, n int) {
	for range n {
		for id := uint64(1); id <= uint64(len(nodes)); id++ {
			nodes[id].rn.Tick()
		}
		run(nodes)
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
		fmt.Println(id, "applied", nodes[id].state)
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

// ExampleMemoryStorage_SetConfState boots a new single-node cluster: its
// storage holds the first configuration, and nothing else. Every member of
// a new cluster boots this way with the same voters; a member added later
// starts from an empty storage and learns the configuration from the
// leader.
func ExampleMemoryStorage_SetConfState() {
	st := raft.NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1}})
	n := &node{}
	n.startOn(raft.Config{ID: 1, Storage: st}, raftloop.NewMemoryDiskOn(st))
	rn := n.rn
	nodes := map[uint64]*node{1: n}
	_ = rn.Campaign()
	run(nodes)
	index, term, err := rn.Propose([]byte("x=1"))
	run(nodes)
	fmt.Println("proposed at", index, "in term", term, err)
	fmt.Println(rn.BasicStatus().RaftState, "applied", nodes[1].state)
	// Output:
	// proposed at 2 in term 1 <nil>
	// StateLeader applied [x=1]
}

// ExampleNewRawNode_restart restarts a node from what it persisted: the
// storage is rebuilt from the node's write-ahead log (its first
// configuration, given to SetConfState again since the node has no
// snapshot, then its entries and hard state), and Config.Applied says how
// far the application's own durable state had got. Committed entries
// after it are handed out again; those up to it are not.
func ExampleNewRawNode_restart() {
	nodes := map[uint64]*node{1: newNode(1, []uint64{1})}
	n := nodes[1]
	_ = n.rn.Campaign()
	run(nodes)
	var savedIndex uint64
	var savedState []string
	for _, p := range []string{"a", "b", "c"} {
		_, _, _ = n.rn.Propose([]byte(p))
		run(nodes)
		if p == "b" { // the state machine saves itself, then crashes after c
			savedIndex, savedState = n.applied(), slices.Clone(n.state)
		}
	}
	fmt.Println("crash at", n.rn.BasicStatus().HardState, "state saved at", savedIndex, savedState)

	// The last write, of the commit index alone, needed no sync; this
	// crash keeps every record written.
	n.disk.Crash(n.disk.Unsynced())
	disk, err := n.disk.Reopen() // every write made again, in order
	if err != nil {
		fmt.Println(err)
		return
	}
	r := &node{disk: disk, conf: n.conf, state: savedState}
	r.start(raft.Config{ID: 1, Applied: savedIndex})
	nodes[1] = r
	fmt.Println("restart:", r.rn.BasicStatus().RaftState, r.rn.BasicStatus().HardState)
	run(nodes)
	fmt.Println("applied", r.applied(), r.state)
	tick(nodes, 20) // an election timeout: it elects itself again
	index, term, _ := r.rn.Propose([]byte("d"))
	fmt.Println("d proposed at", index, "in term", term)
	// Output:
	// crash at Term:1 Vote:1 Commit:4 state saved at 3 [a b]
	// restart: StateFollower Term:1 Vote:1 Commit:4
	// applied 4 [a b c]
	// d proposed at 6 in term 2
}

// ExampleMemoryStorage_Compact shows when a log may be compacted: only up
// to the index the application has applied, and only once a snapshot of
// its state at that index is durable (MemoryStorage keeps it in memory; a
// store on disk writes and syncs the snapshot before dropping entries).
// A follower that needs the compacted entries then gets the snapshot.
func ExampleMemoryStorage_Compact() {
	nodes := newCluster([]uint64{1, 2, 3})
	nodes[3].down = true
	propose(nodes, "a", "b", "c")
	leader := nodes[1]
	storage := leader.disk.MemoryStorage()
	cs := leader.conf
	data := []byte(strings.Join(leader.state, " "))
	if _, err := storage.CreateSnapshot(leader.applied(), &cs, data); err != nil {
		fmt.Println(err)
	}
	// Compact may run now: the snapshot covers everything up to applied.
	if err := storage.Compact(leader.applied()); err != nil {
		fmt.Println(err)
	}
	first, _ := storage.FirstIndex()
	fmt.Println("leader applied", leader.applied(), "log starts at", first)
	// Compacting what is already compacted is refused.
	fmt.Println(storage.Compact(leader.applied()))

	// Node 3 lacks entries the leader no longer holds: it gets the snapshot.
	nodes[3].down = false
	tick(nodes, 1)
	got, _ := nodes[3].disk.Storage().Snapshot()
	fmt.Println("node 3 installed the snapshot at", got.Metadata.Index, "applied", nodes[3].applied(), nodes[3].state)
	// Output:
	// leader applied 4 log starts at 5
	// requested index is unavailable due to compaction: compaction at 4 asked for, already compacted up to 4
	// node 3 installed the snapshot at 4 applied 4 [a b c]
}

// ExampleMemoryStorage_ApplySnapshot replays a write-ahead log into a
// MemoryStorage when a node restarts: every write is made again in the
// order the loop made it, a snapshot received from the leader with
// ApplySnapshot, a snapshot of the node's own with CreateSnapshot and
// Compact (raftloop.CrashDisk.Reopen makes them here). The application's state is restored from the storage's
// snapshot, so Config.Applied is that snapshot's index and the committed
// entries after it are applied again.
func ExampleMemoryStorage_ApplySnapshot() {
	nodes := newCluster([]uint64{1, 2, 3})
	nodes[3].down = true
	propose(nodes, "a", "b", "c")
	nodes[1].snapshot()
	nodes[3].down = false
	tick(nodes, 1) // node 3 receives the leader's snapshot
	propose(nodes, "d")
	nodes[3].snapshot() // a snapshot of its own
	propose(nodes, "e")

	n3 := nodes[3]
	n3.disk.Crash(n3.disk.Unsynced()) // a crash that keeps every record written
	disk, err := n3.disk.Reopen()     // every write made again, in order
	if err != nil {
		fmt.Println(err)
		return
	}
	st := disk.Storage()
	snap, _ := st.Snapshot()
	first, _ := st.FirstIndex()
	last, _ := st.LastIndex()
	fmt.Println("replayed: snapshot at", snap.Metadata.Index, "entries", first, "to", last)
	r := &node{disk: disk}
	_ = r.Restore(snap)
	r.start(raft.Config{ID: 3, Applied: snap.Metadata.Index})
	nodes[3] = r
	run(nodes)
	fmt.Println("node 3 applied", r.applied(), r.state)
	// Output:
	// replayed: snapshot at 5 entries 6 to 6
	// node 3 applied 6 [a b c d e]
}

// ExampleRawNode_ReadIndex serves linearizable reads (thesis §6.4). A read
// comes back as a ReadState in a later Ready: the application serves it
// once it has applied up to the ReadState's Index. A ReadState with Err
// set is a read that failed; here the leader, cut off, loses its
// leadership while its read waits.
func ExampleRawNode_ReadIndex() {
	nodes := newCluster([]uint64{1, 2, 3})
	propose(nodes, "x=1")
	// On a follower: forwarded to the leader, which confirms it is still
	// leader with a round of heartbeats.
	if err := nodes[2].rn.ReadIndex([]byte("read-1")); err != nil {
		fmt.Println(err)
	}
	run(nodes)
	fmt.Println(nodes[2].served)

	nodes[1].down = true
	if err := nodes[1].rn.ReadIndex([]byte("read-2")); err != nil {
		fmt.Println(err)
	}
	tick(nodes, 30)
	fmt.Println(nodes[1].served)
	fmt.Println("new leader:", nodes[2].rn.BasicStatus().Lead)
	// Output:
	// [read-1 at 2: [x=1]]
	// [read-2 failed: raft: read aborted]
	// new leader: 3
}
