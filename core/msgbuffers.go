package core

import "github.com/tickraft/raft/raftpb"

// maxMsgsCapHint bounds the capacity reserved for the next Ready's
// messages, and the arrays kept for reuse.
const maxMsgsCapHint = 256

// msgBuffers is a cache of message arrays: it recycles the arrays of the
// message slices a Ready hands out in the synchronous loop. The next Ready
// takes them back as spares, for the messages after it, so that two arrays
// per slice serve a busy node and it allocates none per Ready. It holds no
// protocol state: dropping it at any moment changes what a node allocates,
// never what it does. The outbox (outbox.go) decides when a node keeps
// one. The methods accept a nil receiver.
type msgBuffers struct {
	handedMsgs, handedAfter []raftpb.Message
	spareMsgs, spareAfter   []raftpb.Message
	// capHint sizes new arrays after the last Ready's messages.
	capHint int
}

// nextMsgs returns an empty slice for the next messages that may leave at
// once: the spare array, if one is kept, or a new one for at least n.
func (b *msgBuffers) nextMsgs(n int) []raftpb.Message {
	if b == nil {
		return make([]raftpb.Message, 0, n)
	}
	return b.next(&b.spareMsgs, n)
}

// nextAfter returns an empty slice for the next messages that leave after
// the write: the spare array, if one is kept, or a new one for at least n.
func (b *msgBuffers) nextAfter(n int) []raftpb.Message {
	if b == nil {
		return make([]raftpb.Message, 0, n)
	}
	return b.next(&b.spareAfter, n)
}

// next takes the spare array, or makes one for at least n messages, or
// as many as the last Ready's.
func (b *msgBuffers) next(spare *[]raftpb.Message, n int) []raftpb.Message {
	if s := *spare; cap(s) > 0 {
		*spare = nil
		return s[:0]
	}
	return make([]raftpb.Message, 0, max(b.capHint, n))
}

// handOut records the message slices a Ready hands out: it takes back as
// spares, cleared so that they hold no payloads, the arrays the previous
// Ready handed out, and records these ones for the next Ready.
func (b *msgBuffers) handOut(msgs, after []raftpb.Message) {
	b.recycle(&b.handedMsgs, &b.spareMsgs)
	b.recycle(&b.handedAfter, &b.spareAfter)
	b.handedMsgs, b.handedAfter = keepable(msgs), keepable(after)
	b.capHint = min(max(len(msgs), len(after)), maxMsgsCapHint)
}

// recycle makes the array in *handed, cleared, the spare.
func (b *msgBuffers) recycle(handed, spare *[]raftpb.Message) {
	if h := *handed; cap(h) > 0 {
		clear(h)
		*spare = h[:0]
	}
	*handed = nil
}

// keepable returns msgs if its array is worth keeping, else nil: arrays
// past maxMsgsCapHint are left to the collector.
func keepable(msgs []raftpb.Message) []raftpb.Message {
	if cap(msgs) > maxMsgsCapHint {
		return nil
	}
	return msgs
}
