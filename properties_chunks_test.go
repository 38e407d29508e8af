package raft

// The chunked snapshot transfer over random schedules. The
// schedules of properties_test.go run with Config.SnapshotChunkSize, so
// that every snapshot a lagging follower needs is offered and fetched in
// chunks; the chunk requests, chunks and offers travel through the same
// faulty network as everything else (lost, duplicated, reordered,
// partitioned, sent to crashed nodes). The harness plays each node's
// snapshot worker: it serves chunks from the node's storage and keeps the
// chunks the node receives, across crashes (they are durable), until the
// node installs the snapshot. Half the runs take snapshots at the same
// indexes on every node (SnapshotInterval), so followers serve chunks too.
//
// Claim: the safety properties hold after every step; every installed
// snapshot is byte-identical to the one its sources took; and once
// healed the cluster converges, so no transfer is stuck.
//
// Run long with:
//
//	go test -run TestChunkedSnapshots -rapid.checks=2000 -rapid.nofailfile

import (
	"bytes"
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/tickraft/raft/raftpb"
)

// chunkKey names a snapshot.
type chunkKey struct{ index, term uint64 }

// chunkWorkers plays the snapshot worker of every node. A nil
// *chunkWorkers does nothing, so that the cluster calls it unconditionally.
type chunkWorkers struct {
	c     *scheduleCluster
	every uint64
	work  map[uint64][]raftpb.Message
	saved map[uint64]map[chunkKey]map[uint64][]byte
	// taken records the data of every snapshot served, by snapshot: what
	// an installed snapshot must equal.
	taken map[chunkKey][]byte
	stats chunkStats
}

// chunkStats counts what the workers did.
type chunkStats struct {
	Served, Refused, Saved, Installed, LostWork int
}

func (s *chunkStats) add(o chunkStats) {
	s.Served += o.Served
	s.Refused += o.Refused
	s.Saved += o.Saved
	s.Installed += o.Installed
	s.LostWork += o.LostWork
}

func newChunkWorkers(every uint64) *chunkWorkers {
	return &chunkWorkers{
		every: every, work: map[uint64][]raftpb.Message{},
		saved: map[uint64]map[chunkKey]map[uint64][]byte{}, taken: map[chunkKey][]byte{},
	}
}

// interval is the SnapshotInterval of the run, 0 when unset.
func (w *chunkWorkers) interval() uint64 {
	if w == nil {
		return 0
	}
	return w.every
}

// queue takes a message a node sent its snapshot worker.
func (w *chunkWorkers) queue(m raftpb.Message) {
	if w == nil {
		panic("a message to the snapshot worker without chunked transfer: " + m.String())
	}
	w.work[m.From] = append(w.work[m.From], m)
}

// crash loses the worker's queued work; the chunks it saved stay.
func (w *chunkWorkers) crash(nd *scheduleNode) {
	if w == nil {
		return
	}
	w.stats.LostWork += len(w.work[nd.id])
	delete(w.work, nd.id)
}

// drain does the queued work of nd's worker: serve chunk requests from
// nd's storage, save received chunks and report them saved.
func (w *chunkWorkers) drain(nd *scheduleNode) {
	if w == nil {
		return
	}
	c := w.c
	for len(w.work[nd.id]) > 0 && nd.rn != nil {
		m := w.work[nd.id][0]
		w.work[nd.id] = w.work[nd.id][1:]
		switch m.Type {
		case raftpb.MsgSnapChunkReq:
			c.send([]raftpb.Message{w.serve(nd, m)})
		case raftpb.MsgSnapChunk:
			w.save(nd.id, m)
			for _, r := range m.Responses {
				if err := nd.rn.Step(r); err != nil {
					c.fail("node %d refused %v from its snapshot worker: %v", nd.id, r, err)
				}
				c.afterInput(nd, "Step "+r.Type.String())
			}
		default:
			c.fail("node %d sent its snapshot worker %v", nd.id, m)
		}
	}
}

// serve answers a chunk request from nd's storage.
func (w *chunkWorkers) serve(nd *scheduleNode, m raftpb.Message) raftpb.Message {
	snap, _ := nd.st.Snapshot()
	k := chunkKey{m.Index, m.LogTerm}
	if snap.Metadata.Index != k.index || snap.Metadata.Term != k.term {
		w.stats.Refused++
		return ServeSnapshotChunk(m, nil, false)
	}
	if prev, ok := w.taken[k]; ok && !bytes.Equal(prev, snap.Data) {
		w.c.fail("node %d holds snapshot %d/%d with other data than another member", nd.id, k.term, k.index)
	}
	w.taken[k] = snap.Data
	w.stats.Served++
	return ServeSnapshotChunkFrom(m, snap)
}

// save keeps a received chunk, copied off the network's bytes.
func (w *chunkWorkers) save(id uint64, m raftpb.Message) {
	if w.saved[id] == nil {
		w.saved[id] = map[chunkKey]map[uint64][]byte{}
	}
	k := chunkKey{m.Index, m.LogTerm}
	if w.saved[id][k] == nil {
		w.saved[id][k] = map[uint64][]byte{}
	}
	w.saved[id][k][m.Commit] = bytes.Clone(m.Context)
	w.stats.Saved++
}

// assemble fills in the data of a snapshot nd installs from chunks, and
// checks it is the data its sources served. The chunks stay: in the
// asynchronous mode the snapshot is handed out twice, to persist and to
// install.
func (w *chunkWorkers) assemble(nd *scheduleNode, snap raftpb.Snapshot) raftpb.Snapshot {
	if w == nil || snap.IsEmpty() || snap.Data != nil {
		return snap
	}
	k := chunkKey{snap.Metadata.Index, snap.Metadata.Term}
	parts := w.saved[nd.id][k]
	var data []byte
	for i := uint64(0); i < uint64(len(parts)); i++ {
		data = append(data, parts[i]...)
	}
	if want, ok := w.taken[k]; !ok || !bytes.Equal(data, want) {
		w.c.fail("node %d installs snapshot %d/%d assembled from %d chunks as %x, served as %x (known %t)",
			nd.id, k.term, k.index, len(parts), data, want, ok)
	}
	w.stats.Installed++
	snap.Data = data
	return snap
}

func TestChunkedSnapshotsKeepSafetyUnderRandomSchedules(t *testing.T) {
	testChunkedSnapshots(t, false)
}

func TestChunkedSnapshotsKeepSafetyInAsyncStorageMode(t *testing.T) {
	testChunkedSnapshots(t, true)
}

// chunkedOptions returns the options of a chunked schedule: the
// asynchronous schedule's when async, the plain one's otherwise, with the
// chunked transfer on.
func chunkedOptions(t *rapid.T, w *chunkWorkers, async bool) scheduleOptions {
	inflight := rapid.IntRange(1, 3).Draw(t, "max-chunks-inflight")
	opts := scheduleOptions{}
	var aw *asyncWorkers
	if async {
		aw = newAsyncWorkers()
		opts = asyncOptions(aw)
	}
	base := opts.Configure
	opts.Configure = func(cfg *Config) {
		if base != nil {
			base(cfg)
		}
		cfg.SnapshotChunkSize = 3 // the 8-byte digest in 3 chunks
		cfg.SnapshotInterval = w.every
		cfg.MaxSnapshotChunksInflight = inflight
		cfg.SnapshotChunkTimeout = 3
	}
	baseActions := opts.Actions
	opts.Actions = func(c *scheduleCluster) map[string]func(*rapid.T) {
		w.c = c
		actions := map[string]func(*rapid.T){}
		if baseActions != nil {
			actions = baseActions(c)
		}
		// Compact every running node at an index it applied: a node
		// that is down or cut off then needs a snapshot.
		actions["compact-all"] = func(t *rapid.T) {
			for _, nd := range c.up() {
				c.logf("compact-all: %d at %d", nd.id, c.compact(nd, math.MaxInt))
			}
		}
		return actions
	}
	opts.Chunks = w
	return opts
}

func testChunkedSnapshots(t *testing.T, async bool) {
	chunks := chunkStats{}
	checkSchedules(t, func(t *rapid.T) *scheduleCluster {
		w := newChunkWorkers(rapid.SampledFrom([]uint64{0, 2}).Draw(t, "snapshot-interval"))
		opts := chunkedOptions(t, w, async)
		c := runScheduleWith(t, drawScheduleConfig(t), checkSafety|checkInvariants, opts)
		chunks.add(w.stats)
		return c
	})
	t.Logf("chunks: %+v", chunks)
	if chunks.Installed == 0 || chunks.Served == 0 {
		t.Errorf("the chunked schedules test too little: %+v", chunks)
	}
}
