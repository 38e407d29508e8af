package raftpb

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// ChunkRefusal is the reason a source gives, in a rejecting MsgSnapChunk's
// RejectHint, for not serving a chunk.
type ChunkRefusal uint64

const (
	// ChunkNotHeld: the source does not hold the snapshot (it never took
	// it, or has replaced it). Asking it again is pointless.
	ChunkNotHeld ChunkRefusal = 0
	// ChunkBusy: the source serves as many receivers as it may; asking
	// later may succeed.
	ChunkBusy ChunkRefusal = 1
)

// MaxSnapshotSources bounds the sources one MsgSnapOffer may list.
const MaxSnapshotSources = 16

// errBadSources is returned by DecodeSources for a malformed list.
var errBadSources = errors.New("raftpb: malformed snapshot source list")

// EncodeSources returns the Context of a MsgSnapOffer listing ids, as
// consecutive uvarints.
func EncodeSources(ids []uint64) []byte {
	b := make([]byte, 0, len(ids)*2)
	for _, id := range ids {
		b = binary.AppendUvarint(b, id)
	}
	return b
}

// DecodeSources returns the IDs a MsgSnapOffer's Context lists. It refuses
// a truncated varint, a zero ID, a repeated ID, and more than
// MaxSnapshotSources IDs.
func DecodeSources(ctx []byte) ([]uint64, error) {
	var ids []uint64
	for len(ctx) > 0 {
		id, n := binary.Uvarint(ctx)
		if n <= 0 || id == 0 || len(ids) == MaxSnapshotSources {
			return nil, errBadSources
		}
		for _, seen := range ids {
			if seen == id {
				return nil, errBadSources
			}
		}
		ids = append(ids, id)
		ctx = ctx[n:]
	}
	return ids, nil
}

// isChunkType reports whether t is a message of the chunked snapshot
// transfer, which prints in its own form.
func isChunkType(t MessageType) bool {
	return t >= MsgSnapOffer && t <= MsgSnapChunkSaved
}

// appendChunkMessage writes the text form of a chunked snapshot message:
//
//	1->4 MsgSnapOffer Term:2 Snapshot:2/100 (Voters:[1 2 3]) Chunks:8x4096 Sources:[1 2 3]
//	4->2 MsgSnapChunkReq Snapshot:2/100 Chunk:3 Size:4096
//	2->4 MsgSnapChunk Snapshot:2/100 Chunk:3 Data:"..."
//	2->4 MsgSnapChunk Snapshot:2/100 Chunk:3 Rejected (busy)
//	snapshot-thread->4 MsgSnapChunkSaved Snapshot:2/100 Chunk:3
func appendChunkMessage(b *strings.Builder, m *Message) {
	appendHeader(b, m)
	if m.Type == MsgSnapOffer {
		appendOffer(b, m)
		return
	}
	if m.Term != 0 {
		appendUint(b, " Term:", m.Term)
	}
	b.WriteString(" Snapshot:")
	appendTermIndex(b, m.LogTerm, m.Index)
	appendUint(b, " Chunk:", m.Commit)
	switch {
	case m.Type == MsgSnapChunkReq:
		appendUint(b, " Size:", m.RejectHint)
	case m.Reject && ChunkRefusal(m.RejectHint) == ChunkBusy:
		b.WriteString(" Rejected (busy)")
	case m.Reject:
		b.WriteString(" Rejected (not held)")
	case m.Type == MsgSnapChunk && m.Context != nil:
		b.WriteString(" Data:")
		appendData(b, m.Context)
	}
	appendResponses(b, m)
}

func appendOffer(b *strings.Builder, m *Message) {
	appendUint(b, " Term:", m.Term)
	if s := m.Snapshot; s != nil {
		b.WriteString(" Snapshot:")
		appendTermIndex(b, s.Metadata.Term, s.Metadata.Index)
		b.WriteString(" (")
		b.WriteString(s.Metadata.ConfState.String())
		b.WriteByte(')')
	}
	appendUint(b, " Chunks:", m.Index)
	b.WriteByte('x')
	b.WriteString(strconv.FormatUint(m.RejectHint, 10))
	if ids, err := DecodeSources(m.Context); err == nil {
		appendIDs(b, " Sources", ids)
	} else {
		b.WriteString(" Sources:")
		appendData(b, m.Context)
	}
}
