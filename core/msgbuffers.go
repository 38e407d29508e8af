package core

import "github.com/tickraft/raft/raftpb"

// maxMsgsCapHint bounds the capacity reserved for the next Ready's
// messages, and the arrays kept for reuse.
const maxMsgsCapHint = 256

// busyReadys is the number of Readys handing out messages within one tick
// from which a node counts as busy and keeps its message arrays.
const busyReadys = 2

// msgBuffers recycles the arrays of the message slices a Ready hands out
// in the synchronous loop: the next Ready takes them back as spares, for
// the messages after it, so that two arrays per slice serve a busy node
// and it allocates none per Ready. It also holds the acknowledgements a
// node addresses to itself, which Advance steps.
//
// Only a busy node keeps arrays: one that hands out messages in at least
// busyReadys Readys between two ticks. An idle node, whose Readys carry a
// heartbeat or two per tick, allocates its few messages per Ready and
// keeps nothing (nil buffers): a process with thousands of idle groups
// would otherwise hold two arrays in every node. The first tick a node
// spends idle releases the buffers. The methods accept a nil receiver.
type msgBuffers struct {
	handedMsgs, handedAfter []raftpb.Message
	spareMsgs, spareAfter   []raftpb.Message
	self                    []raftpb.Message
	// capHint sizes new arrays after the last Ready's messages.
	capHint int
}

// onTick returns the buffers to keep for the next tick and restarts the
// count of Readys. A node that was idle during the last one releases its
// arrays, but not the acknowledgements to itself that a Ready handed out
// and Advance has yet to step (its own vote among them).
func (b *msgBuffers) onTick(readys *uint8) *msgBuffers {
	busy := *readys >= busyReadys
	*readys = 0
	switch {
	case busy || b == nil:
		return b
	case len(b.self) == 0:
		return nil
	}
	b.handedMsgs, b.handedAfter, b.spareMsgs, b.spareAfter = nil, nil, nil, nil
	return b
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

// handOut records the message slices a Ready hands out and counts the
// Ready in *readys. A busy node takes back as spares, cleared so that
// they hold no payloads, the arrays the previous Ready handed out, and
// records these ones for the next Ready; an idle node records nothing, so
// that no reference keeps them alive. It returns the buffers to keep.
func (b *msgBuffers) handOut(msgs, after []raftpb.Message, readys *uint8) *msgBuffers {
	if len(msgs) == 0 && len(after) == 0 {
		return b
	}
	*readys = min(*readys+1, busyReadys)
	if b == nil {
		if *readys < busyReadys {
			return nil // idle so far: keep nothing
		}
		b = &msgBuffers{}
	}
	b.recycle(&b.handedMsgs, &b.spareMsgs)
	b.recycle(&b.handedAfter, &b.spareAfter)
	b.handedMsgs, b.handedAfter = keepable(msgs), keepable(after)
	b.capHint = min(max(len(msgs), len(after)), maxMsgsCapHint)
	return b
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

// addSelf queues an acknowledgement the node addresses to itself, for
// Advance to step, and returns the buffers holding it.
func (b *msgBuffers) addSelf(m raftpb.Message) *msgBuffers {
	if b == nil {
		b = &msgBuffers{}
	}
	b.self = append(b.self, m)
	return b
}

// takeSelf returns the acknowledgements this node addressed to itself,
// for Advance to step.
func (b *msgBuffers) takeSelf() []raftpb.Message {
	if b == nil {
		return nil
	}
	self := b.self
	b.self = nil
	return self
}

// keepSelf takes back the array takeSelf returned, once its messages are
// stepped, cleared, for the next acknowledgements.
func (b *msgBuffers) keepSelf(self []raftpb.Message) {
	if b == nil || b.self != nil || cap(self) == 0 || cap(self) > maxMsgsCapHint {
		return
	}
	clear(self)
	b.self = self[:0]
}
