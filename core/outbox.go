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
// that the loop allocates no message array per Ready. A node keeps at
// most one array per queue, and only while it uses it: the array of a
// queue unused for an election timeout is dropped, so that an idle
// follower keeps room for its one heartbeat answer and nothing for the
// votes and acknowledgements of its election. A node given a GroupCache
// keeps no spare array at all: it takes one from the cache when it queues
// a message and gives it back at Advance. In the asynchronous mode no
// Advance says when the workers are done, so the arrays handed out are
// never reused.
type outbox struct {
	msgs        []raftpb.Message
	afterAppend []raftpb.Message
	// kept records the arrays kept for reuse, behind a pointer so that a
	// node given a GroupCache holds one word for them between its Readys:
	// such a node keeps arrays only from a Ready that hands messages out
	// to its Advance, and borrows the record from the cache for that long.
	// A node without a cache allocates it with its first message and
	// keeps it.
	kept *keptArrays
}

// keptArrays are the arrays an outbox keeps for each queue: keptMsgs and
// keptAfter, handed out by the last Ready (handedMsgs, handedAfter), for
// Advance to take back, or else spare, for the next messages to fill.
// idleMsgs and idleAfter count the ticks since the queue last took its
// spare.
type keptArrays struct {
	keptMsgs, keptAfter     []raftpb.Message
	handedMsgs, handedAfter bool
	idleMsgs, idleAfter     uint16
}

// queue adds m to the messages that leave at once, or, with afterAppend,
// to those that wait for durability. fanOut is how many messages the
// node is likely to queue at once, for a new array's size; c, if not nil,
// lends the array.
func (o *outbox) queue(m *raftpb.Message, afterAppend bool, fanOut int, c *GroupCache) {
	*o.add(afterAppend, fanOut, c) = *m
}

// add appends an empty message to the messages that leave at once, or,
// with afterAppend, to those that wait for durability, and returns it for
// the caller to fill in where it lies (fanOut and c as for queue). The
// pointer is good until the next message is queued: a message built in
// place is not built on the stack and then copied into the queue.
func (o *outbox) add(afterAppend bool, fanOut int, c *GroupCache) *raftpb.Message {
	q := &o.msgs
	if afterAppend {
		q, fanOut = &o.afterAppend, 1
	}
	if *q == nil {
		*q = o.takeSpare(afterAppend, fanOut, c)
	}
	s := *q
	if n := len(s); n < cap(s) {
		s = s[:n+1]
		s[n] = raftpb.Message{}
	} else {
		s = append(s, raftpb.Message{})
	}
	*q = s
	return &s[len(s)-1]
}

// takeSpare returns the kept array of a queue (after: the one that waits
// for durability), emptied, unless it is handed out, or else one from the
// cache c (if not nil) or a new one, for n messages. A node without a
// cache records its kept arrays from its first message on.
func (o *outbox) takeSpare(after bool, n int, c *GroupCache) []raftpb.Message {
	if o.kept == nil && c == nil {
		o.kept = &keptArrays{}
	}
	if k := o.kept; k != nil {
		kept, handed, idle := &k.keptMsgs, k.handedMsgs, &k.idleMsgs
		if after {
			kept, handed, idle = &k.keptAfter, k.handedAfter, &k.idleAfter
		}
		*idle = 0
		if s := *kept; cap(s) > 0 && !handed {
			*kept = nil
			return s[:0]
		}
	}
	if c != nil {
		return c.takeArray(n)
	}
	return make([]raftpb.Message, 0, n)
}

// queueLocal adds m, addressed to the application's snapshot worker, to
// the messages that never go to the network. They are few (the chunked
// transfer's, in the synchronous loop), so they wait in the node's cold
// part rather than in the outbox every node holds.
func (r *Raft) queueLocal(m raftpb.Message) {
	c := r.coldState()
	c.local = append(c.local, m)
}

// pending reports whether any message is queued for the network.
func (o *outbox) pending() bool { return len(o.msgs) > 0 || len(o.afterAppend) > 0 }

// messagesPending reports whether any message is queued, to the network
// or to the snapshot worker.
func (r *Raft) messagesPending() bool {
	return r.out.pending() || r.cold != nil && len(r.cold.local) > 0
}

// takeLocal returns the messages to the snapshot worker and empties that
// queue.
func (r *Raft) takeLocal() []raftpb.Message {
	if r.cold == nil {
		return nil
	}
	msgs := r.cold.local
	r.cold.local = nil
	return msgs
}

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
//
// A Ready that hands out no messages of a kind leaves what an earlier
// Ready handed out of that kind as it is: the application may still hold
// those messages until Advance, so their array is not spare. With a
// cache c, a spare array goes back to it at once.
func (o *outbox) handedOut(msgs, after []raftpb.Message, c *GroupCache) {
	if o.kept == nil {
		if cap(msgs) == 0 && cap(after) == 0 {
			return // nothing to keep, and nothing kept
		}
		o.kept = c.takeKept()
	}
	k := o.kept
	if len(msgs) > 0 || !k.handedMsgs {
		k.handedMsgs = keepArray(&k.keptMsgs, msgs)
	}
	if len(after) > 0 || !k.handedAfter {
		k.handedAfter = keepArray(&k.keptAfter, after)
	}
	o.returnSpares(c)
}

// returnSpares gives the spare arrays (kept, not handed out) back to the
// cache c, if there is one: a node that shares a cache keeps none, and
// gives back the record of its kept arrays once none is handed out.
func (o *outbox) returnSpares(c *GroupCache) {
	k := o.kept
	if c == nil || k == nil {
		return
	}
	if !k.handedMsgs && k.keptMsgs != nil {
		c.putArray(k.keptMsgs)
		k.keptMsgs = nil
	}
	if !k.handedAfter && k.keptAfter != nil {
		c.putArray(k.keptAfter)
		k.keptAfter = nil
	}
	if !k.handedMsgs && !k.handedAfter {
		c.putKept(k)
		o.kept = nil
	}
}

// keepArray makes used's array the kept one: handed out (it reports true)
// if it holds messages, else spare. An oversized array is left to the
// collector.
func keepArray(kept *[]raftpb.Message, used []raftpb.Message) (handed bool) {
	if cap(used) == 0 || cap(used) > maxMsgsCapHint {
		if len(used) > 0 {
			*kept = nil // a spare kept meanwhile stays only if nothing is handed
		}
		return false
	}
	*kept = used
	return len(used) > 0
}

// release takes back the arrays the last Ready handed out, cleared so
// that they hold no payload: Advance says their messages were sent. With
// a cache c they go back to it.
func (o *outbox) release(c *GroupCache) {
	k := o.kept
	if k == nil {
		return
	}
	if c != nil {
		o.releaseToCache(k, c)
		return
	}
	if k.handedMsgs {
		clear(k.keptMsgs)
		k.keptMsgs, k.handedMsgs = k.keptMsgs[:0], false
	}
	if k.handedAfter {
		clear(k.keptAfter)
		k.keptAfter, k.handedAfter = k.keptAfter[:0], false
	}
	o.returnSpares(c)
}

// releaseToCache is release for a node that shares the cache c: it keeps
// no spare array (returnSpares gave them back), so the arrays k records
// are the ones handed out, and they go back to c, which clears them, as
// does k.
func (o *outbox) releaseToCache(k *keptArrays, c *GroupCache) {
	if k.handedMsgs {
		c.putArray(k.keptMsgs)
	}
	if k.handedAfter {
		c.putArray(k.keptAfter)
	}
	c.putKept(k)
	o.kept = nil
}

// onTick counts n ticks and drops the spare array of a queue unused for
// limit ticks or more. A node with no record keeps no array.
func (o *outbox) onTick(n, limit int) {
	k := o.kept
	if k == nil {
		return
	}
	k.idleMsgs = dropIdle(&k.keptMsgs, k.handedMsgs, k.idleMsgs, n, limit)
	k.idleAfter = dropIdle(&k.keptAfter, k.handedAfter, k.idleAfter, n, limit)
}

// dropIdle drops the spare *kept of a queue idle for ticks ticks, plus
// n, if that reaches limit, and returns the new count (saturating).
func dropIdle(kept *[]raftpb.Message, handed bool, ticks uint16, n, limit int) uint16 {
	t := min(int(ticks)+n, limit)
	if t >= limit && !handed {
		*kept = nil
	}
	return uint16(t)
}
