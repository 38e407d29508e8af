package core

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// chunkedCluster is an elected 3-node cluster with the chunked snapshot
// transfer on, whose nodes all snapshot at index 4 (the same data).
func chunkedCluster(t *testing.T, opt func(*Config)) *testCluster {
	c := electedClusterWith(t, 3, func(cfg *Config) {
		cfg.SnapshotChunkSize = 4
		cfg.SnapshotInterval = 2
		if opt != nil {
			opt(cfg)
		}
	})
	for _, id := range c.up() {
		cs := c.nodes[id].trk.ConfState()
		if _, err := c.st[id].CreateSnapshot(4, &cs, []byte("0123456789")); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func offer(from, to, term uint64, meta raftpb.SnapshotMetadata, count, size uint64, sources ...uint64) raftpb.Message {
	return raftpb.Message{
		Type: raftpb.MsgSnapOffer, From: from, To: to, Term: term,
		Snapshot: &raftpb.Snapshot{Metadata: meta}, Index: count, RejectHint: size,
		Context: raftpb.EncodeSources(sources),
	}
}

func TestImpossibleChunkMessagesAreRefusedAndChangeNothing(t *testing.T) {
	c := chunkedCluster(t, nil)
	f := c.nodes[2]
	term := f.term
	meta := raftpb.SnapshotMetadata{Index: 20, Term: term, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
	withData := offer(1, 2, term, meta, 3, 4, 1)
	withData.Snapshot.Data = []byte("x")
	cases := []struct {
		name string
		m    raftpb.Message
		want error
	}{
		{"offer of no chunks", offer(1, 2, term, meta, 0, 4, 1), ErrInvalidMessage},
		{"offer of too many chunks", offer(1, 2, term, meta, MaxSnapshotChunks+1, 4, 1), ErrInvalidMessage},
		{"offer with chunk size 0", offer(1, 2, term, meta, 3, 0, 1), ErrInvalidMessage},
		{"offer without sources", offer(1, 2, term, meta, 3, 4), ErrInvalidMessage},
		{"offer with data", withData, ErrInvalidMessage},
		{"offer with a repeated source", offer(1, 2, term, meta, 3, 4, 1, 1), ErrInvalidMessage},
		{"chunk request with a term", raftpb.Message{Type: raftpb.MsgSnapChunkReq, From: 3, To: 2, Term: term, Index: 4, LogTerm: 1, RejectHint: 4}, ErrInvalidMessage},
		{"chunk request without a size", raftpb.Message{Type: raftpb.MsgSnapChunkReq, From: 3, To: 2, Index: 4, LogTerm: 1}, ErrInvalidMessage},
		{"chunk request for snapshot 0", raftpb.Message{Type: raftpb.MsgSnapChunkReq, From: 3, To: 2, RejectHint: 4}, ErrInvalidMessage},
		{"chunk beyond any snapshot", raftpb.Message{Type: raftpb.MsgSnapChunk, From: 3, To: 2, Index: 4, LogTerm: 1, Commit: MaxSnapshotChunks}, ErrInvalidMessage},
		{"chunk saved from the network", raftpb.Message{Type: raftpb.MsgSnapChunkSaved, From: 3, To: 2, Index: 4, LogTerm: 1}, ErrStepLocalMsg},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := fingerprint(f)
			if err := f.Step(tc.m); !errors.Is(err, tc.want) {
				t.Fatalf("Step(%v) = %v, want %v", tc.m, err, tc.want)
			}
			if after := fingerprint(f); after != before || f.chunkFetch().cur != nil {
				t.Fatalf("a refused message changed the node:\n%s\n%s", before, after)
			}
		})
	}
}

func TestOfferIsRefusedWhenChunkedTransferIsOff(t *testing.T) {
	c := electedCluster(t, 3)
	meta := raftpb.SnapshotMetadata{Index: 20, Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
	if err := c.nodes[2].Step(offer(1, 2, 1, meta, 3, 4, 1)); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("offer to a node without chunked transfer: %v, want ErrInvalidMessage", err)
	}
}

// TestFetchRespectsItsBounds: with three sources, one request per source
// and two chunks in flight, the receiver asks two sources at once; with a
// byte bound of one chunk, one.
func TestFetchRespectsItsBounds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   func(*Config)
		asked int
	}{
		{"count", func(cfg *Config) { cfg.MaxSnapshotChunksInflight = 2 }, 2},
		{"bytes", func(cfg *Config) { cfg.MaxSnapshotInflightBytes = 4 }, 1},
		{"per source", func(cfg *Config) { cfg.MaxSnapshotChunksInflight = 8; cfg.MaxSnapshotChunksPerSource = 2 }, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := chunkedCluster(t, tc.opt)
			f := c.nodes[2]
			meta := raftpb.SnapshotMetadata{Index: 20, Term: f.term, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
			must(t, f.Step(offer(1, 2, f.term, meta, 10, 4, 1, 3, 4)))
			reqs := 0
			for _, m := range f.out.msgs {
				if m.Type == raftpb.MsgSnapChunkReq {
					reqs++
				}
			}
			if reqs != tc.asked {
				t.Fatalf("%d chunk requests, want %d: %v", reqs, tc.asked, f.out.msgs)
			}
		})
	}
}

// TestSourceServesABoundedNumberOfReceivers: a second receiver is refused
// as busy until the first has been quiet for a chunk timeout.
func TestSourceServesABoundedNumberOfReceivers(t *testing.T) {
	c := chunkedCluster(t, func(cfg *Config) { cfg.MaxSnapshotReceivers = 1; cfg.SnapshotChunkTimeout = 3 })
	src := c.nodes[1]
	req := func(from uint64) raftpb.MessageType {
		src.out.msgs = nil
		src.takeLocal()
		must(t, src.Step(raftpb.Message{Type: raftpb.MsgSnapChunkReq, From: from, To: 1, Index: 4, LogTerm: 1, RejectHint: 4}))
		if local := src.takeLocal(); len(local) > 0 {
			return local[0].Type // to the worker
		}
		m := src.out.msgs[len(src.out.msgs)-1]
		if m.Type == raftpb.MsgSnapChunk && m.Reject && raftpb.ChunkRefusal(m.RejectHint) == raftpb.ChunkBusy {
			return raftpb.MsgSnapChunk
		}
		return m.Type
	}
	if got := req(2); got != raftpb.MsgSnapChunkReq {
		t.Fatalf("first receiver: %v, want a request to the worker", got)
	}
	if got := req(3); got != raftpb.MsgSnapChunk {
		t.Fatalf("second receiver: %v, want a busy refusal", got)
	}
	for i := 0; i < 3; i++ {
		src.Tick()
	}
	if got := req(3); got != raftpb.MsgSnapChunkReq {
		t.Fatalf("second receiver after the first went quiet: %v, want a request to the worker", got)
	}
}

// TestLaggingFollowerFetchesSnapshotFromLeaderAndFollower: node 3 misses
// entries the leader compacted; it fetches the snapshot in chunks, from
// the leader and node 2, and its storage ends up with the same data.
func TestLaggingFollowerFetchesSnapshotFromLeaderAndFollower(t *testing.T) {
	c, down := laggingChunkedCluster(t, nil)
	c.nodes[3] = down
	for round := 0; round < 20 && down.raftLog.committed < 8; round++ {
		c.nodes[1].Tick()
		c.stabilize()
	}
	served := map[uint64]bool{}
	for _, id := range []uint64{1, 2} {
		if sv := c.nodes[id].chunkServing(); sv != nil {
			for _, s := range sv.receivers {
				served[id] = served[id] || s.id == 3
			}
		}
	}
	snap, _ := c.st[3].Snapshot()
	if snap.Metadata.Index != 8 || !bytes.Equal(snap.Data, []byte("abcdefghij")) {
		t.Fatalf("node 3 holds snapshot %d with %q, want 8 with %q", snap.Metadata.Index, snap.Data, "abcdefghij")
	}
	if !served[1] || !served[2] {
		t.Fatalf("chunks asked of %v, want the leader and node 2", served)
	}
}

func TestServeSnapshotChunkFromSlicesTheRequestedRange(t *testing.T) {
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 9, Term: 2}, Data: []byte("0123456789")}
	req := func(index, term, chunk uint64) raftpb.Message {
		return raftpb.Message{
			Type: raftpb.MsgSnapChunkReq, To: LocalSnapshotThread, From: 1, Index: index, LogTerm: term, Commit: chunk, RejectHint: 4,
			Responses: []raftpb.Message{{Type: raftpb.MsgSnapChunk, To: 3, From: 1, Index: index, LogTerm: term, Commit: chunk}},
		}
	}
	for _, tc := range []struct {
		index, term, chunk uint64
		want               string
		refused            bool
	}{
		{9, 2, 0, "0123", false},
		{9, 2, 2, "89", false},
		{9, 1, 0, "", true},
		{8, 2, 0, "", true},
	} {
		m := ServeSnapshotChunkFrom(req(tc.index, tc.term, tc.chunk), snap)
		if m.Type != raftpb.MsgSnapChunk || m.To != 3 || m.Reject != tc.refused || string(m.Context) != tc.want {
			t.Errorf("chunk %d of %d/%d: %v, want data %q refused %t", tc.chunk, tc.term, tc.index, m, tc.want, tc.refused)
		}
	}
}

// TestLateRefusalFromAnEarlierSourceLeavesTheCurrentRequestStanding: a
// chunk that timed out at one source is asked of another; the first
// source's late refusal must neither cancel that request nor drop the
// source now asked.
func TestLateRefusalFromAnEarlierSourceLeavesTheCurrentRequestStanding(t *testing.T) {
	c := chunkedCluster(t, func(cfg *Config) {
		cfg.MaxSnapshotChunksInflight = 1
		cfg.SnapshotChunkTimeout = 3
	})
	f := c.nodes[2]
	meta := raftpb.SnapshotMetadata{Index: 20, Term: f.term, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
	must(t, f.Step(offer(1, 2, f.term, meta, 10, 4, 1, 3)))
	first, ok := f.chunkFetch().cur.askedOf(0)
	if !ok {
		t.Fatalf("chunk 0 not asked: %+v", f.chunkFetch().cur.asked)
	}
	for i := 0; i < 3; i++ {
		f.Tick()
	}
	second, ok := f.chunkFetch().cur.askedOf(0)
	if !ok || second == first {
		t.Fatalf("after the timeout chunk 0 is asked of %d (%v), want the other source than %d", second, ok, first)
	}
	late := raftpb.Message{Type: raftpb.MsgSnapChunk, From: first, To: 2, Index: 20, LogTerm: meta.Term,
		Commit: 0, Reject: true, RejectHint: uint64(raftpb.ChunkNotHeld)}
	must(t, f.Step(late))
	if now, ok := f.chunkFetch().cur.askedOf(0); !ok || now != second {
		t.Fatalf("after the late refusal chunk 0 is asked of %d (%v), want %d still", now, ok, second)
	}
	if s := f.chunkFetch().cur.source(second); s.dropped || s.asked != 1 {
		t.Fatalf("source %d after another's late refusal: %+v", second, *s)
	}
}

// TestChunksOfTheWrongLengthAreRefused: every chunk but the last holds
// exactly the chunk size, the last at most that; a chunk of another length
// is refused and changes nothing, and a right one is taken.
func TestChunksOfTheWrongLengthAreRefused(t *testing.T) {
	c := chunkedCluster(t, nil)
	f := c.nodes[2]
	term := f.term
	meta := raftpb.SnapshotMetadata{Index: 20, Term: term, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
	must(t, f.Step(offer(1, 2, term, meta, 3, 4, 1)))
	chunk := func(n uint64, data string) raftpb.Message {
		return raftpb.Message{Type: raftpb.MsgSnapChunk, From: 1, To: 2, Index: 20, LogTerm: term, Commit: n, Context: []byte(data)}
	}
	for _, m := range []raftpb.Message{chunk(0, "ab"), chunk(0, "abcde")} {
		before := fingerprint(f)
		inflight := f.chunkFetch().cur.inflight()
		if err := f.Step(m); !errors.Is(err, ErrInvalidMessage) {
			t.Fatalf("chunk %d of %d bytes = %v, want ErrInvalidMessage", m.Commit, len(m.Context), err)
		}
		if fingerprint(f) != before || f.chunkFetch().cur.inflight() != inflight {
			t.Fatalf("a refused chunk %d changed the node", m.Commit)
		}
	}
	must(t, f.Step(chunk(0, "abcd")))
	if f.chunkFetch().cur.inflight() == 0 && f.chunkFetch().cur.saved == 0 {
		t.Fatal("a full first chunk was not taken")
	}
}

// laggingChunkedCluster is chunkedCluster with node 3 down while the
// others commit to index 8, snapshot there ("abcdefghij": three chunks of
// 4 bytes) and compact; node 3 is returned, still down.
func laggingChunkedCluster(t *testing.T, opt func(*Config)) (*testCluster, *Raft) {
	c := chunkedCluster(t, opt)
	down := c.nodes[3]
	delete(c.nodes, 3)
	for i := 0; i < 4; i++ {
		_, _, err := c.nodes[1].Propose([]byte("q"))
		must(t, err)
	}
	c.stabilize()
	for _, id := range []uint64{1, 2} {
		cs := c.nodes[id].trk.ConfState()
		if _, err := c.st[id].CreateSnapshot(8, &cs, []byte("abcdefghij")); err != nil {
			t.Fatal(err)
		}
		must(t, c.st[id].Compact(8))
	}
	return c, down
}

// TestRestartedReceiverResumesItsTransfer: node 3's worker saved chunks 0
// and 1 of the snapshot at 8 before node 3 restarted; handed back, they
// are not fetched again: only chunk 2 is, and the snapshot installed
// holds the whole data.
func TestRestartedReceiverResumesItsTransfer(t *testing.T) {
	c, down := laggingChunkedCluster(t, nil)
	term := c.nodes[1].term
	c.chunks = map[uint64]map[uint64]map[uint64][]byte{3: {8: {0: []byte("abcd"), 1: []byte("efgh")}}}
	cfg := Config{ID: 3, Storage: c.st[3], CheckContract: true, SnapshotChunkSize: 4, SnapshotInterval: 2}
	restarted, err := NewRaft(&cfg)
	must(t, err)
	must(t, restarted.ResumeSnapshotFetch(SavedChunks{Index: 8, Term: term, ChunkSize: 4, Chunks: []uint64{0, 1}}))
	_ = down // its memory, the transfer it never started, is lost
	c.nodes[3] = restarted
	for round := 0; round < 20 && restarted.raftLog.committed < 8; round++ {
		c.nodes[1].Tick()
		c.stabilize()
	}
	snap, _ := c.st[3].Snapshot()
	if snap.Metadata.Index != 8 || !bytes.Equal(snap.Data, []byte("abcdefghij")) {
		t.Fatalf("node 3 holds snapshot %d with %q, want 8 with %q", snap.Metadata.Index, snap.Data, "abcdefghij")
	}
	if n := c.chunksSaved[3]; n != 1 {
		t.Fatalf("the restarted node's worker saved %d chunks, want 1 (chunk 2 only)", n)
	}
}

// TestResumeSnapshotFetchRefusesImpossibleChunks: saved chunks that name
// no snapshot, no chunk size or an impossible chunk, or a node without
// chunked transfer, are refused with ErrInvalidSavedChunks.
func TestResumeSnapshotFetchRefusesImpossibleChunks(t *testing.T) {
	c := chunkedCluster(t, nil)
	r := c.nodes[2]
	for _, s := range []SavedChunks{
		{Term: 1, ChunkSize: 4},
		{Index: 4, ChunkSize: 4},
		{Index: 4, Term: 1},
		{Index: 4, Term: 1, ChunkSize: MaxSnapshotChunkSize + 1},
		{Index: 4, Term: 1, ChunkSize: 4, Chunks: []uint64{MaxSnapshotChunks}},
	} {
		if err := r.ResumeSnapshotFetch(s); !errors.Is(err, ErrInvalidSavedChunks) || r.chunkFetch().resume != nil {
			t.Errorf("ResumeSnapshotFetch(%+v) = %v, want ErrInvalidSavedChunks and nothing kept", s, err)
		}
	}
	off := electedCluster(t, 3).nodes[2]
	if err := off.ResumeSnapshotFetch(SavedChunks{Index: 4, Term: 1, ChunkSize: 4}); !errors.Is(err, ErrInvalidSavedChunks) {
		t.Errorf("without chunked transfer: %v, want ErrInvalidSavedChunks", err)
	}
}

// sizedStorage keeps its snapshot's data out of Snapshot, as a storage on
// disk does, and reports its size (SnapshotSizer).
type sizedStorage struct{ *MemoryStorage }

func (s sizedStorage) Snapshot() (raftpb.Snapshot, error) {
	snap, err := s.MemoryStorage.Snapshot()
	snap.Data = nil
	return snap, err
}

func (s sizedStorage) SnapshotSize() (raftpb.SnapshotMetadata, uint64, error) {
	snap, err := s.MemoryStorage.Snapshot()
	return snap.Metadata, uint64(len(snap.Data)), err
}

// TestLeaderOffersASnapshotItsStorageSizesWithoutItsData: a Storage whose
// Snapshot returns no data reports the size (SnapshotSizer), and the
// leader offers the right number of chunks.
func TestLeaderOffersASnapshotItsStorageSizesWithoutItsData(t *testing.T) {
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2}})
	cs := raftpb.ConfState{Voters: []uint64{1, 2}}
	r, err := NewRaft(&Config{ID: 1, Storage: sizedStorage{st}, SnapshotChunkSize: 4})
	must(t, err)
	must(t, st.ApplySnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 5, Term: 1, ConfState: cs}, Data: []byte("0123456789")}))
	snap, _ := r.raftLog.storage.Snapshot()
	m, ok := r.snapshotOffer(2, snap)
	o, err := raftpb.ParseSnapshotOffer(m)
	if !ok || err != nil || o.Chunks != 3 || o.Size != 4 {
		t.Fatalf("offer of a 10-byte snapshot kept on disk: %+v (%v), want 3 chunks of 4", o, err)
	}
}
