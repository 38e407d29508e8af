package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// The chunked snapshot transfer (Config.SnapshotChunkSize) is a component
// of its own inside core: two state machines, each a type with its own
// state, bounds and invariants, tested alone, that never touch the node:
//
//   - chunkReceiver (chunks_receiver.go): a follower offered a snapshot
//     fetches its chunks from several sources at once; inputs are the
//     offer, a chunk or refusal, the worker's report that a chunk is
//     saved, and a tick; outputs are messages (requests to sources,
//     chunks to the snapshot worker) and, once every chunk is saved, the
//     snapshot to install.
//   - chunkSource (chunks_source.go): a member asked for a chunk serves
//     it through its snapshot worker or refuses.
//
// They read and write chunk messages only through raftpb's typed views
// (raftpb.ChunkRequest, raftpb.Chunk, ...), checked by chunks_validate.go;
// their invariants are in chunks_invariants.go. The node keeps two hooks:
// "this follower needs a snapshot" (chunks_offer.go, called by
// maybeSendSnapshot and the heartbeat answer of a follower waiting for
// one) and "a fetched snapshot is complete, install it" (installFetched
// below); this file holds the rest of the glue: Step hands chunk messages,
// which carry no term, straight to the component, and sendChunk queues
// what it sends, without a term, the snapshot worker's work apart from
// the network's (Ready.LocalMessages).
//
// Why in core and not a package below it: the component speaks the node's
// language (its Logger and log attributes, the typed errors a Step returns,
// Config's bounds and validation) and is small. A package below core would
// have to duplicate or re-wrap each of these for the root to re-export;
// inside core the separation is kept by the component's own files, by the
// lint test that lets only chunks_receiver.go and chunks_source.go assign
// their sub-states' fields, and by the one that lets only these files and
// raftpb read a chunk message's reused fields.

// LocalSnapshotThread is the ID of the application's snapshot worker in
// the chunked snapshot transfer (Config.SnapshotChunkSize). Messages
// addressed to it never leave the node; in the synchronous loop they are
// handed out in Ready.LocalMessages, in the asynchronous mode in
// Ready.Messages with the other workers'. Read them with raftpb's parsers:
//
//   - MsgSnapChunkReq (raftpb.ParseChunkRequest) asks the worker for a
//     chunk: bytes [Chunk*Size, (Chunk+1)*Size) of the data of the
//     snapshot it names. The worker completes the MsgSnapChunk in
//     Responses with ServeSnapshotChunk (or ServeSnapshotChunkFrom), which
//     refuses when it no longer holds that snapshot, and sends it to its
//     recipient.
//   - MsgSnapChunk (raftpb.ParseChunk) hands the worker a received chunk
//     to persist. Once it is durable the worker delivers the
//     MsgSnapChunkSaved in Responses through Step.
//
// When every chunk of a snapshot is saved the node installs it: Ready's
// Snapshot (or, in the asynchronous mode, the MsgStorageAppend and
// MsgStorageApply) carries its metadata and no data; the data is the
// concatenation, in chunk order, of the chunks saved for that index and
// term. Chunks of other snapshots may then be discarded. After a restart
// the application may hand back the chunks it saved
// (RawNode.ResumeSnapshotFetch) so that the transfer resumes.
const LocalSnapshotThread uint64 = ^uint64(0) - 2

// chunkSettings are the chunked snapshot transfer's Config values.
type chunkSettings struct {
	size          uint64 // chunk size; 0: transfer off
	interval      uint64
	maxInflight   int
	perSource     int
	inflightBytes uint64
	maxReceivers  int
	timeout       uint64
}

func newChunkSettings(c *Config) chunkSettings {
	return chunkSettings{
		size: c.SnapshotChunkSize, interval: c.SnapshotInterval,
		maxInflight: c.MaxSnapshotChunksInflight, perSource: c.MaxSnapshotChunksPerSource,
		inflightBytes: c.MaxSnapshotInflightBytes, maxReceivers: c.MaxSnapshotReceivers,
		timeout: uint64(c.SnapshotChunkTimeout),
	}
}

// isChunkMessage reports whether t is a message the component takes
// straight from Step: the termless chunk messages and the worker's report.
func isChunkMessage(t raftpb.MessageType) bool {
	return t == raftpb.MsgSnapChunkReq || t == raftpb.MsgSnapChunk || t == raftpb.MsgSnapChunkSaved
}

// stepChunk hands a validated chunk message to the component. Chunks are
// committed data, the same in every term: they carry no term and never
// go through the role's step function.
func (r *Raft) stepChunk(m raftpb.Message) error {
	switch m.Type {
	case raftpb.MsgSnapChunkReq:
		q, _ := raftpb.ParseChunkRequest(m) // validated
		held := r.holdsSnapshot(q.ID)
		r.sendChunk(r.chunkServing().serve(q, held, r.id, r.ticks))
		return nil
	case raftpb.MsgSnapChunk:
		c, _ := raftpb.ParseChunk(m) // validated
		if r.chunkFetch() == nil {
			return nil // no transfer ever started: a stray chunk
		}
		return r.chunkFetch().chunk(c, r.ticks, r)
	default:
		s, _ := raftpb.ParseChunkSaved(m) // validated
		if r.chunkFetch() == nil {
			return nil
		}
		if meta, done := r.chunkFetch().saved(s, r.ticks, r); done {
			r.installFetched(meta)
		}
		return nil
	}
}

// sendChunk queues a message of the chunked transfer: from this node, with
// no term (chunks are committed data, so that fetching them never disturbs
// an election). In the synchronous loop the snapshot worker's never go to
// the network: the outbox hands them out apart (Ready.LocalMessages).
func (r *Raft) sendChunk(m raftpb.Message) {
	m.From = r.id
	if m.To == LocalSnapshotThread && !r.settings.asyncStorage {
		r.queueLocal(m)
		return
	}
	r.out.queue(&m, false, r.fanOut(), r.settings.cache)
}

// handleSnapshotOffer is the follower's side of a MsgSnapOffer.
func (r *Raft) handleSnapshotOffer(m raftpb.Message) error {
	if r.settings.chunks.size == 0 {
		return fmt.Errorf("%w: MsgSnapOffer, but chunked snapshot transfer is off (Config.SnapshotChunkSize)", ErrInvalidMessage)
	}
	o, _ := raftpb.ParseSnapshotOffer(m) // validated
	if r.logCovers(o.Snapshot) {
		// Nothing to fetch (§7).
		r.send(&raftpb.Message{To: m.From, Type: raftpb.MsgAppResp, Index: r.raftLog.committed})
		return nil
	}
	if meta, done := r.chunkFetch().offer(o, m.From, r.ticks, r); done {
		r.installFetched(meta)
	}
	return nil
}

// installFetched is the hook "a fetched snapshot is complete": it installs
// a snapshot whose chunks are all durable, as MsgSnap would (§7), and
// tells the leader where the log now ends.
func (r *Raft) installFetched(meta raftpb.SnapshotMetadata) {
	if r.state != StateFollower || r.lead == None {
		// Only a follower installs, and it answers its leader; the next
		// leader's offer fetches the snapshot again.
		r.log(LevelInfo, "dropped the fetched snapshot: no longer a follower", Attr{"snap_term", meta.Term},
			Attr{"snap_index", meta.Index}, Attr{"state", r.state}, Attr{"leader", r.lead})
		return
	}
	r.installSnapshot(r.lead, raftpb.Snapshot{Metadata: meta})
}

// tickChunks is the receiver's clock: chunks asked too long ago are asked
// again elsewhere.
func (r *Raft) tickChunks() {
	r.chunkFetch().tick(r.ticks, r.raftLog.committed, r.state == StateLeader, r)
}

// holdsSnapshot reports whether the node's storage holds the snapshot a
// chunk request names and the node takes part in chunked transfers (its
// application has a snapshot worker). The storage's snapshot is read only
// for a request naming another snapshot than the one last found there, or
// once the log was compacted past that one (a newer snapshot replaced it),
// not once per chunk. A request for a snapshot the storage replaced
// without compacting is refused by the worker instead
// (ServeSnapshotChunk).
func (r *Raft) holdsSnapshot(id raftpb.ChunkID) bool {
	if r.settings.chunks.size == 0 {
		return false
	}
	if r.chunkServing() != nil && r.chunkServing().holds(id) && id.Index+1 >= r.raftLog.firstIndex() {
		return true
	}
	snap, err := r.raftLog.storage.Snapshot()
	if err != nil || snap.Metadata.Index != id.Index || snap.Metadata.Term != id.Term {
		return false
	}
	if r.cold == nil || r.cold.serving == nil {
		r.coldState().serving = newChunkSource(r.settings.chunks) // allocated when it first serves
	}
	r.chunkServing().found(snap.Metadata)
	return true
}

// ResumeSnapshotFetch hands back the chunks of a snapshot this node's
// snapshot worker saved before the node restarted. The next offer of that
// snapshot in the same chunk size starts its transfer with them saved,
// and only the others are fetched; an offer of another snapshot forgets
// them. Call it after creating the node, before stepping messages. It
// returns an error wrapping ErrInvalidSavedChunks, and changes nothing,
// when the chunked transfer is off or saved names no snapshot, no chunk
// size or an impossible chunk.
func (r *Raft) ResumeSnapshotFetch(saved SavedChunks) error {
	if r.chunkFetch() == nil {
		return fmt.Errorf("%w: the chunked snapshot transfer is off (Config.SnapshotChunkSize)", ErrInvalidSavedChunks)
	}
	if err := saved.validate(); err != nil {
		return err
	}
	r.chunkFetch().resumeWith(saved)
	return nil
}
