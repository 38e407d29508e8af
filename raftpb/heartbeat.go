package raftpb

import "encoding/binary"

// HeartbeatContext is what tickraft's leaders carry in the Context of
// their heartbeats, and followers echo back: the leader's current read
// round and its tick when it sent the heartbeat. The answers confirm
// pending linearizable reads and renew the leader's lease. It is encoded
// as 16 bytes: Round then Tick, big-endian.
type HeartbeatContext struct {
	Round uint64
	Tick  uint64
}

// HeartbeatContextSize is the encoded size of a HeartbeatContext.
const HeartbeatContextSize = 16

// Encode returns the context's 16-byte encoding.
func (c HeartbeatContext) Encode() []byte {
	b := make([]byte, HeartbeatContextSize)
	binary.BigEndian.PutUint64(b, c.Round)
	binary.BigEndian.PutUint64(b[8:], c.Tick)
	return b
}

// AppendTo appends the context's 16-byte encoding to b and returns the
// extended slice, so that a caller may encode several contexts into one
// array.
func (c HeartbeatContext) AppendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, c.Round)
	return binary.BigEndian.AppendUint64(b, c.Tick)
}

// DecodeHeartbeatContext reads a heartbeat's context; ok is false for a
// context that is not a HeartbeatContext (another library's, or none).
func DecodeHeartbeatContext(b []byte) (c HeartbeatContext, ok bool) {
	if len(b) != HeartbeatContextSize {
		return HeartbeatContext{}, false
	}
	return HeartbeatContext{Round: binary.BigEndian.Uint64(b), Tick: binary.BigEndian.Uint64(b[8:])}, true
}
