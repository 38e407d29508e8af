package raft

// The chunked transfer's speed-up, measured: how many loop iterations a
// new member needs to fetch a large snapshot when every node's outgoing
// link carries a fixed number of bytes per iteration, from the leader
// alone versus from the leader and two followers. The counts are
// deterministic (the driver has no clock and no randomness), so the test
// asserts the speed-up.
//
//	go test -run TestChunkedCatchUp -v .

import (
	"bytes"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

const (
	bwSnapshotSize = 16 << 20 // the state machine's snapshot
	bwChunkSize    = 64 << 10 // bytes per chunk
	bwBandwidth    = 96 << 10 // bytes each node may send per iteration
	bwSnapIndex    = 8        // every member snapshots here (SnapshotInterval)
)

// bwNode is one member of the bandwidth-limited cluster.
type bwNode struct {
	id     uint64
	rn     *RawNode
	st     *MemoryStorage
	egress []raftpb.Message // queued on the outgoing link
	credit int              // bytes the link may still send
	inbox  []raftpb.Message // arrived, to step next iteration
	chunks map[uint64][]byte
}

// bwCluster is a cluster whose links carry bwBandwidth bytes per node and
// iteration.
type bwCluster struct {
	t     *testing.T
	nodes map[uint64]*bwNode
	ids   []uint64
}

func newBWCluster(t *testing.T, interval uint64) *bwCluster {
	c := &bwCluster{t: t, nodes: map[uint64]*bwNode{}}
	for id := uint64(1); id <= 4; id++ {
		st := NewMemoryStorage()
		if id <= 3 {
			st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
		}
		rn, err := NewRawNode(&Config{
			ID: id, Storage: st, ElectionTick: 50, HeartbeatTick: 1,
			SnapshotChunkSize: bwChunkSize, SnapshotInterval: interval,
			MaxSnapshotChunksInflight: 12, MaxSnapshotChunksPerSource: 4,
			SnapshotChunkTimeout: 1000,
		})
		if err != nil {
			t.Fatal(err)
		}
		c.nodes[id] = &bwNode{id: id, rn: rn, st: st, chunks: map[uint64][]byte{}}
		c.ids = append(c.ids, id)
	}
	return c
}

// iterate runs one loop iteration: every node steps what arrived, ticks
// and handles its Readys; then every link sends what its bandwidth allows.
func (c *bwCluster) iterate() {
	for _, id := range c.ids {
		nd := c.nodes[id]
		for _, m := range nd.inbox {
			if err := nd.rn.Step(m); err != nil {
				c.t.Fatalf("node %d refused %v: %v", id, m, err)
			}
		}
		nd.inbox = nil
		nd.rn.Tick()
		for nd.rn.HasReady() {
			c.handleReady(nd)
		}
	}
	for _, id := range c.ids {
		nd := c.nodes[id]
		nd.credit += bwBandwidth
		for len(nd.egress) > 0 && nd.egress[0].Size() <= nd.credit {
			m := nd.egress[0]
			nd.egress = nd.egress[1:]
			nd.credit -= m.Size()
			c.nodes[m.To].inbox = append(c.nodes[m.To].inbox, m)
		}
		if len(nd.egress) == 0 {
			nd.credit = min(nd.credit, bwBandwidth)
		}
	}
}

// handleReady persists, sends, applies and advances one Ready; the
// snapshot worker runs after Advance.
func (c *bwCluster) handleReady(nd *bwNode) {
	rd := nd.rn.Ready()
	if !rd.Snapshot.IsEmpty() {
		snap := rd.Snapshot
		if snap.Data == nil {
			snap.Data = nd.assemble()
		}
		if err := nd.st.ApplySnapshot(snap); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := nd.st.Append(rd.Entries); err != nil {
		c.t.Fatal(err)
	}
	if !rd.HardState.IsEmpty() {
		if err := nd.st.SetHardState(rd.HardState); err != nil {
			c.t.Fatal(err)
		}
	}
	work := rd.LocalMessages
	nd.egress = appendKept(nd.egress, rd.Messages)
	nd.egress = appendKept(nd.egress, rd.MessagesAfterPersist)
	for _, e := range rd.CommittedEntries {
		if cc, err := e.ConfChange(); err == nil && cc != nil {
			if _, err := nd.rn.ApplyConfChange(cc); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	nd.rn.Advance()
	for _, m := range work {
		nd.snapshotWork(c.t, m)
	}
}

// snapshotWork serves a chunk from the node's snapshot or saves one.
func (nd *bwNode) snapshotWork(t *testing.T, m raftpb.Message) {
	switch m.Type {
	case raftpb.MsgSnapChunkReq:
		snap, _ := nd.st.Snapshot()
		nd.egress = append(nd.egress, ServeSnapshotChunkFrom(m, snap))
	case raftpb.MsgSnapChunk:
		nd.chunks[m.Commit] = m.Context
		for _, r := range m.Responses {
			if err := nd.rn.Step(r); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (nd *bwNode) assemble() []byte {
	var data []byte
	for i := uint64(0); i < uint64(len(nd.chunks)); i++ {
		data = append(data, nd.chunks[i]...)
	}
	return data
}

// catchUp elects node 1, commits entries up to bwSnapIndex, makes every
// voter snapshot there with the same data, adds node 4 as a learner and
// returns the iterations until node 4 holds the snapshot.
func catchUp(t *testing.T, interval uint64) int {
	c := newBWCluster(t, interval)
	if err := c.nodes[1].rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	for i := 0; c.nodes[1].rn.BasicStatus().Commit < bwSnapIndex; i++ {
		if i%4 == 0 && c.nodes[1].rn.BasicStatus().RaftState == StateLeader {
			_, _, _ = c.nodes[1].rn.Propose([]byte("x"))
		}
		c.iterate()
	}
	for k := 0; k < 5; k++ {
		c.iterate() // let every voter apply
	}
	data := bytes.Repeat([]byte("snapshot"), bwSnapshotSize/8)
	for _, id := range []uint64{1, 2, 3} {
		cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}}
		if _, err := c.nodes[id].st.CreateSnapshot(bwSnapIndex, &cs, data); err != nil {
			t.Fatal(err)
		}
		if err := c.nodes[id].st.Compact(bwSnapIndex); err != nil {
			t.Fatal(err)
		}
	}
	cc := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 4}}}
	if _, _, err := c.nodes[1].rn.ProposeConfChange(cc); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2000; i++ {
		c.iterate()
		if snap, _ := c.nodes[4].st.Snapshot(); snap.Metadata.Index == bwSnapIndex {
			if !bytes.Equal(snap.Data, data) {
				t.Fatalf("node 4 assembled %d bytes that differ from the snapshot", len(snap.Data))
			}
			return i
		}
	}
	t.Fatal("node 4 never received the snapshot")
	return 0
}

func TestChunkedCatchUpDrawsOnFollowers(t *testing.T) {
	alone := catchUp(t, 0)
	three := catchUp(t, bwSnapIndex/2)
	t.Logf("%d MiB snapshot, %d KiB chunks, %d KiB per node and iteration: leader alone %d iterations, leader and two followers %d (%.2fx)",
		bwSnapshotSize>>20, bwChunkSize>>10, bwBandwidth>>10, alone, three, float64(alone)/float64(three))
	if float64(alone) < 2.5*float64(three) {
		t.Fatalf("three sources took %d iterations, the leader alone %d: want at least 2.5x faster", three, alone)
	}
}
