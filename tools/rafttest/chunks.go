package rafttest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// The harness plays each node's snapshot worker of the chunked snapshot
// transfer (NodeOptions.SnapshotChunkSize): it serves chunks of the
// snapshot in the node's storage and keeps the chunks a node receives,
// per snapshot, until the node installs that snapshot. A snapshot's data
// is SnapshotData(index, size), the same on every node, so that followers
// can serve the leader's snapshot and an installed snapshot is checked
// byte for byte.

// snapKey names a snapshot.
type snapKey struct{ index, term uint64 }

// SnapshotData returns the state-machine bytes the harness stores in a
// snapshot at index: size bytes repeating "<index>.", so that snapshots at
// the same index are identical everywhere and a misplaced chunk shows.
func SnapshotData(index uint64, size int) []byte {
	if size == 0 {
		return nil
	}
	unit := []byte(strconv.FormatUint(index, 10) + ".")
	return bytes.Repeat(unit, size/len(unit)+1)[:size]
}

// routeSnapshotWork queues the messages to the node's snapshot worker and
// returns the others.
func routeSnapshotWork(b *strings.Builder, n *Node, msgs []raftpb.Message) []raftpb.Message {
	rest := msgs[:0:0]
	for _, m := range msgs {
		if m.To != raft.LocalSnapshotThread {
			rest = append(rest, m)
			continue
		}
		fmt.Fprintf(b, "  to-snapshot-thread: %s\n", describeMessage(m))
		n.snapWork = append(n.snapWork, m)
	}
	return rest
}

// ProcessSnapshotThread completes every request queued on node id's
// snapshot worker: a chunk request is served from the node's storage (or
// refused if it holds another snapshot) and the chunk sent; a received
// chunk is kept and its MsgSnapChunkSaved stepped.
func (env *Env) ProcessSnapshotThread(id uint64) (string, error) {
	if _, err := env.running(id); err != nil {
		return "", err
	}
	n := env.nodes[id]
	var b strings.Builder
	if len(n.snapWork) == 0 {
		fmt.Fprintf(&b, "snapshot-thread %d: nothing\n", id)
		return b.String(), nil
	}
	fmt.Fprintf(&b, "snapshot-thread %d\n", id)
	for len(n.snapWork) > 0 {
		m := n.snapWork[0]
		n.snapWork = n.snapWork[1:]
		switch m.Type {
		case raftpb.MsgSnapChunkReq:
			env.send(&b, "send", []raftpb.Message{serveChunk(n, m)})
		case raftpb.MsgSnapChunk:
			n.saveChunk(m)
			env.respond(&b, n, m.Responses)
		}
	}
	return b.String(), nil
}

// serveChunk reads the chunk m asks for from the node's storage.
func serveChunk(n *Node, m raftpb.Message) raftpb.Message {
	snap, _ := n.Storage.Snapshot()
	return raft.ServeSnapshotChunkFrom(m, snap)
}

// saveChunk keeps a received chunk, copied: the message's bytes belong to
// the network. The node wrote the message, so it parses.
func (n *Node) saveChunk(m raftpb.Message) {
	c, _ := raftpb.ParseChunk(m)
	if n.chunks == nil {
		n.chunks = map[snapKey]map[uint64][]byte{}
	}
	k := snapKey{c.ID.Index, c.ID.Term}
	if n.chunks[k] == nil {
		n.chunks[k] = map[uint64][]byte{}
	}
	n.chunks[k][c.ID.Chunk] = bytes.Clone(c.Data)
}

// assembleSnapshot fills in the data of a snapshot installed from chunks
// (the node hands it out without data), checks it against what the
// snapshot must hold, and forgets the chunks of older snapshots.
func (n *Node) assembleSnapshot(b *strings.Builder, snap raftpb.Snapshot) raftpb.Snapshot {
	if n.Options.SnapshotChunkSize == 0 || snap.Data != nil {
		return snap
	}
	k := snapKey{snap.Metadata.Index, snap.Metadata.Term}
	parts := n.chunks[k]
	var data []byte
	for i := uint64(0); i < uint64(len(parts)); i++ {
		data = append(data, parts[i]...)
	}
	want := SnapshotData(snap.Metadata.Index, n.Options.SnapshotSize)
	if !bytes.Equal(data, want) {
		fmt.Fprintf(b, "  error: snapshot %d/%d assembled from %d chunks holds %d bytes, want %d\n",
			k.term, k.index, len(parts), len(data), len(want))
	} else {
		fmt.Fprintf(b, "  assembled: %d bytes from %d chunks\n", len(data), len(parts))
	}
	for old := range n.chunks {
		if old.index <= k.index {
			delete(n.chunks, old)
		}
	}
	snap.Data = data
	return snap
}
