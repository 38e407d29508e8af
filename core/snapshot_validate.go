package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// validateSnapshotOffer refuses an offer whose snapshot, chunking or
// sources cannot be right.
func validateSnapshotOffer(trk tracker.ProgressTracker, m raftpb.Message) error {
	if err := validateSnapshot(trk, m); err != nil {
		return err
	}
	sources, err := raftpb.DecodeSources(m.Context)
	switch {
	case len(m.Snapshot.Data) > 0:
		return fmt.Errorf("%w: MsgSnapOffer carries %d bytes of data", ErrInvalidMessage, len(m.Snapshot.Data))
	case m.Index == 0 || m.Index > MaxSnapshotChunks:
		return fmt.Errorf("%w: MsgSnapOffer of %d chunks, want 1 to %d", ErrInvalidMessage, m.Index, MaxSnapshotChunks)
	case m.RejectHint == 0 || m.RejectHint > MaxSnapshotChunkSize:
		return fmt.Errorf("%w: MsgSnapOffer with chunk size %d", ErrInvalidMessage, m.RejectHint)
	case err != nil:
		return fmt.Errorf("%w: MsgSnapOffer: %w", ErrInvalidMessage, err)
	case len(sources) == 0:
		return fmt.Errorf("%w: MsgSnapOffer names no source", ErrInvalidMessage)
	}
	return nil
}

// validateChunkMessage refuses a chunk request or chunk that names no
// snapshot, a chunk number no snapshot has, or an impossible size.
func validateChunkMessage(m raftpb.Message) error {
	switch {
	case m.Index == 0 || m.LogTerm == 0:
		return fmt.Errorf("%w: %s for snapshot %d/%d", ErrInvalidMessage, m.Type, m.LogTerm, m.Index)
	case m.Commit >= MaxSnapshotChunks:
		return fmt.Errorf("%w: %s for chunk %d", ErrInvalidMessage, m.Type, m.Commit)
	case len(m.Entries) > 0 || m.Snapshot != nil:
		return fmt.Errorf("%w: %s carries entries or a snapshot", ErrInvalidMessage, m.Type)
	case m.Type == raftpb.MsgSnapChunkReq && (m.RejectHint == 0 || m.RejectHint > MaxSnapshotChunkSize):
		return fmt.Errorf("%w: MsgSnapChunkReq with chunk size %d", ErrInvalidMessage, m.RejectHint)
	case m.Type == raftpb.MsgSnapChunk && uint64(len(m.Context)) > MaxSnapshotChunkSize:
		return fmt.Errorf("%w: MsgSnapChunk of %d bytes", ErrInvalidMessage, len(m.Context))
	}
	return nil
}

// validateChunkSaved accepts a MsgSnapChunkSaved only from this node's
// snapshot worker.
func (r *Raft) validateChunkSaved(m raftpb.Message) error {
	if m.From != LocalSnapshotThread || m.To != r.id {
		return fmt.Errorf("%w: MsgSnapChunkSaved from %d to %d", ErrStepLocalMsg, m.From, m.To)
	}
	if len(m.Responses) > 0 || len(m.Entries) > 0 || m.Snapshot != nil {
		return fmt.Errorf("%w: MsgSnapChunkSaved carries a payload", ErrInvalidMessage)
	}
	return nil
}
