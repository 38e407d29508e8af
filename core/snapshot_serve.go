package core

import (
	"github.com/tickraft/raft/raftpb"
)

// servedReceiver is a receiver a source is serving chunks to, and the
// tick of its latest request.
type servedReceiver struct {
	id   uint64
	last uint64
}

// servedReceivers are the receivers a source serves chunks to; a node
// allocates them when it first serves one.
type servedReceivers struct {
	receivers []servedReceiver
}

// refuseChunk turns a MsgSnapChunk into a refusal for the reason why.
func refuseChunk(m raftpb.Message, why raftpb.ChunkRefusal) raftpb.Message {
	m.Reject, m.RejectHint = true, uint64(why)
	return m
}

// serveChunkRequest is a source's side of the chunked transfer: if it
// holds the snapshot asked for and may take the receiver on, it asks its
// snapshot worker for the chunk, which the worker sends to the receiver;
// otherwise it refuses at once, so the receiver asks elsewhere. Any member
// may serve: a snapshot is committed state, the same whoever holds it.
func (r *Raft) serveChunkRequest(m raftpb.Message) {
	reply := raftpb.Message{
		Type: raftpb.MsgSnapChunk, To: m.From, From: r.id,
		Index: m.Index, LogTerm: m.LogTerm, Commit: m.Commit,
	}
	switch {
	case !r.holdsSnapshot(m.Index, m.LogTerm):
		r.send(refuseChunk(reply, raftpb.ChunkNotHeld))
		return
	case !r.admitReceiver(m.From):
		r.send(refuseChunk(reply, raftpb.ChunkBusy))
		return
	}
	r.send(raftpb.Message{
		Type: raftpb.MsgSnapChunkReq, To: LocalSnapshotThread,
		Index: m.Index, LogTerm: m.LogTerm, Commit: m.Commit, RejectHint: m.RejectHint,
		Responses: []raftpb.Message{reply},
	})
}

// holdsSnapshot reports whether the node's storage holds the snapshot at
// term/index and the node takes part in chunked transfers (its
// application has a snapshot worker).
func (r *Raft) holdsSnapshot(index, term uint64) bool {
	if r.chunks.size == 0 {
		return false
	}
	snap, err := r.raftLog.storage.Snapshot()
	return err == nil && snap.Metadata.Index == index && snap.Metadata.Term == term
}

// admitReceiver bounds the receivers this source serves at once: a
// receiver already served, or a free place (one quiet for a chunk timeout
// frees its place), admits; otherwise the source is busy.
func (r *Raft) admitReceiver(id uint64) bool {
	if r.serving == nil {
		r.serving = &servedReceivers{}
	}
	s := r.serving
	kept := s.receivers[:0]
	for _, rc := range s.receivers {
		if r.ticks-rc.last < r.chunks.timeout {
			kept = append(kept, rc)
		}
	}
	s.receivers = kept
	for i := range s.receivers {
		if s.receivers[i].id == id {
			s.receivers[i].last = r.ticks
			return true
		}
	}
	if len(s.receivers) >= r.chunks.maxReceivers {
		return false
	}
	s.receivers = append(s.receivers, servedReceiver{id: id, last: r.ticks})
	return true
}
