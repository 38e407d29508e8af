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

// ProcessAppendThread completes the oldest write queued on node id's
// append worker: it persists the message's snapshot, entries and hard
// state to the node's storage, then delivers the message's Responses,
// those for the node itself through Step and the others onto the network
// (a durable snapshot comes back to the apply worker to be installed).
// It returns the description documented in the package comment.
func (env *Env) ProcessAppendThread(id uint64) (string, error) {
	n, err := env.asyncNode(id)
	if err != nil {
		return "", err
	}
	return n.runWorker("append-thread", n.loop.Appending(), n.loop.RunAppend), nil
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
	return n.runWorker("apply-thread", n.loop.Applying(), n.loop.RunApply), nil
}

// runWorker completes the oldest job of a worker that has queued jobs,
// and describes it under the worker's heading.
func (n *Node) runWorker(worker string, queued int, run func() (bool, error)) string {
	var b strings.Builder
	if queued == 0 {
		fmt.Fprintf(&b, "%s %d: nothing\n", worker, n.ID)
		return b.String()
	}
	fmt.Fprintf(&b, "%s %d\n", worker, n.ID)
	n.host.run(&b, "send", func() error { _, err := run(); return err })
	return b.String()
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
	moved := n.loop.Appending() > 0 || n.loop.Applying() > 0
	for n.loop.Appending() > 0 {
		out, _ := env.ProcessAppendThread(n.ID)
		b.WriteString(out)
	}
	for n.loop.Applying() > 0 {
		out, _ := env.ProcessApplyThread(n.ID)
		b.WriteString(out)
	}
	return moved
}
