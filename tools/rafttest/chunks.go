package rafttest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
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
		n.host.run(&b, "send", func() error { return n.loop.DoSnapshotWork(m) })
	}
	return b.String(), nil
}
