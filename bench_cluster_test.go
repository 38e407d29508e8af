package raft

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// clusterNode is one member of an in-process test cluster: a RawNode and
// the MemoryStorage it persists to.
type clusterNode struct {
	id      uint64
	rn      *RawNode
	st      *MemoryStorage
	applied uint64
}

// keepMessage returns m with its own copy of its entries, for a test
// transport that holds m past its sender's Advance: the node takes back
// the array behind the entries it sends then.
func keepMessage(m raftpb.Message) raftpb.Message {
	m.Entries = slices.Clone(m.Entries)
	return m
}

// appendKept appends msgs to queue, each kept with keepMessage.
func appendKept(queue, msgs []raftpb.Message) []raftpb.Message {
	for _, m := range msgs {
		queue = append(queue, keepMessage(m))
	}
	return queue
}

// newClusterNodes boots n voters, 1..n, from fresh storage. configure, if
// not nil, adjusts each node's Config before it starts.
func newClusterNodes(tb testing.TB, n int, configure func(*Config)) []*clusterNode {
	tb.Helper()
	voters := make([]uint64, n)
	for i := range voters {
		voters[i] = uint64(i + 1)
	}
	nodes := make([]*clusterNode, n)
	for i := range nodes {
		st := NewMemoryStorage()
		st.SetConfState(raftpb.ConfState{Voters: voters})
		cfg := &Config{ID: uint64(i + 1), Storage: st}
		if configure != nil {
			configure(cfg)
		}
		rn, err := NewRawNode(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		nodes[i] = &clusterNode{id: cfg.ID, rn: rn, st: st}
	}
	return nodes
}

// persist writes what rd asks to persist to the node's storage, in the
// order the Ready contract gives: snapshot, entries, hard state.
func (nd *clusterNode) persist(tb testing.TB, rd *Ready) {
	if !rd.Snapshot.IsEmpty() {
		if err := nd.st.ApplySnapshot(rd.Snapshot); err != nil {
			tb.Fatalf("node %d: %v", nd.id, err)
		}
	}
	if err := nd.st.Append(rd.Entries); err != nil {
		tb.Fatalf("node %d: %v", nd.id, err)
	}
	if !rd.HardState.IsEmpty() {
		if err := nd.st.SetHardState(rd.HardState); err != nil {
			tb.Fatalf("node %d: %v", nd.id, err)
		}
	}
}

// benchCluster drives nodes the simplest way: every Ready is persisted to
// MemoryStorage, its messages are delivered by calling Step on their
// recipient, its committed entries are counted as applied, and the node
// is advanced. The driver reuses its buffers, so that what a benchmark
// measures is the library's cost.
type benchCluster struct {
	nodes []*clusterNode
	// inbox holds the messages to deliver in the next round; spare is the
	// other buffer of the pair, swapped each round.
	inbox, spare []raftpb.Message
	// reuse reports whether the nodes take back their entry arrays
	// (Config.ReuseEntryArrays). Then arena holds copies of the entries
	// of the messages in inbox: a node takes back the arrays behind the
	// entries it sends after its next Advance, before the round delivers
	// them, and a recipient copies what it keeps, so the arena is reused
	// each round. Without it the messages keep their entries: the sender
	// never writes into them, and a recipient may keep them.
	reuse bool
	arena []raftpb.Entry
	// onReady, when set, sees each Ready before the cluster handles it.
	onReady func(nd *clusterNode, rd Ready)
	// sent counts the messages the nodes sent to each other.
	sent int
	// appliedData counts the entries carrying data that node 1 applied.
	appliedData int
}

// compactEvery bounds the entries a benchmark keeps in each storage.
const compactEvery = 1 << 14

// newBenchCluster returns n nodes that take back their entry arrays
// (Config.ReuseEntryArrays): the benchmark's driver persists, sends (its
// in-process delivery copies entries) and applies before Advance.
func newBenchCluster(tb testing.TB, n int) *benchCluster {
	return newBenchClusterReusing(tb, n, true)
}

// newBenchClusterReusing returns n nodes configured with
// ReuseEntryArrays set to reuse.
func newBenchClusterReusing(tb testing.TB, n int, reuse bool) *benchCluster {
	return &benchCluster{reuse: reuse, nodes: newClusterNodes(tb, n, func(cfg *Config) { cfg.ReuseEntryArrays = reuse })}
}

// elect makes node 1 the leader and settles the cluster.
func (c *benchCluster) elect(tb testing.TB) {
	tb.Helper()
	if err := c.nodes[0].rn.Campaign(); err != nil {
		tb.Fatal(err)
	}
	c.stabilize(tb)
	if s := c.nodes[0].rn.BasicStatus(); s.RaftState != StateLeader {
		tb.Fatalf("node 1 is %v after its campaign", s.RaftState)
	}
}

// stabilize handles Readys and delivers messages until no node has work.
func (c *benchCluster) stabilize(tb testing.TB) {
	for round := 0; ; round++ {
		if round > 10000 {
			tb.Fatal("the cluster does not quiesce")
		}
		moved := false
		for _, nd := range c.nodes {
			for nd.rn.HasReady() {
				c.handleReady(tb, nd)
				moved = true
			}
		}
		if !moved && len(c.inbox) == 0 {
			c.compact(tb)
			return
		}
		c.deliver(tb)
	}
}

// handleReady does the work of one Ready of nd.
func (c *benchCluster) handleReady(tb testing.TB, nd *clusterNode) {
	rd := nd.rn.Ready()
	if c.onReady != nil {
		c.onReady(nd, rd)
	}
	nd.persist(tb, &rd)
	c.queue(rd.Messages)
	c.queue(rd.MessagesAfterPersist)
	c.sent += len(rd.Messages) + len(rd.MessagesAfterPersist)
	if n := len(rd.CommittedEntries); n > 0 {
		nd.applied = rd.CommittedEntries[n-1].Index
		if nd.id == 1 {
			c.countData(rd.CommittedEntries)
		}
	}
	nd.rn.Advance()
}

// countData counts the applied entries that carry data (proposals).
func (c *benchCluster) countData(ents []raftpb.Entry) {
	for i := range ents {
		if len(ents[i].Data) > 0 {
			c.appliedData++
		}
	}
}

// queue adds msgs to the inbox, their entries copied into the arena when
// the sender takes its arrays back.
func (c *benchCluster) queue(msgs []raftpb.Message) {
	for _, m := range msgs {
		if c.reuse && len(m.Entries) > 0 {
			k := len(c.arena)
			c.arena = append(c.arena, m.Entries...)
			m.Entries = c.arena[k:len(c.arena):len(c.arena)]
		}
		c.inbox = append(c.inbox, m)
	}
}

// deliver steps every message of the inbox into its recipient.
func (c *benchCluster) deliver(tb testing.TB) {
	msgs := c.inbox
	c.inbox = c.spare[:0]
	for i := range msgs {
		if err := c.nodes[msgs[i].To-1].rn.Step(msgs[i]); err != nil {
			tb.Fatalf("step %s %d->%d: %v", msgs[i].Type, msgs[i].From, msgs[i].To, err)
		}
	}
	clear(msgs) // drop references to entries for the collector
	c.spare = msgs[:0]
	c.arena = c.arena[:0] // the recipients copied what they keep
}

// compact drops applied entries from storages that hold many, so that a
// long benchmark keeps a bounded log. It compacts no further than storage
// holds: in the asynchronous storage mode a node may apply entries (which
// a quorum holds) before its own write of them is durable.
func (c *benchCluster) compact(tb testing.TB) {
	for _, nd := range c.nodes {
		first, _ := nd.st.FirstIndex()
		last, _ := nd.st.LastIndex()
		upTo := min(nd.applied, last)
		if upTo < first+compactEvery {
			continue
		}
		if err := nd.st.Compact(upTo); err != nil {
			tb.Fatalf("node %d: %v", nd.id, err)
		}
	}
}

// propose proposes count copies of data on node 1.
func (c *benchCluster) propose(tb testing.TB, data []byte, count int) {
	for i := 0; i < count; i++ {
		if _, _, err := c.nodes[0].rn.Propose(data); err != nil {
			tb.Fatal(fmt.Errorf("proposal %d: %w", i, err))
		}
	}
}
