package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// The chunked snapshot transfer, receiver's side. A follower offered a
// snapshot (MsgSnapOffer) fetches its chunks from the sources the leader
// named, several at once from different sources, at most
// MaxSnapshotChunksPerSource from one, within MaxSnapshotChunksInflight
// chunks and MaxSnapshotInflightBytes in all. It hands each chunk to its
// snapshot worker to persist, and installs the snapshot once the worker
// has saved them all.
//
// A chunk a source does not deliver within SnapshotChunkTimeout ticks is
// asked of another; a source that times out three times in a row, or does
// not hold the snapshot, is dropped. When every source is dropped the
// transfer stalls, keeping its saved chunks, until the leader repeats its
// offer (it does at a heartbeat answer from a follower waiting for a
// snapshot, at most once per SnapshotRetryTicks), which resumes it with
// fresh sources; a leader change resumes
// it the same way when the new leader offers the same snapshot. An offer
// of a newer snapshot replaces the transfer; an older one is ignored while
// the transfer has sources left.
//
// Compaction: a source that has replaced its snapshot no longer holds the
// one being fetched and refuses; when the leader itself has moved on, its
// next offer (at once, not waiting for SnapshotRetryTicks) is the newer
// snapshot, which restarts the transfer cleanly
// from that snapshot. Nothing holds compaction back.
//
// Restart: a receiver that restarts has lost its transfer, not the chunks
// its snapshot worker saved. The application hands those back
// (RawNode.ResumeSnapshotFetch); the next offer of that snapshot, in the
// same chunk size, starts the transfer with them saved, and only the
// others are fetched.
//
// chunkReceiver never touches the node: it takes typed messages and the
// node's tick count, and answers through its chunkHost.

// The states of a chunk in a transfer.
const (
	chunkMissing uint8 = iota
	chunkAsked
	chunkSaving
	chunkSaved
)

// maxChunkFailures is how many times in a row a source may time out
// before the receiver drops it.
const maxChunkFailures = 3

// chunkReceiver is the receiver's state machine: its bounds, its transfer
// in progress (nil: none), and the chunks saved before a restart that the
// application handed back (nil: none).
type chunkReceiver struct {
	bounds chunkSettings
	self   uint64
	cur    *snapFetch
	resume *SavedChunks
}

// chunkHost is what the chunked transfer needs of its node: to send a
// message (chunk messages carry no term; those to LocalSnapshotThread are
// the snapshot worker's) and to log.
type chunkHost interface {
	sendChunk(m raftpb.Message)
	logs(level Level) bool
	log(level Level, msg string, attrs ...Attr)
}

func newChunkReceiver(bounds chunkSettings, self uint64) *chunkReceiver {
	return &chunkReceiver{bounds: bounds, self: self}
}

// snapFetch is a transfer in progress.
type snapFetch struct {
	meta  raftpb.SnapshotMetadata
	size  uint64  // chunk size
	state []uint8 // per chunk
	// next is the lowest chunk never asked for; retry holds chunks to ask
	// for again, oldest first.
	next  uint64
	retry []uint64
	// asked are the outstanding requests.
	asked   []askedChunk
	sources []fetchSource
	saving  int
	saved   uint64
	// rr rotates the choice among equally loaded sources.
	rr int
}

// askedChunk is an outstanding request: which chunk, of whom, since when.
type askedChunk struct {
	chunk, source, at uint64
}

// fetchSource is a member that may serve chunks.
type fetchSource struct {
	id       uint64
	asked    int
	failures int
	retryAt  uint64
	dropped  bool
}

func (f *snapFetch) count() uint64 { return uint64(len(f.state)) }

func (f *snapFetch) is(index, term uint64) bool {
	return f.meta.Index == index && f.meta.Term == term
}

// live reports whether any source is left.
func (f *snapFetch) live() bool {
	for i := range f.sources {
		if !f.sources[i].dropped {
			return true
		}
	}
	return false
}

// offer is the follower's side of a MsgSnapOffer whose snapshot its log
// does not cover: start, resume or replace the transfer.
// When the chunks saved before a restart complete it, the transfer ends at
// once and offer returns the snapshot to install (done).
func (rc *chunkReceiver) offer(o raftpb.SnapshotOffer, from, now uint64, h chunkHost) (meta raftpb.SnapshotMetadata, done bool) {
	meta = o.Snapshot
	f := rc.cur
	switch {
	case f != nil && f.is(meta.Index, meta.Term):
		f.resume(o.Sources, rc.self)
	case f != nil && meta.Index < f.meta.Index && f.live():
		if h.logs(LevelDebug) {
			h.log(LevelDebug, "ignored the offer of an older snapshot than the one being fetched", peerAttr(from),
				Attr{"snap_index", meta.Index}, Attr{"fetching_index", f.meta.Index})
		}
		return raftpb.SnapshotMetadata{}, false
	default:
		rc.cur = newSnapFetch(meta, o.Chunks, o.Size, o.Sources, rc.self)
		h.log(LevelInfo, "fetching a snapshot in chunks", Attr{"snap_term", meta.Term}, Attr{"snap_index", meta.Index},
			Attr{"chunks", o.Chunks}, Attr{"sources", fmt.Sprint(o.Sources)})
		if rc.takeSavedBeforeRestart(h) {
			rc.cur = nil
			return meta, true
		}
	}
	rc.pump(now, h)
	return raftpb.SnapshotMetadata{}, false
}

// SavedChunks are the chunks of one snapshot that a receiver's snapshot
// worker saved durably before the node restarted, handed back with
// RawNode.ResumeSnapshotFetch: the snapshot's Index and Term, the
// ChunkSize they were fetched in, and the chunk numbers saved.
type SavedChunks struct {
	Index, Term uint64
	ChunkSize   uint64
	Chunks      []uint64
}

// validate refuses saved chunks that name no snapshot, no chunk size, or
// a chunk number no snapshot has.
func (s *SavedChunks) validate() error {
	switch {
	case s.Index == 0 || s.Term == 0:
		return fmt.Errorf("%w: snapshot %d/%d", ErrInvalidSavedChunks, s.Term, s.Index)
	case s.ChunkSize == 0 || s.ChunkSize > MaxSnapshotChunkSize:
		return fmt.Errorf("%w: chunk size %d", ErrInvalidSavedChunks, s.ChunkSize)
	}
	for _, c := range s.Chunks {
		if c >= MaxSnapshotChunks {
			return fmt.Errorf("%w: chunk %d", ErrInvalidSavedChunks, c)
		}
	}
	return nil
}

// resumeWith keeps the chunks saved before a restart until the next
// transfer starts.
func (rc *chunkReceiver) resumeWith(s SavedChunks) {
	s.Chunks = append([]uint64(nil), s.Chunks...)
	rc.resume = &s
}

// takeSavedBeforeRestart marks saved, in the transfer just started, the
// chunks handed back from before a restart when they are of its snapshot
// and chunk size; chunks of another snapshot are forgotten. It reports
// whether every chunk is then saved.
func (rc *chunkReceiver) takeSavedBeforeRestart(h chunkHost) bool {
	s, f := rc.resume, rc.cur
	rc.resume = nil
	if s == nil || !f.is(s.Index, s.Term) || s.ChunkSize != f.size {
		return false
	}
	for _, c := range s.Chunks {
		if c < f.count() && f.state[c] == chunkMissing {
			f.state[c] = chunkSaved
			f.saved++
		}
	}
	h.log(LevelInfo, "resumed a snapshot transfer with chunks saved before a restart", Attr{"snap_term", f.meta.Term},
		Attr{"snap_index", f.meta.Index}, Attr{"saved", f.saved}, Attr{"chunks", f.count()})
	return f.saved == f.count()
}

func newSnapFetch(meta raftpb.SnapshotMetadata, count, size uint64, sources []uint64, self uint64) *snapFetch {
	f := &snapFetch{meta: meta, size: size, state: make([]uint8, count)}
	f.resume(sources, self)
	return f
}

// resume takes a repeated offer's sources: every named source, even one
// dropped earlier, may serve again.
func (f *snapFetch) resume(sources []uint64, self uint64) {
	for _, id := range sources {
		if id == self {
			continue
		}
		if s := f.source(id); s != nil {
			s.dropped, s.failures, s.retryAt = false, 0, 0
			continue
		}
		f.sources = append(f.sources, fetchSource{id: id})
	}
}

func (f *snapFetch) source(id uint64) *fetchSource {
	for i := range f.sources {
		if f.sources[i].id == id {
			return &f.sources[i]
		}
	}
	return nil
}

// pump asks for as many chunks as the bounds allow.
func (rc *chunkReceiver) pump(now uint64, h chunkHost) {
	f := rc.cur
	for f.inflight() < rc.bounds.maxInflight &&
		(f.inflight() == 0 || uint64(f.inflight()+1)*f.size <= rc.bounds.inflightBytes) {
		chunk, ok := f.nextChunk()
		if !ok {
			return
		}
		s := f.pickSource(now, rc.bounds.perSource)
		if s == nil {
			f.retry = append(f.retry, chunk) // ask later
			return
		}
		s.asked++
		f.state[chunk] = chunkAsked
		f.asked = append(f.asked, askedChunk{chunk: chunk, source: s.id, at: now})
		h.sendChunk(raftpb.ChunkRequest{To: s.id, ID: f.chunkID(chunk), Size: f.size}.Message())
	}
}

// chunkID names chunk of the snapshot being fetched.
func (f *snapFetch) chunkID(chunk uint64) raftpb.ChunkID {
	return raftpb.ChunkID{Index: f.meta.Index, Term: f.meta.Term, Chunk: chunk}
}

// inflight counts the chunks asked for and not yet saved.
func (f *snapFetch) inflight() int { return len(f.asked) + f.saving }

// nextChunk takes the next chunk to ask for: one to ask again first, then
// the lowest never asked.
func (f *snapFetch) nextChunk() (uint64, bool) {
	for len(f.retry) > 0 {
		c := f.retry[0]
		f.retry = f.retry[1:]
		if f.state[c] == chunkMissing {
			return c, true
		}
	}
	for f.next < f.count() {
		f.next++
		if f.state[f.next-1] == chunkMissing { // not saved before a restart
			return f.next - 1, true
		}
	}
	return 0, false
}

// pickSource returns the source to ask now, or nil: among those below
// their request bound and not backing off, the one that failed least
// recently in a row, then the least loaded. Ties rotate, so that equal
// sources share the work.
func (f *snapFetch) pickSource(now uint64, perSource int) *fetchSource {
	var best *fetchSource
	n := len(f.sources)
	for k := 0; k < n; k++ {
		s := &f.sources[(f.rr+k)%n]
		if s.dropped || s.asked >= perSource || s.retryAt > now {
			continue
		}
		if best == nil || s.failures < best.failures || (s.failures == best.failures && s.asked < best.asked) {
			best = s
		}
	}
	if best != nil {
		f.rr++
	}
	return best
}

// askedOf returns the source of the outstanding request for chunk.
func (f *snapFetch) askedOf(chunk uint64) (source uint64, ok bool) {
	for _, a := range f.asked {
		if a.chunk == chunk {
			return a.source, true
		}
	}
	return 0, false
}

// takeAsked removes the outstanding request for chunk and returns its
// source, or nil if the chunk was not asked for.
func (f *snapFetch) takeAsked(chunk uint64) *fetchSource {
	for i, a := range f.asked {
		if a.chunk == chunk {
			f.asked = append(f.asked[:i], f.asked[i+1:]...)
			s := f.source(a.source)
			s.asked--
			return s
		}
	}
	return nil
}

// requeue marks chunk missing again, to be asked of another source.
func (f *snapFetch) requeue(chunk uint64) {
	f.state[chunk] = chunkMissing
	f.retry = append(f.retry, chunk)
}

// chunk is a chunk (or a refusal) arriving from a source.
func (rc *chunkReceiver) chunk(c raftpb.Chunk, now uint64, h chunkHost) error {
	f, n := rc.cur, c.ID.Chunk
	if f == nil || !f.is(c.ID.Index, c.ID.Term) {
		if h.logs(LevelDebug) {
			h.log(LevelDebug, "ignored a chunk of no transfer in progress (finished or replaced)", peerAttr(c.From),
				Attr{"chunk", n}, Attr{"snap_index", c.ID.Index})
		}
		return nil
	}
	if n >= f.count() {
		return fmt.Errorf("%w: chunk %d of a snapshot of %d chunks", ErrInvalidMessage, n, f.count())
	}
	if f.state[n] != chunkAsked {
		// A duplicate, or an answer after the chunk was asked again and
		// received.
		if h.logs(LevelDebug) {
			h.log(LevelDebug, "ignored a chunk already received", peerAttr(c.From), Attr{"chunk", n}, Attr{"snap_index", c.ID.Index})
		}
		return nil
	}
	if !c.Refused {
		if err := f.checkChunkSize(n, len(c.Data)); err != nil {
			return err
		}
	}
	if asked, _ := f.askedOf(n); c.Refused && asked != c.From {
		// A late refusal from a source the chunk was asked of before it
		// timed out: the request now outstanding elsewhere stands.
		if h.logs(LevelDebug) {
			h.log(LevelDebug, "ignored a late refusal of a chunk asked of another source since", peerAttr(c.From),
				Attr{"chunk", n}, Attr{"asked", asked})
		}
		return nil
	}
	s := f.takeAsked(n)
	if c.Refused {
		f.requeue(n)
		rc.sourceRefused(s, c.Why, now, h)
		rc.pump(now, h)
		return nil
	}
	if s.id == c.From {
		// A late answer from an earlier source is taken too (committed
		// data is the same whoever serves it) but clears no failures.
		s.failures = 0
	}
	f.state[n] = chunkSaving
	f.saving++
	save := raftpb.Chunk{To: LocalSnapshotThread, ID: c.ID, Data: c.Data}.Message()
	save.Responses = []raftpb.Message{raftpb.ChunkSaved{To: rc.self, From: LocalSnapshotThread, ID: c.ID}.Message()}
	h.sendChunk(save)
	rc.pump(now, h)
	return nil
}

// checkChunkSize refuses a chunk of the wrong length: every chunk but the
// last is full, the last is not empty unless it is the only one.
func (f *snapFetch) checkChunkSize(chunk uint64, n int) error {
	last := chunk == f.count()-1
	switch {
	case !last && uint64(n) != f.size,
		last && uint64(n) > f.size,
		last && n == 0 && f.count() > 1:
		return fmt.Errorf("%w: chunk %d of %d holds %d bytes, chunk size %d", ErrInvalidMessage, chunk, f.count(), n, f.size)
	}
	return nil
}

// sourceRefused handles a source's refusal: one that does not hold the
// snapshot is dropped, a busy one is left alone for a timeout.
func (rc *chunkReceiver) sourceRefused(s *fetchSource, why raftpb.ChunkRefusal, now uint64, h chunkHost) {
	if why == raftpb.ChunkBusy {
		s.retryAt = now + rc.bounds.timeout
		return
	}
	rc.dropSource(s, "it does not hold the snapshot", h)
}

func (rc *chunkReceiver) dropSource(s *fetchSource, why string, h chunkHost) {
	s.dropped = true
	h.log(LevelInfo, "dropped a snapshot source", peerAttr(s.id), Attr{"why", why})
	if !rc.cur.live() {
		h.log(LevelWarn, "no snapshot source left; waiting for a new offer", Attr{"snap_term", rc.cur.meta.Term},
			Attr{"snap_index", rc.cur.meta.Index})
	}
}

// saved is the snapshot worker's report that a chunk is durable. When it
// is the last, the transfer ends and saved returns the snapshot to
// install (done).
func (rc *chunkReceiver) saved(c raftpb.ChunkSaved, now uint64, h chunkHost) (meta raftpb.SnapshotMetadata, done bool) {
	f, n := rc.cur, c.ID.Chunk
	if f == nil || !f.is(c.ID.Index, c.ID.Term) || n >= f.count() || f.state[n] != chunkSaving {
		return raftpb.SnapshotMetadata{}, false // a chunk of a transfer since replaced
	}
	f.state[n] = chunkSaved
	f.saving--
	f.saved++
	if f.saved == f.count() {
		rc.cur = nil
		return f.meta, true
	}
	rc.pump(now, h)
	return raftpb.SnapshotMetadata{}, false
}

// tick asks again, elsewhere, for the chunks that have waited a timeout,
// and ends a transfer the log has overtaken (committed reaches its
// snapshot) or that a leader has no use for.
func (rc *chunkReceiver) tick(now, committed uint64, leader bool, h chunkHost) {
	f := rc.cur
	if f == nil {
		return
	}
	if f.meta.Index <= committed || leader {
		rc.cur = nil
		return
	}
	kept := f.asked[:0]
	for _, a := range f.asked {
		if now-a.at < rc.bounds.timeout {
			kept = append(kept, a)
			continue
		}
		f.requeue(a.chunk)
		s := f.source(a.source)
		s.asked--
		s.retryAt = now + rc.bounds.timeout
		if s.failures++; s.failures >= maxChunkFailures && !s.dropped {
			rc.dropSource(s, "it did not answer", h)
		}
	}
	f.asked = kept
	rc.pump(now, h)
}

// fetching reports whether a transfer is in progress. The receiver itself
// exists whenever chunked transfer is on; rc may be nil when it is off.
func (rc *chunkReceiver) fetching() bool { return rc != nil && rc.cur != nil }

// status is the transfer's progress for Status, or nil when none is in
// progress.
func (rc *chunkReceiver) status() *SnapshotFetch {
	f := rc.cur
	if f == nil {
		return nil
	}
	st := &SnapshotFetch{Index: f.meta.Index, Term: f.meta.Term, Chunks: f.count(), Saved: f.saved, Inflight: f.inflight()}
	for _, src := range f.sources {
		if !src.dropped {
			st.Sources = append(st.Sources, src.id)
		}
	}
	return st
}
