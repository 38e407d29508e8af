package core

import (
	"github.com/tickraft/raft/raftpb"
)

// The chunked snapshot transfer, source's side: a member asked for a
// chunk (MsgSnapChunkReq) serves it, through its snapshot worker, if it
// holds the snapshot and may take the receiver on; otherwise it refuses
// at once, so that the receiver asks elsewhere. Any member may serve: a
// snapshot is committed state, the same whoever holds it.
//
// A source serves at most MaxSnapshotReceivers receivers at once; one
// quiet for SnapshotChunkTimeout ticks frees its place. chunkSource never
// touches the node: whether the node holds the snapshot is its caller's
// answer, and the message to send is its result.

// servedReceiver is a receiver a source is serving chunks to, and the
// tick of its latest request.
type servedReceiver struct {
	id   uint64
	last uint64
}

// chunkSource is the source's state machine: the receivers it serves, and
// the snapshot its node's storage last held (so that serving a chunk does
// not read Storage.Snapshot each time).
type chunkSource struct {
	maxReceivers int
	timeout      uint64
	receivers    []servedReceiver
	held         raftpb.SnapshotMetadata
}

func newChunkSource(bounds chunkSettings) *chunkSource {
	return &chunkSource{maxReceivers: bounds.maxReceivers, timeout: bounds.timeout}
}

// found records that the node's storage holds the snapshot meta.
func (s *chunkSource) found(meta raftpb.SnapshotMetadata) { s.held = meta }

// holds reports whether id names the snapshot last found in the node's
// storage.
func (s *chunkSource) holds(id raftpb.ChunkID) bool {
	return s.held.Index != 0 && s.held.Index == id.Index && s.held.Term == id.Term
}

// serve answers a chunk request q addressed to self: a request to the
// snapshot worker (LocalSnapshotThread) carrying, in Responses, the chunk
// to fill in and send; or a refusal to the receiver, ChunkNotHeld when
// the node does not hold the snapshot (held), ChunkBusy when it serves as
// many receivers as it may. s may be nil when held is false.
func (s *chunkSource) serve(q raftpb.ChunkRequest, held bool, self, now uint64) raftpb.Message {
	reply := raftpb.Chunk{To: q.From, From: self, ID: q.ID}
	switch {
	case !held:
		reply.Refused, reply.Why = true, raftpb.ChunkNotHeld
		return reply.Message()
	case !s.admit(q.From, now):
		reply.Refused, reply.Why = true, raftpb.ChunkBusy
		return reply.Message()
	}
	m := raftpb.ChunkRequest{To: LocalSnapshotThread, ID: q.ID, Size: q.Size}.Message()
	m.Responses = []raftpb.Message{reply.Message()}
	return m
}

// admit bounds the receivers this source serves at once: a receiver
// already served, or a free place (one quiet for a chunk timeout frees
// its place), admits; otherwise the source is busy.
func (s *chunkSource) admit(id, now uint64) bool {
	kept := s.receivers[:0]
	for _, rc := range s.receivers {
		if now-rc.last < s.timeout {
			kept = append(kept, rc)
		}
	}
	s.receivers = kept
	for i := range s.receivers {
		if s.receivers[i].id == id {
			s.receivers[i].last = now
			return true
		}
	}
	if len(s.receivers) >= s.maxReceivers {
		return false
	}
	s.receivers = append(s.receivers, servedReceiver{id: id, last: now})
	return true
}

// ServeSnapshotChunk completes a snapshot worker's MsgSnapChunkReq: it
// returns the MsgSnapChunk to send, carrying data, or a refusal
// (ChunkNotHeld) when held is false. The message aliases data.
func ServeSnapshotChunk(req raftpb.Message, data []byte, held bool) raftpb.Message {
	if req.Type != raftpb.MsgSnapChunkReq || len(req.Responses) != 1 {
		panic("invariant: ServeSnapshotChunk takes a node's MsgSnapChunkReq to its snapshot worker")
	}
	c, err := raftpb.ParseChunk(req.Responses[0])
	if err != nil {
		panic("invariant: ServeSnapshotChunk takes a node's MsgSnapChunkReq to its snapshot worker: " + err.Error())
	}
	if !held {
		c.Refused, c.Why = true, raftpb.ChunkNotHeld
		return c.Message()
	}
	c.Data = data
	return c.Message()
}

// ServeSnapshotChunkFrom completes a snapshot worker's MsgSnapChunkReq
// from a snapshot held in memory (MemoryStorage.Snapshot, for one): the
// requested byte range of snap.Data, or a refusal (ChunkNotHeld) when snap
// is not the snapshot asked for.
func ServeSnapshotChunkFrom(req raftpb.Message, snap raftpb.Snapshot) raftpb.Message {
	q, err := raftpb.ParseChunkRequest(req)
	if err != nil || snap.Metadata.Index != q.ID.Index || snap.Metadata.Term != q.ID.Term {
		return ServeSnapshotChunk(req, nil, false)
	}
	n := uint64(len(snap.Data))
	from := min(q.ID.Chunk*q.Size, n)
	return ServeSnapshotChunk(req, snap.Data[from:min(from+q.Size, n)], true)
}
