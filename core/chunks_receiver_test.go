package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// The receiver's and the source's state machines, tested alone: inputs
// are typed messages and tick counts, outputs what they send through a
// recording host; their invariants are checked after every input.

// recordingHost is a chunkHost that keeps what it is sent.
type recordingHost struct{ sent []raftpb.Message }

func (h *recordingHost) sendChunk(m raftpb.Message)   { h.sent = append(h.sent, m) }
func (h *recordingHost) logs(Level) bool              { return false }
func (h *recordingHost) log(Level, string, ...Attr)   {}
func (h *recordingHost) take() (out []raftpb.Message) { out, h.sent = h.sent, nil; return out }

var testBounds = chunkSettings{size: 4, maxInflight: 2, perSource: 1, inflightBytes: 1 << 20, maxReceivers: 1, timeout: 3}

// receiverHarness drives a receiver (node 9) and checks its invariants.
type receiverHarness struct {
	t   *testing.T
	rc  *chunkReceiver
	h   recordingHost
	now uint64
}

func newReceiverHarness(t *testing.T) *receiverHarness {
	return &receiverHarness{t: t, rc: newChunkReceiver(testBounds, 9)}
}

func (x *receiverHarness) check() {
	x.t.Helper()
	if err := x.rc.checkInvariants(); err != nil {
		x.t.Fatal(err)
	}
}

func testOffer(chunks uint64, sources ...uint64) raftpb.SnapshotOffer {
	return raftpb.SnapshotOffer{To: 9, Snapshot: raftpb.SnapshotMetadata{Index: 20, Term: 2}, Chunks: chunks, Size: 4, Sources: sources}
}

func (x *receiverHarness) offer(o raftpb.SnapshotOffer) bool {
	x.t.Helper()
	_, done := x.rc.offer(o, 1, x.now, &x.h)
	x.check()
	return done
}

// serve answers every request sent so far with its chunk, and returns the
// messages to the snapshot worker that follow.
func (x *receiverHarness) serve() []raftpb.Message {
	x.t.Helper()
	var work []raftpb.Message
	for _, m := range x.h.take() {
		if m.To == LocalSnapshotThread {
			work = append(work, m)
			continue
		}
		q, err := raftpb.ParseChunkRequest(m)
		if err != nil {
			x.t.Fatalf("the receiver sent %v: %v", m, err)
		}
		if err := x.rc.chunk(raftpb.Chunk{To: 9, From: q.To, ID: q.ID, Data: []byte("abcd")}, x.now, &x.h); err != nil {
			x.t.Fatal(err)
		}
		x.check()
	}
	return append(work, x.h.take()...)
}

// requested returns the chunks asked of sources among msgs.
func requested(msgs []raftpb.Message) (chunks []uint64) {
	for _, m := range msgs {
		if q, err := raftpb.ParseChunkRequest(m); err == nil && m.To != LocalSnapshotThread {
			chunks = append(chunks, q.ID.Chunk)
		}
	}
	return chunks
}

// TestReceiverFetchesEveryChunkWithinItsBoundsThenReportsItDone: two
// sources, one request each, two in flight; each chunk received goes to
// the worker with its MsgSnapChunkSaved; the last one saved ends the
// transfer with the snapshot to install.
func TestReceiverFetchesEveryChunkWithinItsBoundsThenReportsItDone(t *testing.T) {
	x := newReceiverHarness(t)
	if x.offer(testOffer(3, 1, 2)) {
		t.Fatal("done before any chunk")
	}
	if got := requested(x.h.sent); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Fatalf("first requests for chunks %v, want [0 1]", got)
	}
	saved := 0
	for round := 0; round < 10 && x.rc.cur != nil; round++ {
		for _, m := range x.serve() {
			if m.To != LocalSnapshotThread {
				x.h.sent = append(x.h.sent, m) // a request asked while serving
				continue
			}
			c, err := raftpb.ParseChunk(m)
			if err != nil || len(m.Responses) != 1 {
				t.Fatalf("%v (%v), want a chunk with its MsgSnapChunkSaved", m, err)
			}
			s, _ := raftpb.ParseChunkSaved(m.Responses[0])
			meta, done := x.rc.saved(s, x.now, &x.h)
			x.check()
			if saved++; done != (saved == 3) || (done && meta.Index != 20) {
				t.Fatalf("chunk %d saved (%d in all): done=%t meta=%v, want done only after the last", c.ID.Chunk, saved, done, meta)
			}
		}
	}
	if x.rc.cur != nil {
		t.Fatal("the transfer is still in progress after it was reported done")
	}
}

// TestReceiverAsksElsewhereAfterATimeoutAndDropsASilentSource: a request
// unanswered for a chunk timeout is asked of the other source; a source
// that times out three times in a row is dropped.
func TestReceiverAsksElsewhereAfterATimeoutAndDropsASilentSource(t *testing.T) {
	x := newReceiverHarness(t)
	x.rc.bounds.maxInflight = 1
	x.offer(testOffer(2, 1, 2))
	first, _ := x.rc.cur.askedOf(0)
	x.h.take()
	x.now += testBounds.timeout
	x.rc.tick(x.now, 0, false, &x.h)
	x.check()
	second, ok := x.rc.cur.askedOf(0)
	if !ok || second == first {
		t.Fatalf("after a timeout chunk 0 is asked of %d (%t), want the source other than %d", second, ok, first)
	}
	for i := 0; i < 3*maxChunkFailures; i++ {
		x.now += testBounds.timeout
		x.rc.tick(x.now, 0, false, &x.h)
		x.check()
	}
	if x.rc.cur.live() {
		t.Fatalf("sources that never answer are kept: %+v", x.rc.cur.sources)
	}
	x.rc.tick(x.now, 20, false, &x.h)
	if x.rc.cur != nil {
		t.Fatal("a transfer the log has overtaken is kept")
	}
}

// TestReceiverResumesWithTheChunksSavedBeforeARestart: chunks handed back
// from before a restart are not asked for again; chunks of another
// snapshot or chunk size are forgotten.
func TestReceiverResumesWithTheChunksSavedBeforeARestart(t *testing.T) {
	x := newReceiverHarness(t)
	x.rc.bounds.maxInflight, x.rc.bounds.perSource = 4, 4
	x.rc.resumeWith(SavedChunks{Index: 20, Term: 2, ChunkSize: 4, Chunks: []uint64{0, 2, 7}})
	x.offer(testOffer(4, 1))
	if got := requested(x.h.sent); len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Fatalf("after a restart the receiver asks for chunks %v, want [1 3]", got)
	}
	if x.rc.cur.saved != 2 || x.rc.resume != nil {
		t.Fatalf("saved %d chunks, resume %v; want 2 and the record taken", x.rc.cur.saved, x.rc.resume)
	}
	for _, other := range []SavedChunks{
		{Index: 19, Term: 2, ChunkSize: 4, Chunks: []uint64{0}},
		{Index: 20, Term: 2, ChunkSize: 8, Chunks: []uint64{0}},
	} {
		y := newReceiverHarness(t)
		y.rc.resumeWith(other)
		y.offer(testOffer(4, 1))
		if got := requested(y.h.sent); len(got) == 0 || got[0] != 0 || y.rc.cur.saved != 0 {
			t.Fatalf("chunks saved of %+v were taken for snapshot 2/20 in chunks of 4: asked %v", other, got)
		}
	}
	z := newReceiverHarness(t)
	z.rc.resumeWith(SavedChunks{Index: 20, Term: 2, ChunkSize: 4, Chunks: []uint64{0, 1}})
	if !z.offer(testOffer(2, 1)) || len(z.h.sent) != 0 {
		t.Fatalf("every chunk saved before the restart: the transfer must end at once, sent %v", z.h.sent)
	}
}

// TestSourceServesThroughItsWorkerRefusesWhatItLacksAndWhenBusy: a held
// snapshot is served through the worker, with the chunk to fill in; a
// snapshot not held is refused ChunkNotHeld; a second receiver is refused
// ChunkBusy until the first has been quiet for a chunk timeout.
func TestSourceServesThroughItsWorkerRefusesWhatItLacksAndWhenBusy(t *testing.T) {
	s := newChunkSource(testBounds)
	id := raftpb.ChunkID{Index: 20, Term: 2, Chunk: 1}
	req := func(from uint64) raftpb.ChunkRequest { return raftpb.ChunkRequest{To: 1, From: from, ID: id, Size: 4} }
	refusal := func(m raftpb.Message) (bool, raftpb.ChunkRefusal) {
		c, err := raftpb.ParseChunk(m)
		if err != nil || m.To == LocalSnapshotThread {
			return false, 0
		}
		return c.Refused, c.Why
	}
	m := s.serve(req(3), true, 1, 0)
	if q, err := raftpb.ParseChunkRequest(m); err != nil || m.To != LocalSnapshotThread || q.ID != id || len(m.Responses) != 1 {
		t.Fatalf("a held snapshot: %v, want a request to the worker", m)
	}
	if c, _ := raftpb.ParseChunk(m.Responses[0]); c.To != 3 || c.From != 1 || c.ID != id {
		t.Fatalf("the chunk to fill in: %+v", c)
	}
	if refused, why := refusal(s.serve(req(4), false, 1, 0)); !refused || why != raftpb.ChunkNotHeld {
		t.Fatalf("a snapshot not held: refused=%t why=%v", refused, why)
	}
	if refused, why := refusal(s.serve(req(4), true, 1, 1)); !refused || why != raftpb.ChunkBusy {
		t.Fatalf("a second receiver: refused=%t why=%v, want busy", refused, why)
	}
	if err := s.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	if m := s.serve(req(4), true, 1, testBounds.timeout); m.To != LocalSnapshotThread {
		t.Fatalf("a second receiver after the first went quiet: %v, want it served", m)
	}
}
