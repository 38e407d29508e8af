package sim

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// The simulated application's loop is tools/raftloop: the simulator plugs
// in its disk (writes that become durable after a latency, torn by a
// crash), its network (with its faults), its state machine, and plays the
// storage and snapshot workers with their own latency, telling the loop
// when each job is done. A loopHost is that glue for one incarnation of
// a node.
type loopHost struct {
	s *Sim
	n *node
	// saved is the write of the synchronous loop's Ready being begun,
	// queued on the disk once BeginReady returns.
	saved *diskWrite
}

// errFailed stops a loop whose run has already failed.
var errFailed = errors.New("sim: the run failed")

// startLoop makes n's loop and RawNode from rc.
func (s *Sim) startLoop(n *node, rc *raft.Config) error {
	h := &loopHost{s: s, n: n}
	l, err := raftloop.New(raftloop.Config{
		Raft: *rc, Disk: h, Network: h, StateMachine: h,
		OnReady:        h.onReady,
		OnSnapshotWork: h.queueSnapshotWork,
		OnApplied:      h.applied,
		AfterStep:      func(m raftpb.Message) { s.checkInvariantsAfterStep(n, m) },
	})
	if err != nil {
		return err
	}
	n.loop, n.host, n.rn = l, h, l.RawNode()
	return nil
}

// onReady takes what the simulator observes of every Ready, before the
// loop handles it.
func (h *loopHost) onReady(rd raft.Ready) {
	s, n := h.s, h.n
	s.checkInvariants(n, "Ready")
	if s.opts.Async {
		h.onReadyAsync(rd)
		return
	}
	s.onReady(n, &rd)
	s.sawAppended(n, rd.Entries, rd.HardState.Commit)
	s.sawApplyHandout(n, rd.CommittedEntries)
}

// Storage returns the node's storage, which holds what is durable.
func (h *loopHost) Storage() raft.Storage { return h.n.st }

// Save takes a write. The synchronous loop's write waits until
// BeginReady returns to be queued on the disk with its latency; the
// append worker's is saved when it is already due, so it becomes durable
// now.
func (h *loopHost) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	w := &diskWrite{entries: ents, hard: hs}
	if !snap.IsEmpty() {
		w.snap = &snap
	}
	if !h.s.opts.Async {
		h.saved = w
		return nil
	}
	if err := h.n.disk.persist(w, w.records()); err != nil {
		return err
	}
	h.s.logDurable(h.n, w)
	return nil
}

// Sync does nothing: the simulator decides when a write is durable.
func (h *loopHost) Sync() error { return nil }

// Send hands messages to the simulated network. A chunk served by a node
// that does not lead counts as served by a follower.
func (h *loopHost) Send(msgs []raftpb.Message) {
	for i := range msgs {
		if msgs[i].Type == raftpb.MsgSnapChunk && !msgs[i].Reject && h.n.lead == nil {
			h.s.stats.ChunksFromFollowers++
		}
	}
	h.s.send(msgs)
}

// Restore replaces the node's state machine with snap.
func (h *loopHost) Restore(snap raftpb.Snapshot) error {
	h.s.applySnapshot(h.n, snap)
	return nil
}

// Apply applies one committed entry (see applyEntry).
func (h *loopHost) Apply(e raftpb.Entry, conf raftloop.ConfApplied) error {
	if !h.s.applyEntry(h.n, e, conf) {
		return errFailed
	}
	return nil
}

// applied records a batch of entries applied.
func (h *loopHost) applied(ents []raftpb.Entry) {
	s, n := h.s, h.n
	s.hist.Apply(n.id, ents)
	s.log.add(s.now, evApply, n.id, ents[0].Index, ents[len(ents)-1].Index, 0)
	if s.log.tracing() {
		s.log.printf(s.now, "apply %d: %s", n.id, raftpb.DescribeEntries(ents))
	}
	n.sawApplied(ents)
}

// SaveChunk saves a received chunk on the node's disk.
func (h *loopHost) SaveChunk(index, term, chunk uint64, data []byte) error {
	s, n := h.s, h.n
	if n.chunks == nil {
		n.chunks = map[chunkKey][]byte{}
	}
	n.chunks[chunkKey{index, term, chunk}] = bytes.Clone(data)
	s.stats.ChunksSaved++
	s.log.add(s.now, evChunkSaved, n.id, index, term, chunk)
	if s.log.tracing() {
		s.log.printf(s.now, "chunk saved %d: snapshot %d/%d chunk %d (%d bytes)", n.id, term, index, chunk, len(data))
	}
	return nil
}

// Chunks assembles the data of the snapshot at index and term from the
// chunks saved on the node's disk, and checks it (see assemble).
func (h *loopHost) Chunks(index, term uint64) ([]byte, error) {
	snap := h.s.assemble(h.n, raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: index, Term: term}})
	if h.s.failure != nil {
		return nil, fmt.Errorf("%w: snapshot %d/%d not assembled", errFailed, term, index)
	}
	return snap.Data, nil
}
