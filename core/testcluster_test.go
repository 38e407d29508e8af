package core

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// testCluster is a minimal in-package cluster: it persists each Ready to
// the node's MemoryStorage, delivers messages by calling Step, and fails
// the test on any refused message or broken invariant.
type testCluster struct {
	t     *testing.T
	nodes map[uint64]*Raft
	st    map[uint64]*MemoryStorage
	// lenient makes stabilize tolerate refused messages (fuzzing feeds
	// forged input, after which refusals are expected); invariants are
	// still checked after every step.
	lenient bool
	// pending holds messages taken by takeReads, not yet delivered.
	pending []raftpb.Message
	// chunks holds the snapshot chunks each node's worker saved, by
	// snapshot index (chunked snapshot transfer).
	chunks map[uint64]map[uint64]map[uint64][]byte
	// chunksSaved counts the chunks each node's worker saved.
	chunksSaved map[uint64]int
	// applied, if set, is shown the entries each Ready hands out to apply.
	applied func(id uint64, ents []raftpb.Entry)
}

// snapshotWorker plays the snapshot worker of m.From: it serves a chunk
// request from the node's storage, or saves a chunk and reports it saved.
func (c *testCluster) snapshotWorker(m raftpb.Message) {
	c.t.Helper()
	switch m.Type {
	case raftpb.MsgSnapChunkReq:
		snap, _ := c.st[m.From].Snapshot()
		reply := ServeSnapshotChunkFrom(m, snap)
		if c.nodes[reply.To] != nil {
			c.stepChecked(reply)
		}
	case raftpb.MsgSnapChunk:
		if c.chunks == nil {
			c.chunks = map[uint64]map[uint64]map[uint64][]byte{}
		}
		if c.chunks[m.From] == nil {
			c.chunks[m.From] = map[uint64]map[uint64][]byte{}
		}
		if c.chunks[m.From][m.Index] == nil {
			c.chunks[m.From][m.Index] = map[uint64][]byte{}
		}
		c.chunks[m.From][m.Index][m.Commit] = append([]byte(nil), m.Context...)
		if c.chunksSaved == nil {
			c.chunksSaved = map[uint64]int{}
		}
		c.chunksSaved[m.From]++
		for _, r := range m.Responses {
			c.stepChecked(r)
		}
	}
}

// assemble fills in the data of a snapshot node id installs from chunks.
func (c *testCluster) assemble(id uint64, snap raftpb.Snapshot) raftpb.Snapshot {
	parts := c.chunks[id][snap.Metadata.Index]
	if snap.Data != nil || parts == nil {
		return snap
	}
	for i := uint64(0); i < uint64(len(parts)); i++ {
		snap.Data = append(snap.Data, parts[i]...)
	}
	return snap
}

func newTestCluster(t *testing.T, n int) *testCluster {
	t.Helper()
	return newTestClusterWith(t, n, nil)
}

// newTestClusterWith builds a cluster whose Configs are adjusted by opt.
func newTestClusterWith(t *testing.T, n int, opt func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, nodes: map[uint64]*Raft{}, st: map[uint64]*MemoryStorage{}}
	var ids []uint64
	for i := 1; i <= n; i++ {
		ids = append(ids, uint64(i))
	}
	for _, id := range ids {
		st := NewMemoryStorage()
		st.SetConfState(raftpb.ConfState{Voters: ids})
		cfg := Config{ID: id, Storage: st, CheckContract: true}
		if opt != nil {
			opt(&cfg)
		}
		r, err := NewRaft(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.nodes[id], c.st[id] = r, st
	}
	return c
}

// up returns the IDs of the running nodes, those in c.nodes (a test takes
// a node down by deleting it), in ascending order.
func (c *testCluster) up() []uint64 { return slices.Sorted(maps.Keys(c.nodes)) }

// stabilize runs Ready/Advance and delivers messages until nothing moves.
func (c *testCluster) stabilize() {
	c.t.Helper()
	for round := 0; round < 1000; round++ {
		var msgs []raftpb.Message
		for _, id := range c.up() {
			msgs = append(msgs, c.drain(id)...)
		}
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			if m.To == LocalSnapshotThread {
				c.snapshotWorker(m)
				continue
			}
			if c.nodes[m.To] == nil {
				continue // the node is down: the message is lost
			}
			c.stepChecked(m)
		}
	}
	c.t.Fatal("cluster never quiesced")
}

// stepChecked delivers m, failing the test if a correct message is refused
// (unless lenient) or the recipient breaks an invariant.
func (c *testCluster) stepChecked(m raftpb.Message) {
	c.t.Helper()
	if err := c.nodes[m.To].Step(m); err != nil && !c.lenient {
		c.t.Fatalf("step %v: %v", m, err)
	}
	if err := c.nodes[m.To].CheckInvariants(); err != nil {
		c.t.Fatal(err)
	}
}

// drain handles every Ready of node id and returns the messages to send.
func (c *testCluster) drain(id uint64) []raftpb.Message {
	r, st := c.nodes[id], c.st[id]
	var out []raftpb.Message
	for n := 0; r.HasReady(); n++ {
		if n == 100 {
			c.t.Fatalf("node %d: HasReady stays true after 100 Readys (%v, log %s)", id, r.BasicStatus(), &r.raftLog)
		}
		rd := r.Ready()
		if !rd.HardState.IsEmpty() {
			must(c.t, st.SetHardState(rd.HardState))
		}
		if !rd.Snapshot.IsEmpty() {
			must(c.t, st.ApplySnapshot(c.assemble(id, rd.Snapshot)))
		}
		must(c.t, st.Append(rd.Entries))
		out = append(out, rd.LocalMessages...)
		out = append(out, rd.Messages...)
		out = append(out, rd.MessagesAfterPersist...)
		if c.applied != nil {
			c.applied(id, rd.CommittedEntries)
		}
		c.applyConfChanges(r, rd.CommittedEntries)
		r.Advance()
	}
	return out
}

// applyConfChanges applies the conf change entries among ents, as the
// application does when it applies them.
func (c *testCluster) applyConfChanges(r *Raft, ents []raftpb.Entry) {
	for _, e := range ents {
		cc, err := e.ConfChange()
		must(c.t, err)
		if cc == nil {
			continue
		}
		if _, err := r.ApplyConfChange(cc); err != nil {
			c.t.Fatalf("node %d applying %v: %v", r.id, cc, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// electedCluster returns a 3-node cluster led by node 1 with n committed
// proposals.
func electedCluster(t *testing.T, n int) *testCluster {
	return electedClusterWith(t, n, nil)
}

// electedClusterWith is electedCluster with adjusted Configs.
func electedClusterWith(t *testing.T, n int, opt func(*Config)) *testCluster {
	c := newTestClusterWith(t, 3, opt)
	must(t, c.nodes[1].Campaign())
	c.stabilize()
	for i := 0; i < n; i++ {
		if _, _, err := c.nodes[1].Propose([]byte(fmt.Sprintf("p%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	c.stabilize()
	return c
}

// fingerprint captures everything a refused message must leave untouched.
func fingerprint(r *Raft) string {
	return fmt.Sprintf("%v|%v|%d/%d/%d|%v|%d|%d|%d|%d|%v",
		r.hardState(), r.softState(), r.raftLog.lastIndex(), r.raftLog.committed, r.raftLog.applied,
		r.trk.ProgressMap().String(), len(r.out.msgs), len(r.out.afterAppend), r.clock.electionElapsed,
		uncommittedSize(r), r.appendsPending)
}

// uncommittedSize returns the bytes of r's uncommitted tail (0 on a node
// that is not leading, which has none).
func uncommittedSize(r *Raft) uint64 {
	if r.leader == nil {
		return 0
	}
	return r.leader.uncommitted.size
}
