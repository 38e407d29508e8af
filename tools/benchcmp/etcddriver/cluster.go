// Package etcddriver runs the workloads of package workload on etcd's raft
// library, go.etcd.io/raft/v3, in its synchronous Ready/Advance loop (with
// AsyncStorageWrites off). Its structure follows package tickraftdriver
// line for line, so that the two do the same work per loop iteration.
//
// Each node boots from a MemoryStorage holding a snapshot at index 1, term
// 1, whose ConfState names the voters: etcd's way of starting a group
// from storage, as tickraft's SetConfState is. CheckQuorum and PreVote are
// on, as they are by default in tickraft; ReadOnlyOption keeps its default
// (ReadOnlySafe), and log lines are discarded, as tickraft's default
// Logger does.
package etcddriver

import (
	"fmt"

	raft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/tickraft/raft/tools/benchcmp/workload"
)

// node is one member of a cluster: its RawNode, its storage, and what it
// has applied.
type node struct {
	id uint64
	rn *raft.RawNode
	st *raft.MemoryStorage
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
	return newCluster(n, p, &network{})
}

func newCluster(n int, p workload.Params, net *network) (*Cluster, error) {
	voters := make([]uint64, n)
	for i := range voters {
		voters[i] = uint64(i + 1)
	}
	c := &Cluster{nodes: make([]node, n), net: net}
	for i := range c.nodes {
		st := raft.NewMemoryStorage()
		boot := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 1, Term: 1, ConfState: raftpb.ConfState{Voters: voters}}}
		if err := st.ApplySnapshot(boot); err != nil {
			return nil, err
		}
		rn, err := raft.NewRawNode(&raft.Config{
			ID:                        uint64(i + 1),
			ElectionTick:              p.ElectionTick,
			HeartbeatTick:             p.HeartbeatTick,
			Storage:                   st,
			MaxSizePerMsg:             p.MaxSizePerMsg,
			MaxInflightMsgs:           p.MaxInflightMsgs,
			MaxInflightBytes:          p.MaxInflightBytes,
			MaxUncommittedEntriesSize: p.MaxUncommittedEntriesSize,
			MaxCommittedSizePerReady:  p.MaxCommittedSizePerReady,
			CheckQuorum:               true,
			PreVote:                   true,
			Logger:                    DiscardLogger{},
		})
		if err != nil {
			return nil, err
		}
		first, _ := st.FirstIndex()
		c.nodes[i] = node{id: uint64(i + 1), rn: rn, st: st, applied: first - 1, compacted: first - 1}
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
			return 0, fmt.Errorf("etcd node %d: %v led by %d in term %d, want %v led by 1 in term %d",
				nd.id, s.RaftState, s.Lead, s.Term, want, term)
		}
	}
	return term, nil
}

// Propose proposes count entries carrying data on node 1.
func (c *Cluster) Propose(data []byte, count int) error {
	rn := c.nodes[0].rn
	for i := 0; i < count; i++ {
		if err := rn.Propose(data); err != nil {
			return fmt.Errorf("etcd proposal %d: %w", i, err)
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
			for nd.rn.HasReady() {
				if err := c.handleReady(nd); err != nil {
					return err
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
	return fmt.Errorf("etcd cluster does not quiesce in %d rounds", workload.MaxStabilizeRounds)
}

// handleReady does the work of one Ready of nd: persist, send, apply,
// advance. In the synchronous mode etcd puts every message in
// Ready.Messages, to be sent once the Ready's writes are durable.
func (c *Cluster) handleReady(nd *node) error {
	rd := nd.rn.Ready()
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := nd.st.ApplySnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	if err := nd.st.Append(rd.Entries); err != nil {
		return err
	}
	if !raft.IsEmptyHardState(rd.HardState) {
		if err := nd.st.SetHardState(rd.HardState); err != nil {
			return err
		}
	}
	c.net.inbox = append(c.net.inbox, rd.Messages...)
	c.net.sent += len(rd.Messages)
	if err := nd.apply(rd.CommittedEntries); err != nil {
		return err
	}
	nd.rn.Advance(rd)
	return nil
}

// apply applies ents, checking that each follows the last applied.
func (nd *node) apply(ents []raftpb.Entry) error {
	for i := range ents {
		if ents[i].Index != nd.applied+1 {
			return fmt.Errorf("etcd node %d applies index %d after %d", nd.id, ents[i].Index, nd.applied)
		}
		nd.applied = ents[i].Index
		if n := len(ents[i].Data); n > 0 {
			nd.appliedData++
			nd.appliedBytes += n
		}
	}
	return nil
}

// deliver steps every message in flight into its recipient.
func (c *Cluster) deliver() error {
	msgs := c.net.inbox
	c.net.inbox = c.net.spare[:0]
	for i := range msgs {
		if err := c.nodes[msgs[i].To-1].rn.Step(msgs[i]); err != nil {
			return fmt.Errorf("etcd step %s %d->%d: %w", msgs[i].Type, msgs[i].From, msgs[i].To, err)
		}
	}
	clear(msgs) // drop references to entries for the collector
	c.net.spare = msgs[:0]
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
			return fmt.Errorf("etcd node %d applied %d entries of %d bytes, want %d of %d bytes",
				nd.id, nd.appliedData, nd.appliedBytes, entries, bytes)
		}
	}
	return nil
}

// Sent returns the messages the nodes sent to each other.
func (c *Cluster) Sent() int { return c.net.sent }
