package rafttest

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// The harness runs each node through tools/raftloop, the reference Ready
// loop: a host plugs in the node's MemoryStorage as its disk, the Env's
// queues as its network and the Node's record as its state machine, and
// writes what the loop does into the description of the command being
// run (b), in the words of the package documentation.
type host struct {
	env *Env
	n   *Node
	// b receives the description of the command running; label names
	// the messages the loop sends now ("send", "send-after-persist").
	b     *strings.Builder
	label string
	// routed is set while an asynchronous Ready is routed: onReady has
	// described its messages, so sending them describes nothing more.
	routed bool
	// rd is the Ready being handled; notes are what assembling each
	// snapshot from chunks found, described with the snapshot (which is
	// then described as the node handed it out, without data).
	rd    raft.Ready
	notes map[snapKey]string
}

// start makes the node's loop, and its RawNode, from its Config.
func (n *Node) start(env *Env) error {
	h := &host{env: env, n: n, b: &strings.Builder{}, label: "send"}
	l, err := raftloop.New(raftloop.Config{
		Raft: *n.config(), Disk: h, Network: h, StateMachine: h,
		OnReady: h.onReady, OnSnapshotWork: h.queueSnapshotWork,
		AfterStep: func(m raftpb.Message) { fmt.Fprintf(h.b, "  step: %s\n", describeMessage(m)) },
	})
	if err != nil {
		return err
	}
	n.loop, n.host, n.RawNode = l, h, l.RawNode()
	return nil
}

// onReady describes a Ready the loop takes: its heading, the role and
// hard state, and for an asynchronous node where each message goes.
func (h *host) onReady(rd raft.Ready) {
	if isEmptyReady(rd) {
		// HasReady said yes, but there is nothing to do: still Advance.
		fmt.Fprintf(h.b, "ready %d: empty\n", h.n.ID)
	} else {
		fmt.Fprintf(h.b, "ready %d\n", h.n.ID)
	}
	describeState(h.b, rd)
	h.rd = rd
	if h.n.Options.AsyncStorage {
		h.describeRouting(rd.Messages)
		h.routed = true
	}
}

// describeRouting writes where the messages of an asynchronous Ready go:
// the snapshot worker's first, then the storage workers' and the
// network's in order.
func (h *host) describeRouting(msgs []raftpb.Message) {
	for _, m := range msgs {
		if m.To == raft.LocalSnapshotThread {
			fmt.Fprintf(h.b, "  to-snapshot-thread: %s\n", describeMessage(m))
		}
	}
	for _, m := range msgs {
		switch m.To {
		case raft.LocalSnapshotThread:
		case raft.LocalAppendThread:
			fmt.Fprintf(h.b, "  to-append-thread: %s\n", describeMessage(m))
		case raft.LocalApplyThread:
			fmt.Fprintf(h.b, "  to-apply-thread: %s\n", describeMessage(m))
		default:
			h.env.describeSend(h.b, "send", m)
		}
	}
}

// queueSnapshotWork queues a message to the node's snapshot worker.
func (h *host) queueSnapshotWork(m raftpb.Message) {
	if !h.routed {
		fmt.Fprintf(h.b, "  to-snapshot-thread: %s\n", describeMessage(m))
	}
	h.n.snapWork = append(h.n.snapWork, m)
}

// Storage returns the node's storage.
func (h *host) Storage() raft.Storage { return h.n.Storage }

// Save persists a snapshot, entries and (in the asynchronous mode,
// described) a hard state to the node's storage, describing them.
func (h *host) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	st := h.n.Storage
	if !snap.IsEmpty() {
		k := snapKey{snap.Metadata.Index, snap.Metadata.Term}
		handed := snap
		if note, ok := h.notes[k]; ok {
			handed.Data = nil
			delete(h.notes, k)
			fmt.Fprintf(h.b, "  snapshot: %v\n%s", handed, note)
		} else {
			fmt.Fprintf(h.b, "  snapshot: %v\n", handed)
		}
		if err := st.ApplySnapshot(snap); err != nil {
			fmt.Fprintf(h.b, "  error: %v\n", err)
		}
	}
	for _, e := range ents {
		fmt.Fprintf(h.b, "  append: %v\n", e)
	}
	if err := st.Append(ents); err != nil {
		fmt.Fprintf(h.b, "  error: %v\n", err)
	}
	if !hs.IsEmpty() {
		if h.n.Options.AsyncStorage {
			fmt.Fprintf(h.b, "  hard: %v\n", hs)
		}
		_ = st.SetHardState(hs) // MemoryStorage never fails
	}
	return nil
}

// Sync does nothing: memory holds what was saved.
func (h *host) Sync() error { return nil }

// Send queues msgs on the network, describing them under the current
// label, unless onReady described them already.
func (h *host) Send(msgs []raftpb.Message) {
	for _, m := range msgs {
		if !h.routed {
			h.env.describeSend(h.b, h.label, m)
		}
		h.env.queue(m)
	}
}

// Restore replaces the state machine with snap's (described in the
// asynchronous mode, where the apply worker installs it).
func (h *host) Restore(snap raftpb.Snapshot) error {
	if h.n.Options.AsyncStorage {
		k := snapKey{snap.Metadata.Index, snap.Metadata.Term}
		if _, ok := h.notes[k]; ok {
			snap.Data = nil
			delete(h.notes, k)
		}
		fmt.Fprintf(h.b, "  install: %v\n", snap)
	}
	applySnapshot(h.n, snap)
	return nil
}

// Apply records one committed entry in the state machine, and what came
// of a conf change the loop handed to the node.
func (h *host) Apply(e raftpb.Entry, conf raftloop.ConfApplied) error {
	n := h.n
	fmt.Fprintf(h.b, "  apply: %v\n", e)
	n.Applied = append(n.Applied, e)
	n.AppliedIndex = e.Index
	switch {
	case conf.Change == nil:
	case conf.Err != nil:
		fmt.Fprintf(h.b, "  conf refused: %v\n", conf.Err)
	default:
		fmt.Fprintf(h.b, "  conf: %v\n", conf.State)
		n.setConf(e.Index, conf.State)
	}
	return nil
}

// SaveChunk keeps a received chunk, copied: the message's bytes belong to
// the network.
func (h *host) SaveChunk(index, term, chunk uint64, data []byte) error {
	n := h.n
	if n.chunks == nil {
		n.chunks = map[snapKey]map[uint64][]byte{}
	}
	k := snapKey{index, term}
	if n.chunks[k] == nil {
		n.chunks[k] = map[uint64][]byte{}
	}
	n.chunks[k][chunk] = bytes.Clone(data)
	return nil
}

// Chunks assembles the data of a snapshot fetched in chunks, checks it
// against what the snapshot must hold, notes what it found (described
// with the snapshot when it is persisted) and forgets the chunks of
// older snapshots.
func (h *host) Chunks(index, term uint64) ([]byte, error) {
	n := h.n
	k := snapKey{index, term}
	parts := n.chunks[k]
	var data []byte
	for i := uint64(0); i < uint64(len(parts)); i++ {
		data = append(data, parts[i]...)
	}
	want := SnapshotData(index, n.Options.SnapshotSize)
	note := fmt.Sprintf("  assembled: %d bytes from %d chunks\n", len(data), len(parts))
	if !bytes.Equal(data, want) {
		note = fmt.Sprintf("  error: snapshot %d/%d assembled from %d chunks holds %d bytes, want %d\n",
			term, index, len(parts), len(data), len(want))
	}
	if h.notes == nil {
		h.notes = map[snapKey]string{}
	}
	h.notes[k] = note
	for old := range n.chunks {
		if old.index < index {
			delete(n.chunks, old)
		}
	}
	return data, nil
}

// run runs f, a step of the loop, with its description written to b and
// messages sent under label.
func (h *host) run(b *strings.Builder, label string, f func() error) {
	h.b, h.label, h.routed = b, label, false
	if err := f(); err != nil {
		fmt.Fprintf(b, "  error: %v\n", err)
	}
	h.b, h.label, h.routed = &strings.Builder{}, "send", false
}
