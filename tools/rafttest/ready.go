package rafttest

import (
	"fmt"
	"slices"
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

// processReady handles one Ready of a running node that has one through
// its loop, and reports whether that Ready was empty although HasReady
// said otherwise.
func (env *Env) processReady(id uint64) (string, bool) {
	var b strings.Builder
	n := env.nodes[id]
	h := n.host
	if n.Options.AsyncStorage {
		h.run(&b, "send", n.loop.HandleReady)
	} else {
		h.run(&b, "send", func() error {
			p, err := n.loop.BeginReady()
			if err != nil {
				return err
			}
			h.label = "send-after-persist" // the write is durable: memory
			return n.loop.FinishReady(p)
		})
	}
	describeReads(&b, h.rd.ReadStates)
	return b.String(), isEmptyReady(h.rd)
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

// describeSend lists m under label, or lost when a partition cuts its
// link (queue then drops it).
func (env *Env) describeSend(b *strings.Builder, label string, m raftpb.Message) {
	if !env.connected(m.From, m.To) {
		fmt.Fprintf(b, "  %s: %v (lost: partition)\n", label, m)
		return
	}
	fmt.Fprintf(b, "  %s: %v\n", label, m)
}

// queue queues m on the network, unless a partition cuts its link.
func (env *Env) queue(m raftpb.Message) {
	if env.connected(m.From, m.To) {
		m.Entries = slices.Clone(m.Entries) // the sender takes its array back after Advance
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
