package rafttest

import (
	"fmt"
	"strings"

	"github.com/tickraft/raft/raftpb"
)

// Verdict is what a [Filter] decides for one queued message.
type Verdict uint8

// The verdicts.
const (
	// Deliver steps the message into its recipient.
	Deliver Verdict = iota
	// Keep leaves the message queued for a later delivery.
	Keep
	// Drop loses the message, as an unreliable network may.
	Drop
)

// Filter decides the fate of each queued message in [Env.DeliverMsgs].
// A nil Filter delivers everything.
type Filter func(m raftpb.Message) Verdict

// DropFrom returns a Filter that drops the messages sent by any of froms
// and delivers the rest.
func DropFrom(froms ...uint64) Filter {
	return func(m raftpb.Message) Verdict {
		for _, f := range froms {
			if m.From == f {
				return Drop
			}
		}
		return Deliver
	}
}

// OnlyTypes returns a Filter that delivers only messages of the given
// types and keeps the others queued.
func OnlyTypes(types ...raftpb.MessageType) Filter {
	return func(m raftpb.Message) Verdict {
		for _, t := range types {
			if m.Type == t {
				return Deliver
			}
		}
		return Keep
	}
}

// Partition cuts the network into groups: a message between nodes of
// different groups is lost, whether the partition is in place when the
// message is sent or when it is delivered. Nodes listed in no group
// form one more group together. A new Partition replaces the previous one.
func (env *Env) Partition(groups ...[]uint64) {
	env.groups = map[uint64]int{}
	for i, g := range groups {
		for _, id := range g {
			env.groups[id] = i + 1
		}
	}
}

// Heal removes the partition.
func (env *Env) Heal() { env.groups = nil }

// connected reports whether the partition lets a message from a reach b.
func (env *Env) connected(a, b uint64) bool {
	return env.groups == nil || env.groups[a] == env.groups[b]
}

// DeliverMsgs steps the messages queued for node to, in the order they
// were sent, or for every node in ID order when to is 0. A message across
// the partition, or for a crashed node, is dropped; f decides for the
// others. It returns the description documented in the package comment,
// empty when nothing was queued.
func (env *Env) DeliverMsgs(to uint64, f Filter) string {
	var b strings.Builder
	for _, id := range env.targets(to) {
		env.deliverTo(&b, id, f)
	}
	return b.String()
}

// targets returns the recipients DeliverMsgs visits.
func (env *Env) targets(to uint64) []uint64 {
	if to != 0 {
		return []uint64{to}
	}
	return env.ids
}

// deliverTo delivers the queue of one recipient.
func (env *Env) deliverTo(b *strings.Builder, to uint64, f Filter) {
	queue := env.queues[to]
	if len(queue) == 0 {
		return
	}
	env.queues[to] = nil
	fmt.Fprintf(b, "deliver %d\n", to)
	var kept []raftpb.Message
	for _, m := range queue {
		switch env.verdict(m, f) {
		case Keep:
			kept = append(kept, m)
		case Drop:
			fmt.Fprintf(b, "  dropped: %v\n", m)
		default:
			fmt.Fprintf(b, "  %v\n", m)
			if err := env.nodes[to].RawNode.Step(m); err != nil {
				fmt.Fprintf(b, "  error: %v\n", err)
			}
		}
	}
	// Messages sent to to while delivering (none in the synchronous loop)
	// go after those kept.
	env.queues[to] = append(kept, env.queues[to]...)
}

// verdict decides the fate of m: the network's faults first, then f.
func (env *Env) verdict(m raftpb.Message, f Filter) Verdict {
	n := env.nodes[m.To]
	switch {
	case n == nil || n.RawNode == nil:
		return Drop
	case !env.connected(m.From, m.To):
		return Drop
	case f == nil:
		return Deliver
	}
	return f(m)
}

// maxStabilizeRounds bounds Stabilize: a healthy cluster quiesces in a
// handful of rounds, so reaching it means the nodes talk forever.
const maxStabilizeRounds = 1000

// Stabilize processes Readys and delivers messages among ids (every node
// when ids is empty) until no node has a Ready, no worker of an
// asynchronous node has queued work, and no message is queued for any of
// them. Each round processes every Ready and completes every queued write
// and apply, node by node in ID order, then delivers every queue. Messages
// for nodes outside ids stay queued. It returns what it did, and an error
// if the nodes never quiesce.
func (env *Env) Stabilize(ids ...uint64) (string, error) {
	if len(ids) == 0 {
		ids = env.ids
	}
	var b strings.Builder
	for round := 0; round < maxStabilizeRounds; round++ {
		moved, err := env.processAll(&b, ids)
		if err != nil {
			return b.String(), err
		}
		for _, id := range ids {
			if len(env.queues[id]) > 0 {
				moved = true
				env.deliverTo(&b, id, nil)
			}
		}
		if !moved {
			return b.String(), nil
		}
	}
	return b.String(), fmt.Errorf("stabilize: still busy after %d rounds", maxStabilizeRounds)
}

// processAll handles every Ready of the running nodes among ids, then
// completes the queued work of their storage workers (asynchronous nodes),
// and reports whether there was any.
func (env *Env) processAll(b *strings.Builder, ids []uint64) (bool, error) {
	moved := false
	for _, id := range ids {
		n, err := env.node(id)
		if err != nil {
			return moved, err
		}
		processed, err := env.processNode(b, n)
		if err != nil {
			return true, err
		}
		drained := env.drainWorkers(b, n)
		moved = moved || processed || drained
	}
	return moved, nil
}

// processNode handles every Ready of n, if it is running, and reports
// whether there was one. Two empty Readys in a row mean that HasReady will
// never turn false: that is an error rather than a hang.
func (env *Env) processNode(b *strings.Builder, n *Node) (bool, error) {
	processed, wasEmpty := false, false
	for n.RawNode != nil && n.RawNode.HasReady() {
		processed = true
		out, empty := env.processReady(n.ID)
		b.WriteString(out)
		if empty && wasEmpty {
			return true, fmt.Errorf("stabilize: node %d keeps reporting HasReady with empty Readys", n.ID)
		}
		wasEmpty = empty
	}
	return processed, nil
}
