package raft_test

import (
	"bytes"
	"fmt"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// snapshotWorker does the chunked transfer's work a Ready hands out in
// LocalMessages: it serves chunk requests from the snapshot in storage
// and returns them to send, and saves received chunks (in memory here;
// durably on disk in a real application), keeping their answers for the
// loop to step.
func (n *node) snapshotWorker(work []raftpb.Message) []raftpb.Message {
	var out []raftpb.Message
	for _, m := range work {
		if m.Type == raftpb.MsgSnapChunkReq {
			snap, _ := n.storage.Snapshot()
			out = append(out, raft.ServeSnapshotChunkFrom(m, snap))
			continue
		}
		c, err := raftpb.ParseChunk(m)
		if err != nil {
			panic(err) // the node wrote it
		}
		if n.chunks == nil {
			n.chunks = map[raftpb.ChunkID][]byte{}
		}
		n.chunks[c.ID] = bytes.Clone(c.Data)
		n.fetched++
		n.saved = append(n.saved, m.Responses...)
	}
	return out
}

// assemble gives a snapshot fetched in chunks its data: the chunks saved
// for its index and term, in order. Other snapshots come whole.
func (n *node) assemble(snap raftpb.Snapshot) raftpb.Snapshot {
	if snap.Data != nil || n.chunks == nil {
		return snap
	}
	id := raftpb.ChunkID{Index: snap.Metadata.Index, Term: snap.Metadata.Term}
	for ; ; id.Chunk++ {
		part, ok := n.chunks[id]
		if !ok {
			break
		}
		snap.Data = append(snap.Data, part...)
	}
	n.chunks = nil // chunks of older snapshots are of no more use
	return snap
}

// newChunkedCluster boots a node for each voter with the chunked snapshot
// transfer on, in chunks of size bytes, and elects node 1.
func newChunkedCluster(voters []uint64, size uint64) map[uint64]*node {
	nodes := map[uint64]*node{}
	for _, id := range voters {
		boot := raftpb.ConfState{Voters: voters}
		n := &node{storage: raft.NewMemoryStorage(), conf: boot}
		n.write(walRecord{boot: &boot})
		n.start(&raft.Config{ID: id, Storage: n.storage, SnapshotChunkSize: size})
		nodes[id] = n
	}
	_ = nodes[1].rn.Campaign()
	run(nodes)
	return nodes
}

// Example_chunkedSnapshotTransfer runs the loop of the package
// documentation with the chunked snapshot transfer on: node 3 misses
// entries the leader has compacted, so it fetches the leader's snapshot in
// chunks of 4 bytes. The loop sends every Message to the network as it
// is; the snapshot worker's work comes apart, in Ready.LocalMessages (a
// message to the worker sent to the network would reach no node and stop
// the example).
func Example_chunkedSnapshotTransfer() {
	nodes := newChunkedCluster([]uint64{1, 2, 3}, 4)
	nodes[3].down = true
	propose(nodes, "alpha", "beta", "gamma", "delta")
	nodes[1].snapshot()
	snap, _ := nodes[1].storage.Snapshot()
	fmt.Printf("leader's snapshot at %d: %q\n", snap.Metadata.Index, snap.Data)

	nodes[3].down = false
	tick(nodes, 3) // heartbeats: the leader offers node 3 its snapshot
	fmt.Println("3 fetched", nodes[3].fetched, "chunks, applied", nodes[3].state, "at", nodes[3].applied)
	// Output:
	// leader's snapshot at 5: "alpha beta gamma delta"
	// 3 fetched 6 chunks, applied [alpha beta gamma delta] at 5
}
