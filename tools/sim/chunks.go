package sim

import (
	"bytes"
	"errors"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// The chunked snapshot transfer (Options.SnapshotChunkSize, with
// Options.SnapshotInterval so that followers serve chunks too): the
// simulator plays each node's snapshot worker (raft.LocalSnapshotThread).
//
// The application keeps the promise of Config.SnapshotInterval: each node
// snapshots its state machine in its storage at every applied index that
// is a multiple of the interval (when that entry is already durable in its
// storage; otherwise it does not hold that snapshot and refuses to serve
// it, a documented refusal), its snapshot encoding is deterministic, and
// compaction never replaces that snapshot: it only drops log entries below
// it. Every snapshot created is recorded by index (snapAt), so that a
// snapshot assembled from chunks is checked byte for byte.
//
// The worker is a queue with its own latency: it serves a chunk request
// from the storage's snapshot when the request's turn comes (or refuses,
// ChunkNotHeld), and saves one received chunk at a time, each taking a few
// steps, after which the chunk is durable and the MsgSnapChunkSaved goes
// back through Step. The node goes on meanwhile, so chunks are saved
// interleaved with every other event. A crash loses the queue; saved
// chunks stay on disk. When the node hands out a snapshot to install
// (Ready.Snapshot, or the MsgStorageAppend and MsgStorageApply of the
// asynchronous mode), without data, the simulator assembles the data from
// the saved chunks: a chunk missing then (not yet durable) fails the run,
// as does data that differs from the snapshot created at that index.

// snapJob is a request to a node's snapshot worker.
type snapJob struct {
	at  uint64
	msg raftpb.Message
}

// chunkKey names a chunk of a snapshot.
type chunkKey struct {
	index, term, chunk uint64
}

// chunked reports whether the run uses the chunked snapshot transfer.
func (s *Sim) chunked() bool { return s.opts.SnapshotChunkSize > 0 }

// queueSnapshotWork queues m, addressed to n's snapshot worker, with the
// time its job completes.
func (h *loopHost) queueSnapshotWork(m raftpb.Message) {
	s, n := h.s, h.n
	at := s.now + uint64(s.diskRNG.between(1, 1+s.opts.DiskLatency))
	if k := len(n.snapJobs); k > 0 {
		at = max(at, n.snapJobs[k-1].at)
	}
	n.snapJobs = append(n.snapJobs, snapJob{at: at, msg: m})
}

// completeSnapJob completes n's oldest snapshot-worker job if it is due,
// and reports whether it did: the loop serves a chunk request from the
// storage's snapshot, or saves a received chunk (loopHost.SaveChunk) and
// steps its acknowledgement.
func (s *Sim) completeSnapJob(n *node) bool {
	if len(n.snapJobs) == 0 || n.snapJobs[0].at > s.now {
		return false
	}
	m := n.snapJobs[0].msg
	n.snapJobs = n.snapJobs[1:]
	if err := n.loop.DoSnapshotWork(m); err != nil {
		s.loopFailed(n, err)
	}
	return true
}

// assemble fills in the data of a snapshot n hands out to install, from
// the chunks saved on its disk, and checks it. A snapshot that carries its
// data (sent whole, or n's own) is returned as it is.
func (s *Sim) assemble(n *node, snap raftpb.Snapshot) raftpb.Snapshot {
	if !s.chunked() || snap.Data != nil || snap.IsEmpty() {
		return snap
	}
	md := snap.Metadata
	want, ok := s.snapAt[md.Index]
	if !ok {
		s.failf(ClassRefusal, "node %d installs snapshot %d/%d, which no node created", n.id, md.Term, md.Index)
		return snap
	}
	size := s.opts.SnapshotChunkSize
	count := max(1, (uint64(len(want))+size-1)/size)
	var data []byte
	for c := uint64(0); c < count; c++ {
		part, saved := n.chunks[chunkKey{md.Index, md.Term, c}]
		if !saved {
			s.failf(ClassRefusal, "node %d hands out snapshot %d/%d to install while chunk %d of %d is not durable", n.id, md.Term, md.Index, c, count)
			return snap
		}
		data = append(data, part...)
	}
	if !bytes.Equal(data, want) {
		s.failf(ClassRefusal, "node %d assembled snapshot %d/%d from %d chunks: %d bytes that differ from the %d created", n.id, md.Term, md.Index, count, len(data), len(want))
		return snap
	}
	if n.assembledAt != md.Index {
		n.assembledAt = md.Index
		s.stats.ChunkedSnapshots++
	}
	for k := range n.chunks {
		if k.index < md.Index {
			delete(n.chunks, k)
		}
	}
	snap.Data = data
	return snap
}

// snapshotAtInterval makes n's storage hold a snapshot of its state
// machine at index, a multiple of the interval it has just applied, if
// the entry there is durable in its storage.
func (s *Sim) snapshotAtInterval(n *node, index, term uint64) {
	iv := s.opts.SnapshotInterval
	if !s.chunked() || iv == 0 || index%iv != 0 {
		return
	}
	if t, err := n.st.Term(index); err != nil || t != term {
		return // not durable here yet (or an older entry is): not held
	}
	data := n.kv.snapshot()
	cs := n.conf
	if _, err := n.st.CreateSnapshot(index, &cs, data); err != nil {
		if !errors.Is(err, raft.ErrSnapOutOfDate) && !errors.Is(err, raft.ErrUnavailable) {
			s.failf(ClassRefusal, "node %d cannot snapshot at %d: %v", n.id, index, err)
		}
		return
	}
	n.disk.writes++
	s.recordSnapshot(n, index, data)
	n.keepSnapshot(raftpb.SnapshotMetadata{Index: index, Term: term})
}

// keptSnapshots is how many snapshots a node keeps to serve chunks of:
// its latest and the one before (found by the simulator: seed 79100054,
// snapshots every 4 entries under writes, moved the latest on before a
// follower that lost its log could fetch the last chunk, offer after
// offer, and it never caught up).
const keptSnapshots = 2

// keepSnapshot records that n holds the snapshot md, forgetting the
// oldest beyond keptSnapshots.
func (n *node) keepSnapshot(md raftpb.SnapshotMetadata) {
	n.kept = append(n.kept, raftpb.SnapshotMetadata{Index: md.Index, Term: md.Term})
	if len(n.kept) > keptSnapshots {
		n.kept = n.kept[len(n.kept)-keptSnapshots:]
	}
}

// ServedSnapshot makes the node's disk a raftloop.SnapshotSource: it
// serves chunks of the snapshots the node keeps.
func (h *loopHost) ServedSnapshot(index, term uint64) ([]byte, bool) {
	for _, md := range h.n.kept {
		if md.Index == index && md.Term == term {
			data, ok := h.s.snapAt[index]
			return data, ok
		}
	}
	return nil, false
}

// recordSnapshot records the data of a snapshot created at index: every
// node's snapshot there must be the same.
func (s *Sim) recordSnapshot(n *node, index uint64, data []byte) {
	if s.snapAt == nil {
		s.snapAt = map[uint64][]byte{}
	}
	if old, ok := s.snapAt[index]; ok && !bytes.Equal(old, data) {
		s.failf(ClassRefusal, "node %d's snapshot at %d differs from another node's: %q, %q", n.id, index, data, old)
		return
	}
	s.snapAt[index] = data
}
