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
// offer (it does on every heartbeat answer from a follower waiting for a
// snapshot), which resumes it with fresh sources; a leader change resumes
// it the same way when the new leader offers the same snapshot. An offer
// of a newer snapshot replaces the transfer; an older one is ignored while
// the transfer has sources left.
//
// Compaction: a source that has replaced its snapshot no longer holds the
// one being fetched and refuses; when the leader itself has moved on, its
// next offer is the newer snapshot, which restarts the transfer cleanly
// from that snapshot. Nothing holds compaction back. A restart of the
// receiver forgets the transfer; the next offer starts it again.

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

// handleSnapshotOffer is the follower's side of a MsgSnapOffer.
func (r *Raft) handleSnapshotOffer(m raftpb.Message) error {
	if r.chunks.size == 0 {
		return fmt.Errorf("%w: MsgSnapOffer, but chunked snapshot transfer is off (Config.SnapshotChunkSize)", ErrInvalidMessage)
	}
	meta := m.Snapshot.Metadata
	if r.logCovers(meta) {
		// Nothing to fetch (§7).
		r.send(raftpb.Message{To: m.From, Type: raftpb.MsgAppResp, Index: r.raftLog.committed})
		return nil
	}
	sources, _ := raftpb.DecodeSources(m.Context) // validated
	f := r.fetch
	switch {
	case f != nil && f.is(meta.Index, meta.Term):
		f.resume(sources, r.id)
	case f != nil && meta.Index < f.meta.Index && f.live():
		if r.logs(LevelDebug) {
			r.log(LevelDebug, "ignored the offer of an older snapshot than the one being fetched", peerAttr(m.From),
				Attr{"snap_index", meta.Index}, Attr{"fetching_index", f.meta.Index})
		}
		return nil
	default:
		r.fetch = newSnapFetch(meta, m.Index, m.RejectHint, sources, r.id)
		r.log(LevelInfo, "fetching a snapshot in chunks", Attr{"snap_term", meta.Term}, Attr{"snap_index", meta.Index},
			Attr{"chunks", m.Index}, Attr{"sources", fmt.Sprint(sources)})
	}
	r.pumpFetch()
	return nil
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

// pumpFetch asks for as many chunks as the bounds allow.
func (r *Raft) pumpFetch() {
	f := r.fetch
	for f.inflight() < r.chunks.maxInflight &&
		(f.inflight() == 0 || uint64(f.inflight()+1)*f.size <= r.chunks.inflightBytes) {
		chunk, ok := f.nextChunk()
		if !ok {
			return
		}
		s := f.pickSource(r.ticks, r.chunks.perSource)
		if s == nil {
			f.retry = append(f.retry, chunk) // ask later
			return
		}
		s.asked++
		f.state[chunk] = chunkAsked
		f.asked = append(f.asked, askedChunk{chunk: chunk, source: s.id, at: r.ticks})
		r.send(raftpb.Message{
			Type: raftpb.MsgSnapChunkReq, To: s.id,
			Index: f.meta.Index, LogTerm: f.meta.Term, Commit: chunk, RejectHint: f.size,
		})
	}
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
	if f.next < f.count() {
		f.next++
		return f.next - 1, true
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

// receiveChunk is a chunk (or a refusal) arriving from a source.
func (r *Raft) receiveChunk(m raftpb.Message) error {
	f := r.fetch
	if f == nil || !f.is(m.Index, m.LogTerm) {
		if r.logs(LevelDebug) {
			r.log(LevelDebug, "ignored a chunk of no transfer in progress (finished or replaced)", peerAttr(m.From),
				Attr{"chunk", m.Commit}, Attr{"snap_index", m.Index})
		}
		return nil
	}
	if m.Commit >= f.count() {
		return fmt.Errorf("%w: chunk %d of a snapshot of %d chunks", ErrInvalidMessage, m.Commit, f.count())
	}
	if f.state[m.Commit] != chunkAsked {
		// A duplicate, or an answer after the chunk was asked again and
		// received.
		if r.logs(LevelDebug) {
			r.log(LevelDebug, "ignored a chunk already received", peerAttr(m.From), Attr{"chunk", m.Commit}, Attr{"snap_index", m.Index})
		}
		return nil
	}
	if !m.Reject {
		if err := f.checkChunkSize(m.Commit, len(m.Context)); err != nil {
			return err
		}
	}
	if asked, _ := f.askedOf(m.Commit); m.Reject && asked != m.From {
		// A late refusal from a source the chunk was asked of before it
		// timed out: the request now outstanding elsewhere stands.
		if r.logs(LevelDebug) {
			r.log(LevelDebug, "ignored a late refusal of a chunk asked of another source since", peerAttr(m.From),
				Attr{"chunk", m.Commit}, Attr{"asked", asked})
		}
		return nil
	}
	s := f.takeAsked(m.Commit)
	if m.Reject {
		f.requeue(m.Commit)
		r.sourceRefused(s, raftpb.ChunkRefusal(m.RejectHint))
		r.pumpFetch()
		return nil
	}
	if s.id == m.From {
		// A late answer from an earlier source is taken too (committed
		// data is the same whoever serves it) but clears no failures.
		s.failures = 0
	}
	f.state[m.Commit] = chunkSaving
	f.saving++
	r.send(raftpb.Message{
		Type: raftpb.MsgSnapChunk, To: LocalSnapshotThread,
		Index: m.Index, LogTerm: m.LogTerm, Commit: m.Commit, Context: m.Context,
		Responses: []raftpb.Message{{
			Type: raftpb.MsgSnapChunkSaved, To: r.id, From: LocalSnapshotThread,
			Index: m.Index, LogTerm: m.LogTerm, Commit: m.Commit,
		}},
	})
	r.pumpFetch()
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
func (r *Raft) sourceRefused(s *fetchSource, why raftpb.ChunkRefusal) {
	if why == raftpb.ChunkBusy {
		s.retryAt = r.ticks + r.chunks.timeout
		return
	}
	r.dropSource(s, "it does not hold the snapshot")
}

func (r *Raft) dropSource(s *fetchSource, why string) {
	s.dropped = true
	r.log(LevelInfo, "dropped a snapshot source", peerAttr(s.id), Attr{"why", why})
	if !r.fetch.live() {
		r.log(LevelWarn, "no snapshot source left; waiting for a new offer", Attr{"snap_term", r.fetch.meta.Term},
			Attr{"snap_index", r.fetch.meta.Index})
	}
}

// chunkSaved is the snapshot worker's report that a chunk is durable. The
// last one installs the snapshot.
func (r *Raft) chunkSaved(m raftpb.Message) {
	f := r.fetch
	if f == nil || !f.is(m.Index, m.LogTerm) || m.Commit >= f.count() || f.state[m.Commit] != chunkSaving {
		return // a chunk of a transfer since replaced
	}
	f.state[m.Commit] = chunkSaved
	f.saving--
	f.saved++
	if f.saved == f.count() {
		r.installFetched()
		return
	}
	r.pumpFetch()
}

// installFetched installs a snapshot whose chunks are all durable, as
// MsgSnap would (§7), and tells the leader where the log now ends.
func (r *Raft) installFetched() {
	f := r.fetch
	r.fetch = nil
	if r.state != StateFollower || r.lead == None {
		// Only a follower installs, and it answers its leader; the next
		// leader's offer fetches the snapshot again.
		r.log(LevelInfo, "dropped the fetched snapshot: no longer a follower", Attr{"snap_term", f.meta.Term},
			Attr{"snap_index", f.meta.Index}, Attr{"state", r.state}, Attr{"leader", r.lead})
		return
	}
	r.installSnapshot(r.lead, raftpb.Snapshot{Metadata: f.meta})
}

// tickFetch asks again, elsewhere, for the chunks that have waited a
// timeout, and ends a transfer the log has overtaken.
func (r *Raft) tickFetch() {
	f := r.fetch
	if f.meta.Index <= r.raftLog.committed || r.state == StateLeader {
		r.fetch = nil
		return
	}
	kept := f.asked[:0]
	for _, a := range f.asked {
		if r.ticks-a.at < r.chunks.timeout {
			kept = append(kept, a)
			continue
		}
		f.requeue(a.chunk)
		s := f.source(a.source)
		s.asked--
		s.retryAt = r.ticks + r.chunks.timeout
		if s.failures++; s.failures >= maxChunkFailures && !s.dropped {
			r.dropSource(s, "it did not answer")
		}
	}
	f.asked = kept
	r.pumpFetch()
}
