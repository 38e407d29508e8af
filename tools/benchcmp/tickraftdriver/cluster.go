// Package tickraftdriver runs the workloads of package workload on
// tickraft (github.com/tickraft/raft) in the synchronous Ready/Advance
// loop of tools/raftloop, over a MemoryDisk, with the checked mode off
// (etcd raft has none). Its structure follows package etcddriver, so that
// the two do the same work per loop iteration. tickraft's count bounds
// (MaxUncommittedEntries, MaxCommittedEntriesPerReady), which etcd raft
// lacks, keep their defaults; no run comes near them.
package tickraftdriver

import (
	"fmt"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/benchcmp/workload"
	"github.com/tickraft/raft/tools/raftloop"
)

// node is one member of a cluster: its loop, its RawNode, its storage,
// and what it has applied.
type node struct {
	id   uint64
	loop *raftloop.Loop
	rn   *raft.RawNode
	st   *raft.MemoryStorage
	// applied is the index of the last entry applied, compacted the index
	// the storage was last compacted to.
	applied, compacted uint64
	// appliedData and appliedBytes count the applied entries that carry
	// data, and their bytes.
	appliedData, appliedBytes int
}

// network holds the messages in flight. Several clusters may share one,
// if they are stabilized one at a time.
type network struct {
	// inbox holds the messages to deliver in the next round; spare is the
	// other buffer of the pair, swapped each round.
	inbox, spare []raftpb.Message
	// arena holds copies of the entries of the messages in inbox: a node
	// takes back the arrays behind the entries it sends after its next
	// Advance, before the round delivers them, and a recipient copies
	// what it keeps, so the arena is reused each round.
	arena []raftpb.Entry
	// sent counts the messages the nodes sent to each other.
	sent int
}

// Cluster is a group of nodes 1..n in one process.
type Cluster struct {
	nodes []node
	net   *network
}

// New returns a cluster of n voters with its own network.
func New(n int, p workload.Params) (*Cluster, error) {
	return newCluster(n, p, &network{}, nil)
}

func newCluster(n int, p workload.Params, net *network, cache *raft.GroupCache) (*Cluster, error) {
	voters := make([]uint64, n)
	for i := range voters {
		voters[i] = uint64(i + 1)
	}
	c := &Cluster{nodes: make([]node, n), net: net}
	for i := range c.nodes {
		disk := raftloop.NewMemoryDisk()
		disk.Bootstrap(raftpb.ConfState{Voters: voters})
		st := disk.MemoryStorage()
		first, _ := st.FirstIndex()
		nd := &c.nodes[i]
		*nd = node{id: uint64(i + 1), st: st, applied: first - 1, compacted: first - 1}
		loop, err := raftloop.New(raftloop.Config{
			Raft: raft.Config{
				ID:                        uint64(i + 1),
				ElectionTick:              p.ElectionTick,
				HeartbeatTick:             p.HeartbeatTick,
				MaxSizePerMsg:             p.MaxSizePerMsg,
				MaxInflightMsgs:           p.MaxInflightMsgs,
				MaxInflightBytes:          p.MaxInflightBytes,
				MaxUncommittedEntriesSize: p.MaxUncommittedEntriesSize,
				MaxCommittedSizePerReady:  p.MaxCommittedSizePerReady,
				GroupCache:                cache,
				// The driver persists and applies before Advance, and
				// its network copies the entries it delivers (queue), so
				// it may let the nodes take back their entry arrays.
				ReuseEntryArrays: true,
			},
			Disk: disk, Network: net, StateMachine: nd, Unchecked: true,
		})
		if err != nil {
			return nil, err
		}
		nd.loop, nd.rn = loop, loop.RawNode()
	}
	return c, nil
}

// Elect makes node 1 campaign and stabilizes the cluster; it fails unless
// node 1 then leads.
func (c *Cluster) Elect() error {
	if err := c.nodes[0].rn.Campaign(); err != nil {
		return err
	}
	if err := c.Stabilize(); err != nil {
		return err
	}
	_, err := c.Leader()
	return err
}

// Leader returns the term of node 1 if it leads and every other node
// follows it in that term, and an error otherwise.
func (c *Cluster) Leader() (term uint64, err error) {
	for i := range c.nodes {
		nd := &c.nodes[i]
		s := nd.rn.BasicStatus()
		want := raft.StateFollower
		if nd.id == 1 {
			want, term = raft.StateLeader, s.Term
		}
		if s.RaftState != want || s.Lead != 1 || s.Term != term {
			return 0, fmt.Errorf("tickraft node %d: %v led by %d in term %d, want %v led by 1 in term %d",
				nd.id, s.RaftState, s.Lead, s.Term, want, term)
		}
	}
	return term, nil
}

// Propose proposes count entries carrying data on node 1.
func (c *Cluster) Propose(data []byte, count int) error {
	rn := c.nodes[0].rn
	for i := 0; i < count; i++ {
		if _, _, err := rn.Propose(data); err != nil {
			return fmt.Errorf("tickraft proposal %d: %w", i, err)
		}
	}
	return nil
}

// Tick ticks every node once.
func (c *Cluster) Tick() {
	for i := range c.nodes {
		nd := &c.nodes[i]
		nd.rn.Tick()
	}
}

// Stabilize handles Readys and delivers messages until no node has work,
// then compacts the storages that hold many applied entries.
func (c *Cluster) Stabilize() error {
	for round := 0; round < workload.MaxStabilizeRounds; round++ {
		moved := false
		for i := range c.nodes {
			nd := &c.nodes[i]
			for {
				handled, err := c.handleReady(nd)
				if err != nil {
					return err
				}
				if !handled {
					break
				}
				moved = true
			}
		}
		if !moved && len(c.net.inbox) == 0 {
			return c.compact()
		}
		if err := c.deliver(); err != nil {
			return err
		}
	}
	return fmt.Errorf("tickraft cluster does not quiesce in %d rounds", workload.MaxStabilizeRounds)
}

// handleReady does the work of nd's next Ready, if it has one, and
// reports whether it had one: persist, send, apply, advance
// (tools/raftloop). Like etcddriver's loop it asks the node once per
// Ready whether it has one.
func (c *Cluster) handleReady(nd *node) (bool, error) { return nd.loop.NextReady() }

// Send queues msgs for the next round, their entries copied into the
// arena.
func (n *network) Send(msgs []raftpb.Message) {
	for _, m := range msgs {
		if len(m.Entries) > 0 {
			k := len(n.arena)
			n.arena = append(n.arena, m.Entries...)
			m.Entries = n.arena[k:len(n.arena):len(n.arena)]
		}
		n.inbox = append(n.inbox, m)
	}
	n.sent += len(msgs)
}

// Restore is never called: no snapshot is sent in these workloads.
func (nd *node) Restore(snap raftpb.Snapshot) error {
	return fmt.Errorf("tickraft node %d: unexpected snapshot %d/%d", nd.id, snap.Metadata.Term, snap.Metadata.Index)
}

// Apply applies one entry, checking that it follows the last applied.
func (nd *node) Apply(e raftpb.Entry, _ raftloop.ConfApplied) error {
	if e.Index != nd.applied+1 {
		return fmt.Errorf("tickraft node %d applies index %d after %d", nd.id, e.Index, nd.applied)
	}
	nd.applied = e.Index
	if n := len(e.Data); n > 0 {
		nd.appliedData++
		nd.appliedBytes += n
	}
	return nil
}

// deliver steps every message in flight into its recipient.
func (c *Cluster) deliver() error {
	msgs := c.net.inbox
	c.net.inbox = c.net.spare[:0]
	for i := range msgs {
		if err := c.nodes[msgs[i].To-1].rn.Step(msgs[i]); err != nil {
			return fmt.Errorf("tickraft step %s %d->%d: %w", msgs[i].Type, msgs[i].From, msgs[i].To, err)
		}
	}
	clear(msgs) // drop references to entries for the collector
	c.net.spare = msgs[:0]
	c.net.arena = c.net.arena[:0] // the recipients copied what they keep
	return nil
}

// compact compacts the storage of every node that holds more than
// workload.CompactEvery applied entries up to its applied index.
func (c *Cluster) compact() error {
	for i := range c.nodes {
		nd := &c.nodes[i]
		if nd.applied-nd.compacted < workload.CompactEvery {
			continue
		}
		if err := nd.st.Compact(nd.applied); err != nil {
			return err
		}
		nd.compacted = nd.applied
	}
	return nil
}

// CheckApplied fails unless every node applied exactly entries entries
// carrying data, of bytes bytes in all.
func (c *Cluster) CheckApplied(entries, bytes int) error {
	for i := range c.nodes {
		nd := &c.nodes[i]
		if nd.appliedData != entries || nd.appliedBytes != bytes {
			return fmt.Errorf("tickraft node %d applied %d entries of %d bytes, want %d of %d bytes",
				nd.id, nd.appliedData, nd.appliedBytes, entries, bytes)
		}
	}
	return nil
}

// Sent returns the messages the nodes sent to each other.
func (c *Cluster) Sent() int { return c.net.sent }
