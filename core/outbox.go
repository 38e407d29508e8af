package core

import "github.com/tickraft/raft/raftpb"

// maxMsgsCapHint bounds the capacity of the message arrays a node keeps
// for reuse: larger ones are left to the collector.
const maxMsgsCapHint = 256

// outbox holds the messages a node has queued for the next Ready, in two
// queues: those that may leave at once, and those that leave only once
// everything the node has emitted to storage so far is durable (votes and
// acknowledgements, thesis §10.2.1). Only this file assigns its fields.
//
// It reuses the arrays of the queues: a Ready of the synchronous loop
// hands them out, Advance (which says their messages were sent) takes
// them back cleared, and the next messages queued fill them again, so
// that the loop allocates no message array per Ready, busy or idle. A
// node keeps one array per queue it has used, sized by the most it queued
// at once: a follower answering heartbeats keeps room for one message.
// In the asynchronous mode no Advance says when the workers are done, so
// the arrays handed out are never reused.
type outbox struct {
	msgs        []raftpb.Message
	afterAppend []raftpb.Message
	// handedMsgs and handedAfter are what the last Ready handed out, for
	// Advance to take back; spareMsgs and spareAfter the empty arrays the
	// next messages fill.
	handedMsgs, handedAfter []raftpb.Message
	spareMsgs, spareAfter   []raftpb.Message
}

// queue adds m to the messages that leave at once, or, with afterAppend,
// to those that wait for durability. fanOut is how many messages the
// node is likely to queue at once, for a new array's size.
func (o *outbox) queue(m raftpb.Message, afterAppend bool, fanOut int) {
	if afterAppend {
		if o.afterAppend == nil {
			o.afterAppend = takeSpare(&o.spareAfter, 1)
		}
		o.afterAppend = append(o.afterAppend, m)
		return
	}
	if o.msgs == nil {
		o.msgs = takeSpare(&o.spareMsgs, fanOut)
	}
	o.msgs = append(o.msgs, m)
}

// takeSpare returns the spare array, emptied, or a new one for n
// messages.
func takeSpare(spare *[]raftpb.Message, n int) []raftpb.Message {
	if s := *spare; cap(s) > 0 {
		*spare = nil
		return s[:0]
	}
	return make([]raftpb.Message, 0, n)
}

// pending reports whether any message is queued.
func (o *outbox) pending() bool { return len(o.msgs) > 0 || len(o.afterAppend) > 0 }

// takeMsgs returns the messages that may leave at once and empties that
// queue.
func (o *outbox) takeMsgs() []raftpb.Message {
	msgs := o.msgs
	o.msgs = nil
	return msgs
}

// takeAfterAppend returns the messages that wait for durability and
// empties that queue.
func (o *outbox) takeAfterAppend() []raftpb.Message {
	msgs := o.afterAppend
	o.afterAppend = nil
	return msgs
}

// dropAcksFrom withdraws the queued append acknowledgements that claim
// entries from index on (see Raft.dropAcksFrom).
func (o *outbox) dropAcksFrom(index uint64) {
	kept := o.afterAppend[:0]
	for _, m := range o.afterAppend {
		if m.Type == raftpb.MsgAppResp && !m.Reject && m.Index >= index {
			continue
		}
		kept = append(kept, m)
	}
	clear(o.afterAppend[len(kept):])
	o.afterAppend = kept
}

// handedOut records the message slices a Ready of the synchronous loop
// hands out, for Advance to take back. An empty one's array is spare at
// once. The arrays of a Ready handed out before, with no Advance since,
// are left to the collector.
func (o *outbox) handedOut(msgs, after []raftpb.Message) {
	o.handedMsgs, o.handedAfter = nil, nil
	if len(msgs) > 0 {
		o.handedMsgs = msgs
	} else {
		keepSpare(&o.spareMsgs, msgs)
	}
	if len(after) > 0 {
		o.handedAfter = after
	} else {
		keepSpare(&o.spareAfter, after)
	}
}

// release takes back the arrays the last Ready handed out, cleared so
// that they hold no payload: Advance says their messages were sent.
func (o *outbox) release() {
	keepSpare(&o.spareMsgs, o.handedMsgs)
	keepSpare(&o.spareAfter, o.handedAfter)
	o.handedMsgs, o.handedAfter = nil, nil
}

// keepSpare makes used's array, cleared, the spare, unless it is
// oversized or a spare is kept already.
func keepSpare(spare *[]raftpb.Message, used []raftpb.Message) {
	if cap(used) == 0 || cap(used) > maxMsgsCapHint || *spare != nil {
		return
	}
	clear(used)
	*spare = used[:0]
}
