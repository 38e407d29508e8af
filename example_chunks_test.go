package raft_test

import (
	"fmt"

	"github.com/tickraft/raft"
)

// newChunkedCluster boots a node for each voter with the chunked snapshot
// transfer on, in chunks of size bytes, and elects node 1.
func newChunkedCluster(voters []uint64, size uint64) map[uint64]*node {
	nodes := map[uint64]*node{}
	for _, id := range voters {
		n := newNode(id, voters)
		n.start(raft.Config{ID: id, SnapshotChunkSize: size})
		nodes[id] = n
	}
	_ = nodes[1].rn.Campaign()
	run(nodes)
	return nodes
}

// Example_chunkedSnapshotTransfer runs the loop of the package
// documentation (tools/raftloop) with the chunked snapshot transfer on:
// node 3 misses entries the leader has compacted, so it fetches the
// leader's snapshot in chunks of 4 bytes. The loop sends every Message to
// the network as it is, and the snapshot worker's work comes apart, in
// Ready.LocalMessages: a message for the worker among the Messages would
// reach no node and stop the example.
func Example_chunkedSnapshotTransfer() {
	nodes := newChunkedCluster([]uint64{1, 2, 3}, 4)
	nodes[3].down = true
	propose(nodes, "alpha", "beta", "gamma", "delta")
	nodes[1].snapshot()
	snap, _ := nodes[1].disk.Storage().Snapshot()
	fmt.Printf("leader's snapshot at %d: %q in %d chunks\n", snap.Metadata.Index, snap.Data, (len(snap.Data)+3)/4)

	nodes[3].down = false
	tick(nodes, 3) // heartbeats: the leader offers node 3 its snapshot
	got, _ := nodes[3].disk.Storage().Snapshot()
	fmt.Println("3 installed snapshot", got.Metadata.Index, "and applied", nodes[3].state, "at", nodes[3].applied())
	// Output:
	// leader's snapshot at 5: "alpha beta gamma delta" in 6 chunks
	// 3 installed snapshot 5 and applied [alpha beta gamma delta] at 5
}
