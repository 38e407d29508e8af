package raftpb

import (
	"errors"
	"fmt"
)

// The chunked snapshot transfer's four message types reuse fields of
// Message with meanings of their own, so that their wire form needs no
// field etcd's raft.proto lacks:
//
//	MsgSnapOffer       Snapshot (metadata only), Index: chunk count,
//	                   RejectHint: chunk size, Context: the sources
//	MsgSnapChunkReq    Index/LogTerm: the snapshot, Commit: the chunk,
//	                   RejectHint: the chunk size
//	MsgSnapChunk       Index/LogTerm/Commit as above, Context: the bytes;
//	                   or Reject with the ChunkRefusal in RejectHint
//	MsgSnapChunkSaved  Index/LogTerm/Commit as above
//
// Code outside this package reads and writes them only through the typed
// views below: a constructor (the view's Message method) and a parser
// (ParseSnapshotOffer, ParseChunkRequest, ParseChunk, ParseChunkSaved)
// that refuses a message of another type or with a field no correct
// sender sets. So no code reads Commit as a chunk number by accident, or
// a chunk number as a commit index.

// ErrMalformedChunkMessage is wrapped by every refusal of a chunk
// message's parser.
var ErrMalformedChunkMessage = errors.New("raftpb: malformed chunked snapshot message")

// ChunkID names one chunk of one snapshot: the snapshot's index and term,
// and the chunk's number, counted from 0.
type ChunkID struct {
	Index, Term uint64
	Chunk       uint64
}

// SnapshotOffer is a leader's MsgSnapOffer: the follower is to fetch the
// snapshot described by Snapshot in Chunks chunks of Size bytes (the last
// one possibly shorter) from Sources.
type SnapshotOffer struct {
	To       uint64
	Snapshot SnapshotMetadata
	Chunks   uint64
	Size     uint64
	Sources  []uint64
}

// Message returns the offer as a MsgSnapOffer. The node sending it sets
// From and Term.
func (o SnapshotOffer) Message() Message {
	return Message{
		Type: MsgSnapOffer, To: o.To, Snapshot: &Snapshot{Metadata: o.Snapshot},
		Index: o.Chunks, RejectHint: o.Size, Context: EncodeSources(o.Sources),
	}
}

// ParseSnapshotOffer returns the offer m carries. It refuses a message of
// another type, one without a snapshot or with snapshot data, and a source
// list that does not decode (see DecodeSources).
func ParseSnapshotOffer(m Message) (SnapshotOffer, error) {
	if m.Type != MsgSnapOffer {
		return SnapshotOffer{}, fmt.Errorf("%w: %s is not a MsgSnapOffer", ErrMalformedChunkMessage, m.Type)
	}
	if m.Snapshot == nil || len(m.Snapshot.Data) > 0 {
		return SnapshotOffer{}, fmt.Errorf("%w: MsgSnapOffer without snapshot metadata, or with data", ErrMalformedChunkMessage)
	}
	sources, err := DecodeSources(m.Context)
	if err != nil {
		return SnapshotOffer{}, fmt.Errorf("%w: MsgSnapOffer: %w", ErrMalformedChunkMessage, err)
	}
	return SnapshotOffer{To: m.To, Snapshot: m.Snapshot.Metadata, Chunks: m.Index, Size: m.RejectHint, Sources: sources}, nil
}

// ChunkRequest is a MsgSnapChunkReq: a receiver asks a source (or a
// source its snapshot worker) for chunk ID.Chunk, bytes
// [Chunk*Size, (Chunk+1)*Size) of the snapshot's data.
type ChunkRequest struct {
	To, From uint64
	ID       ChunkID
	Size     uint64
}

// Message returns the request as a MsgSnapChunkReq. It carries no term.
func (q ChunkRequest) Message() Message {
	return Message{
		Type: MsgSnapChunkReq, To: q.To, From: q.From,
		Index: q.ID.Index, LogTerm: q.ID.Term, Commit: q.ID.Chunk, RejectHint: q.Size,
	}
}

// ParseChunkRequest returns the request m carries. It refuses a message
// of another type, and one carrying entries, a snapshot or data.
func ParseChunkRequest(m Message) (ChunkRequest, error) {
	if err := checkChunkShape(m, MsgSnapChunkReq); err != nil {
		return ChunkRequest{}, err
	}
	if m.Context != nil || m.Reject {
		return ChunkRequest{}, fmt.Errorf("%w: MsgSnapChunkReq with data or a refusal", ErrMalformedChunkMessage)
	}
	return ChunkRequest{To: m.To, From: m.From, ID: chunkID(m), Size: m.RejectHint}, nil
}

// Chunk is a MsgSnapChunk: a source's answer to a ChunkRequest, the
// chunk's bytes in Data, or a refusal (Refused, with the reason Why); or,
// addressed to a snapshot worker, a received chunk to persist.
type Chunk struct {
	To, From uint64
	ID       ChunkID
	Data     []byte
	Refused  bool
	Why      ChunkRefusal
}

// Message returns the chunk as a MsgSnapChunk, aliasing Data. It carries
// no term.
func (c Chunk) Message() Message {
	m := Message{
		Type: MsgSnapChunk, To: c.To, From: c.From,
		Index: c.ID.Index, LogTerm: c.ID.Term, Commit: c.ID.Chunk, Context: c.Data,
	}
	if c.Refused {
		m.Reject, m.RejectHint, m.Context = true, uint64(c.Why), nil
	}
	return m
}

// ParseChunk returns the chunk m carries, aliasing its data. It refuses a
// message of another type, one carrying entries or a snapshot, and a
// refusal that carries data.
func ParseChunk(m Message) (Chunk, error) {
	if err := checkChunkShape(m, MsgSnapChunk); err != nil {
		return Chunk{}, err
	}
	if m.Reject && len(m.Context) > 0 {
		return Chunk{}, fmt.Errorf("%w: a refused MsgSnapChunk carries data", ErrMalformedChunkMessage)
	}
	c := Chunk{To: m.To, From: m.From, ID: chunkID(m), Data: m.Context, Refused: m.Reject}
	if m.Reject {
		c.Why = ChunkRefusal(m.RejectHint)
	}
	return c, nil
}

// ChunkSaved is a MsgSnapChunkSaved: a snapshot worker's report that a
// received chunk is durable.
type ChunkSaved struct {
	To, From uint64
	ID       ChunkID
}

// Message returns the report as a MsgSnapChunkSaved.
func (s ChunkSaved) Message() Message {
	return Message{Type: MsgSnapChunkSaved, To: s.To, From: s.From, Index: s.ID.Index, LogTerm: s.ID.Term, Commit: s.ID.Chunk}
}

// ParseChunkSaved returns the report m carries. It refuses a message of
// another type, and one carrying entries, a snapshot or data.
func ParseChunkSaved(m Message) (ChunkSaved, error) {
	if err := checkChunkShape(m, MsgSnapChunkSaved); err != nil {
		return ChunkSaved{}, err
	}
	if m.Context != nil || m.Reject {
		return ChunkSaved{}, fmt.Errorf("%w: MsgSnapChunkSaved with data or a refusal", ErrMalformedChunkMessage)
	}
	return ChunkSaved{To: m.To, From: m.From, ID: chunkID(m)}, nil
}

// checkChunkShape refuses a message that is not of type t or that carries
// what no chunk message does: entries or a snapshot.
func checkChunkShape(m Message, t MessageType) error {
	switch {
	case m.Type != t:
		return fmt.Errorf("%w: %s is not a %s", ErrMalformedChunkMessage, m.Type, t)
	case len(m.Entries) > 0 || m.Snapshot != nil:
		return fmt.Errorf("%w: %s carries entries or a snapshot", ErrMalformedChunkMessage, t)
	}
	return nil
}

func chunkID(m Message) ChunkID { return ChunkID{Index: m.Index, Term: m.LogTerm, Chunk: m.Commit} }
