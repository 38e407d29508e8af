package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// Validation of the chunked transfer's messages, through raftpb's typed
// views: a message that does not parse, or whose snapshot, chunk count,
// chunk size or sources cannot be right, is refused with a typed error
// and changes nothing.

// isChunkPeerMessage reports whether t is a message of the chunked
// transfer a peer sends.
func isChunkPeerMessage(t raftpb.MessageType) bool {
	return t == raftpb.MsgSnapOffer || t == raftpb.MsgSnapChunkReq || t == raftpb.MsgSnapChunk
}

// validateChunkTransfer refuses a chunked transfer's message from a peer
// that cannot be right.
func validateChunkTransfer(trk tracker.ProgressTracker, m raftpb.Message) error {
	if m.Type == raftpb.MsgSnapOffer {
		return validateSnapshotOffer(trk, m)
	}
	return validateChunkMessage(m)
}

// validateSnapshotOffer refuses an offer whose snapshot, chunking or
// sources cannot be right.
func validateSnapshotOffer(trk tracker.ProgressTracker, m raftpb.Message) error {
	if err := validateSnapshot(trk, m); err != nil {
		return err
	}
	o, err := raftpb.ParseSnapshotOffer(m)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	case o.Chunks == 0 || o.Chunks > MaxSnapshotChunks:
		return fmt.Errorf("%w: MsgSnapOffer of %d chunks, want 1 to %d", ErrInvalidMessage, o.Chunks, MaxSnapshotChunks)
	case o.Size == 0 || o.Size > MaxSnapshotChunkSize:
		return fmt.Errorf("%w: MsgSnapOffer with chunk size %d", ErrInvalidMessage, o.Size)
	case len(o.Sources) == 0:
		return fmt.Errorf("%w: MsgSnapOffer names no source", ErrInvalidMessage)
	}
	return nil
}

// validateChunkMessage refuses a chunk request or chunk that does not
// parse, names no snapshot, a chunk number no snapshot has, or an
// impossible size.
func validateChunkMessage(m raftpb.Message) error {
	var id raftpb.ChunkID
	switch m.Type {
	case raftpb.MsgSnapChunkReq:
		q, err := raftpb.ParseChunkRequest(m)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
		}
		if q.Size == 0 || q.Size > MaxSnapshotChunkSize {
			return fmt.Errorf("%w: MsgSnapChunkReq with chunk size %d", ErrInvalidMessage, q.Size)
		}
		id = q.ID
	default:
		c, err := raftpb.ParseChunk(m)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
		}
		if uint64(len(c.Data)) > MaxSnapshotChunkSize {
			return fmt.Errorf("%w: MsgSnapChunk of %d bytes", ErrInvalidMessage, len(c.Data))
		}
		id = c.ID
	}
	return validateChunkID(m.Type, id)
}

// validateChunkID refuses a chunk of no snapshot, or one no snapshot has.
func validateChunkID(t raftpb.MessageType, id raftpb.ChunkID) error {
	switch {
	case id.Index == 0 || id.Term == 0:
		return fmt.Errorf("%w: %s for snapshot %d/%d", ErrInvalidMessage, t, id.Term, id.Index)
	case id.Chunk >= MaxSnapshotChunks:
		return fmt.Errorf("%w: %s for chunk %d", ErrInvalidMessage, t, id.Chunk)
	}
	return nil
}

// validateChunkSaved accepts a MsgSnapChunkSaved only from this node's
// snapshot worker.
func (r *Raft) validateChunkSaved(m raftpb.Message) error {
	if m.From != LocalSnapshotThread || m.To != r.id {
		return fmt.Errorf("%w: MsgSnapChunkSaved from %d to %d", ErrStepLocalMsg, m.From, m.To)
	}
	if len(m.Responses) > 0 {
		return fmt.Errorf("%w: MsgSnapChunkSaved carries a payload", ErrInvalidMessage)
	}
	if _, err := raftpb.ParseChunkSaved(m); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	return nil
}
