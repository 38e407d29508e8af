package rafttest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// workerNames replaces the IDs of the local storage workers in printed
// messages, which are otherwise the largest uint64 values.
var workerNames = strings.NewReplacer(
	strconv.FormatUint(raft.LocalAppendThread, 10), "append-thread",
	strconv.FormatUint(raft.LocalApplyThread, 10), "apply-thread",
	strconv.FormatUint(raft.LocalSnapshotThread, 10), "snapshot-thread",
)

// describeMessage returns m in raftpb's one-line form, with the local
// workers named.
func describeMessage(m raftpb.Message) string {
	return workerNames.Replace(m.String())
}

// routeAsync queues the messages of an asynchronous node's Ready: storage
// work on the node's worker queues, the rest on the network. The leader's
// appends thus leave in the same Ready as its own write (thesis §10.2.1).
func (env *Env) routeAsync(b *strings.Builder, n *Node, msgs []raftpb.Message) {
	for _, m := range msgs {
		switch m.To {
		case raft.LocalAppendThread:
			fmt.Fprintf(b, "  to-append-thread: %s\n", describeMessage(m))
			n.appends = append(n.appends, m)
		case raft.LocalApplyThread:
			fmt.Fprintf(b, "  to-apply-thread: %s\n", describeMessage(m))
			n.applies = append(n.applies, m)
		default:
			env.send(b, "send", []raftpb.Message{m})
		}
	}
}

// ProcessAppendThread completes the oldest write queued on node id's
// append worker: it persists the message's snapshot, entries and hard
// state (Term, Vote, Commit) to the node's storage, then delivers the
// message's Responses, those for the node itself through Step and the
// others onto the network (a durable snapshot comes back to the apply
// worker to be installed). It returns the description documented in the
// package comment.
func (env *Env) ProcessAppendThread(id uint64) (string, error) {
	n, err := env.asyncNode(id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	m, ok := popWork(&b, &n.appends, "append-thread", id)
	if !ok {
		return b.String(), nil
	}
	var snap raftpb.Snapshot
	if m.Snapshot != nil {
		snap = *m.Snapshot
	}
	persist(&b, n, snap, m.Entries)
	if hs := (m.StorageAppendHardState()); !hs.IsEmpty() {
		fmt.Fprintf(&b, "  hard: %v\n", hs)
		_ = n.Storage.SetHardState(hs) // MemoryStorage never fails
	}
	env.respond(&b, n, m.Responses)
	return b.String(), nil
}

// ProcessApplyThread completes the oldest apply queued on node id's apply
// worker: it installs the message's snapshot in the state machine, if any,
// and applies its committed entries (calling ApplyConfChange for conf
// changes), then delivers the message's Responses as
// [Env.ProcessAppendThread] does.
func (env *Env) ProcessApplyThread(id uint64) (string, error) {
	n, err := env.asyncNode(id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	m, ok := popWork(&b, &n.applies, "apply-thread", id)
	if !ok {
		return b.String(), nil
	}
	if m.Snapshot != nil {
		fmt.Fprintf(&b, "  install: %v\n", *m.Snapshot)
		applySnapshot(n, *m.Snapshot)
	}
	for _, e := range m.Entries {
		apply(&b, n, e)
	}
	env.respond(&b, n, m.Responses)
	return b.String(), nil
}

// popWork takes the oldest message off a worker's queue and writes the
// worker's heading, or writes that the worker has nothing to do and
// reports false.
func popWork(b *strings.Builder, queue *[]raftpb.Message, worker string, id uint64) (raftpb.Message, bool) {
	if len(*queue) == 0 {
		fmt.Fprintf(b, "%s %d: nothing\n", worker, id)
		return raftpb.Message{}, false
	}
	m := (*queue)[0]
	*queue = (*queue)[1:]
	fmt.Fprintf(b, "%s %d\n", worker, id)
	return m, true
}

// asyncNode returns a running node in the asynchronous storage mode.
func (env *Env) asyncNode(id uint64) (*Node, error) {
	if _, err := env.running(id); err != nil {
		return nil, err
	}
	n := env.nodes[id]
	if !n.Options.AsyncStorage {
		return nil, fmt.Errorf("node %d does not use asynchronous storage writes", id)
	}
	return n, nil
}

// respond delivers a worker's responses: those addressed to the node
// itself through Step ("step:", with Step's error if any), the others onto
// the network ("send:").
func (env *Env) respond(b *strings.Builder, n *Node, resps []raftpb.Message) {
	for _, r := range resps {
		if r.To != n.ID {
			env.send(b, "send", []raftpb.Message{r})
			continue
		}
		fmt.Fprintf(b, "  step: %s\n", describeMessage(r))
		if err := n.RawNode.Step(r); err != nil {
			fmt.Fprintf(b, "  error: %v\n", err)
		}
	}
}

// drainWorkers completes every queued write, then every queued apply, of
// an asynchronous node, and reports whether there was any.
func (env *Env) drainWorkers(b *strings.Builder, n *Node) bool {
	if n.RawNode == nil {
		return false
	}
	if len(n.snapWork) > 0 {
		out, _ := env.ProcessSnapshotThread(n.ID)
		b.WriteString(out)
		return true
	}
	if !n.Options.AsyncStorage {
		return false
	}
	moved := len(n.appends) > 0 || len(n.applies) > 0
	for len(n.appends) > 0 {
		out, _ := env.ProcessAppendThread(n.ID)
		b.WriteString(out)
	}
	for len(n.applies) > 0 {
		out, _ := env.ProcessApplyThread(n.ID)
		b.WriteString(out)
	}
	return moved
}
