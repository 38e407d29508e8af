package core

import (
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// LocalSnapshotThread is the ID of the application's snapshot worker in
// the chunked snapshot transfer (Config.SnapshotChunkSize). Messages
// addressed to it never leave the node:
//
//   - MsgSnapChunkReq asks the worker for chunk Commit (bytes
//     [Commit*RejectHint, (Commit+1)*RejectHint) of the data of the
//     snapshot at LogTerm/Index). The worker sets the chunk's bytes as the
//     Context of the MsgSnapChunk in Responses (or, if it no longer holds
//     that snapshot, Reject with RejectHint ChunkNotHeld; see
//     ServeSnapshotChunk) and sends it to its recipient.
//   - MsgSnapChunk hands the worker a received chunk to persist. Once it
//     is durable the worker delivers the MsgSnapChunkSaved in Responses
//     through Step.
//
// When every chunk of a snapshot is saved the node installs it: Ready's
// Snapshot (or, in the asynchronous mode, the MsgStorageAppend and
// MsgStorageApply) carries its metadata and no data; the data is the
// concatenation, in chunk order, of the chunks saved for that index and
// term. Chunks of other snapshots may then be discarded.
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

// ServeSnapshotChunk completes a snapshot worker's MsgSnapChunkReq: it
// returns the MsgSnapChunk to send, carrying data, or a refusal
// (ChunkNotHeld) when held is false. The message aliases data.
func ServeSnapshotChunk(req raftpb.Message, data []byte, held bool) raftpb.Message {
	if req.Type != raftpb.MsgSnapChunkReq || len(req.Responses) != 1 {
		panic("invariant: ServeSnapshotChunk takes a node's MsgSnapChunkReq to its snapshot worker")
	}
	m := req.Responses[0]
	if !held {
		return refuseChunk(m, raftpb.ChunkNotHeld)
	}
	m.Context = data
	return m
}

// ServeSnapshotChunkFrom completes a snapshot worker's MsgSnapChunkReq
// from a snapshot held in memory (MemoryStorage.Snapshot, for one): the
// requested byte range of snap.Data, or a refusal (ChunkNotHeld) when snap
// is not the snapshot asked for.
func ServeSnapshotChunkFrom(req raftpb.Message, snap raftpb.Snapshot) raftpb.Message {
	if snap.Metadata.Index != req.Index || snap.Metadata.Term != req.LogTerm {
		return ServeSnapshotChunk(req, nil, false)
	}
	n := uint64(len(snap.Data))
	from := min(req.Commit*req.RejectHint, n)
	return ServeSnapshotChunk(req, snap.Data[from:min(from+req.RejectHint, n)], true)
}

// offerSnapshot starts a chunked snapshot transfer to a follower: it tells
// the follower the snapshot's metadata, chunk count and sources, and the
// follower fetches the chunks itself. It reports whether it offered.
func (r *Raft) offerSnapshot(to uint64, pr *tracker.Progress, snap raftpb.Snapshot) bool {
	m, ok := r.snapshotOffer(to, snap)
	if !ok {
		return false
	}
	pr.BecomeSnapshot(snap.Metadata.Index)
	r.send(m)
	return true
}

// reofferSnapshot repeats the offer to a follower still waiting for a
// snapshot, with the leader's latest snapshot and its current sources: an
// offer may have been lost, the receiver may have run out of sources, and
// a newer snapshot supersedes the transfer of an older one.
func (r *Raft) reofferSnapshot(to uint64, pr *tracker.Progress) {
	snap, err := r.raftLog.snapshot()
	if err != nil || snap.IsEmpty() {
		return
	}
	m, ok := r.snapshotOffer(to, snap)
	if !ok {
		return
	}
	if snap.Metadata.Index > pr.PendingSnapshot {
		pr.BecomeSnapshot(snap.Metadata.Index)
	}
	r.send(m)
}

// snapshotOffer builds the MsgSnapOffer of snap for a follower.
func (r *Raft) snapshotOffer(to uint64, snap raftpb.Snapshot) (raftpb.Message, bool) {
	size := r.chunks.size
	count := max(1, (uint64(len(snap.Data))+size-1)/size)
	if count > MaxSnapshotChunks {
		r.log(LevelError, "cannot offer a snapshot in more than MaxSnapshotChunks chunks: raise SnapshotChunkSize",
			Attr{"bytes", uint64(len(snap.Data))}, Attr{"chunks", count})
		return raftpb.Message{}, false
	}
	return raftpb.Message{
		To: to, Type: raftpb.MsgSnapOffer,
		Snapshot: &raftpb.Snapshot{Metadata: snap.Metadata},
		Index:    count, RejectHint: size,
		Context: raftpb.EncodeSources(r.snapshotSources(to, snap.Metadata.Index)),
	}, true
}

// snapshotSources lists who can serve the snapshot at index: the leader,
// then, when every member snapshots at the same indexes
// (Config.SnapshotInterval) and index is one of them, the recently active
// followers whose log reaches it, in ID order. A follower that turns out
// not to hold it refuses, and the receiver drops it.
func (r *Raft) snapshotSources(to, index uint64) []uint64 {
	ids := []uint64{r.id}
	if r.chunks.interval == 0 || index%r.chunks.interval != 0 {
		return ids
	}
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		if id != r.id && id != to && pr.RecentActive && pr.Match >= index && len(ids) < raftpb.MaxSnapshotSources {
			ids = append(ids, id)
		}
	})
	return ids
}
