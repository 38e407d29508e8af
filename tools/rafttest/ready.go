package rafttest

import (
	"fmt"
	"strings"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// ProcessReady handles one Ready of node id as a synchronous application
// does: it persists the HardState, Snapshot and Entries to the node's
// storage, queues Messages and MessagesAfterPersist on the network, applies
// the Snapshot and the CommittedEntries (calling ApplyConfChange for conf
// changes), and calls Advance. For a node in the asynchronous storage mode
// it only routes the Ready's messages: those for the local workers to the
// node's worker queues, the others to the network (see
// [Env.ProcessAppendThread]). It returns the description documented in
// the package comment; a node with no Ready gives "ready N: nothing".
func (env *Env) ProcessReady(id uint64) (string, error) {
	rn, err := env.running(id)
	if err != nil {
		return "", err
	}
	if !rn.HasReady() {
		return fmt.Sprintf("ready %d: nothing\n", id), nil
	}
	out, _ := env.processReady(id)
	return out, nil
}

// processReady handles one Ready of a running node that has one, and
// reports whether that Ready was empty although HasReady said otherwise.
func (env *Env) processReady(id uint64) (string, bool) {
	var b strings.Builder
	n := env.nodes[id]
	rn := n.RawNode
	rd := rn.Ready()
	empty := isEmptyReady(rd)
	if empty {
		// HasReady said yes, but there is nothing to do: still Advance.
		fmt.Fprintf(&b, "ready %d: empty\n", id)
	} else {
		fmt.Fprintf(&b, "ready %d\n", id)
	}
	describeState(&b, rd)
	if n.Options.AsyncStorage {
		env.routeAsync(&b, n, routeSnapshotWork(&b, n, rd.Messages))
		describeReads(&b, rd.ReadStates)
		return b.String(), empty
	}
	rd.Snapshot = persist(&b, n, rd.Snapshot, rd.Entries)
	if !rd.HardState.IsEmpty() {
		_ = n.Storage.SetHardState(rd.HardState) // MemoryStorage never fails
	}
	routeSnapshotWork(&b, n, rd.LocalMessages)
	env.send(&b, "send", rd.Messages)
	env.send(&b, "send-after-persist", rd.MessagesAfterPersist)
	applySnapshot(n, rd.Snapshot)
	for _, e := range rd.CommittedEntries {
		apply(&b, n, e)
	}
	describeReads(&b, rd.ReadStates)
	rn.Advance()
	return b.String(), empty
}

// isEmptyReady reports whether rd holds no work at all.
func isEmptyReady(rd raft.Ready) bool {
	return rd.SoftState == nil && rd.HardState.IsEmpty() && rd.Snapshot.IsEmpty() &&
		len(rd.Entries) == 0 && len(rd.CommittedEntries) == 0 &&
		len(rd.Messages) == 0 && len(rd.MessagesAfterPersist) == 0 && len(rd.LocalMessages) == 0 &&
		len(rd.ReadStates) == 0
}

// describeReads writes the reads a Ready releases: the read index, or the
// error of a read that could not be served.
func describeReads(b *strings.Builder, reads []raft.ReadState) {
	for _, rs := range reads {
		if rs.Err != nil {
			fmt.Fprintf(b, "  read: ctx=%q err=%v\n", rs.RequestCtx, rs.Err)
			continue
		}
		fmt.Fprintf(b, "  read: idx=%d ctx=%q\n", rs.Index, rs.RequestCtx)
	}
}

// describeState writes the role and hard state a Ready announces.
func describeState(b *strings.Builder, rd raft.Ready) {
	if ss := rd.SoftState; ss != nil {
		fmt.Fprintf(b, "  role: %v lead=%d\n", ss.RaftState, ss.Lead)
	}
	if !rd.HardState.IsEmpty() {
		fmt.Fprintf(b, "  hard: %v\n", rd.HardState)
	}
}

// persist writes a snapshot (unless empty) and entries to the node's
// storage, in the order a crash could interrupt; the caller writes the hard
// state after them. It returns the snapshot with its data, assembled from
// chunks if it came in chunks.
func persist(b *strings.Builder, n *Node, snap raftpb.Snapshot, ents []raftpb.Entry) raftpb.Snapshot {
	if !snap.IsEmpty() {
		fmt.Fprintf(b, "  snapshot: %v\n", snap)
		snap = n.assembleSnapshot(b, snap)
		if err := n.Storage.ApplySnapshot(snap); err != nil {
			fmt.Fprintf(b, "  error: %v\n", err)
		}
	}
	for _, e := range ents {
		fmt.Fprintf(b, "  append: %v\n", e)
	}
	if err := n.Storage.Append(ents); err != nil {
		fmt.Fprintf(b, "  error: %v\n", err)
	}
	return snap
}

// send queues msgs on the network and lists them under label.
func (env *Env) send(b *strings.Builder, label string, msgs []raftpb.Message) {
	for _, m := range msgs {
		if !env.connected(m.From, m.To) {
			fmt.Fprintf(b, "  %s: %v (lost: partition)\n", label, m)
			continue
		}
		fmt.Fprintf(b, "  %s: %v\n", label, m)
		env.queues[m.To] = append(env.queues[m.To], m)
	}
}

// applySnapshot replaces the state machine with snap's, if rd has one.
func applySnapshot(n *Node, snap raftpb.Snapshot) {
	if snap.IsEmpty() {
		return
	}
	n.AppliedIndex = snap.Metadata.Index
	n.ConfState = snap.Metadata.ConfState
	n.confs = []confAt{{index: snap.Metadata.Index, cs: snap.Metadata.ConfState}}
}

// apply applies one committed entry: a conf change goes to the node, and
// every entry is recorded in the state machine.
func apply(b *strings.Builder, n *Node, e raftpb.Entry) {
	fmt.Fprintf(b, "  apply: %v\n", e)
	n.Applied = append(n.Applied, e)
	n.AppliedIndex = e.Index
	cc, err := decodeConfChange(e)
	if err != nil {
		fmt.Fprintf(b, "  error: %v\n", err)
		return
	}
	if cc == nil {
		return
	}
	cs, err := n.RawNode.ApplyConfChange(cc)
	if err != nil {
		fmt.Fprintf(b, "  conf refused: %v\n", err)
		return
	}
	fmt.Fprintf(b, "  conf: %v\n", cs)
	n.setConf(e.Index, cs)
}

// decodeConfChange returns the conf change e carries, or nil for a normal
// entry.
func decodeConfChange(e raftpb.Entry) (raftpb.ConfChangeI, error) {
	cc, err := e.ConfChange()
	if err != nil {
		return nil, fmt.Errorf("entry %d/%d: %w", e.Term, e.Index, err)
	}
	return cc, nil
}
