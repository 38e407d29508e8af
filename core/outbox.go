package core

import "github.com/tickraft/raft/raftpb"

// busyReadys is the number of Readys handing out messages within one tick
// from which a node counts as busy and keeps its message arrays.
const busyReadys = 2

// outbox holds the messages a node has queued for the next Ready, in two
// queues: those that may leave at once, and those that leave only once
// everything the node has emitted to storage so far is durable (votes and
// acknowledgements, thesis §10.2.1). Only this file assigns its fields.
//
// It also decides when the node keeps a cache of message arrays
// (msgBuffers): only a busy node does, one that hands out messages in at
// least busyReadys Readys between two ticks. An idle node, whose Readys
// carry a heartbeat or two per tick, keeps no array between ticks: a
// process with thousands of idle groups would otherwise hold two arrays in
// every node. The first tick a node spends idle drops the cache.
type outbox struct {
	msgs        []raftpb.Message
	afterAppend []raftpb.Message
	// local are the synchronous loop's messages to the snapshot worker,
	// handed out in Ready.LocalMessages; few, and never kept for reuse.
	local []raftpb.Message
	// bufs is the cache of message arrays, nil while the node is idle.
	bufs *msgBuffers
	// readys counts the Readys that handed out messages since the last
	// tick (saturating at busyReadys).
	readys uint8
}

// queue adds m to the messages that leave at once, or, with afterAppend,
// to those that wait for durability. fanOut is how many messages the
// node is likely to queue at once, for a new array's size.
func (o *outbox) queue(m raftpb.Message, afterAppend bool, fanOut int) {
	if afterAppend {
		if o.afterAppend == nil {
			o.afterAppend = o.bufs.nextAfter(1)
		}
		o.afterAppend = append(o.afterAppend, m)
		return
	}
	if o.msgs == nil {
		o.msgs = o.bufs.nextMsgs(fanOut)
	}
	o.msgs = append(o.msgs, m)
}

// queueLocal adds m, addressed to the application's snapshot worker, to
// the messages that never go to the network.
func (o *outbox) queueLocal(m raftpb.Message) { o.local = append(o.local, m) }

// pending reports whether any message is queued.
func (o *outbox) pending() bool { return len(o.msgs) > 0 || len(o.afterAppend) > 0 || len(o.local) > 0 }

// takeLocal returns the messages to the snapshot worker and empties that
// queue.
func (o *outbox) takeLocal() []raftpb.Message {
	msgs := o.local
	o.local = nil
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

// handedOut counts a Ready that hands out msgs and after. A node busy
// within this tick keeps (or starts) its cache of arrays and records them
// there; an idle one records nothing, so that no reference keeps them
// alive.
func (o *outbox) handedOut(msgs, after []raftpb.Message) {
	if len(msgs) == 0 && len(after) == 0 {
		return
	}
	o.readys = min(o.readys+1, busyReadys)
	if o.bufs == nil {
		if o.readys < busyReadys {
			return // idle so far: keep nothing
		}
		o.bufs = &msgBuffers{}
	}
	o.bufs.handOut(msgs, after)
}

// onTick restarts the count of Readys and drops the cache of a node that
// was idle during the last tick. It reports whether the node was busy.
func (o *outbox) onTick() (busy bool) {
	busy = o.readys >= busyReadys
	o.readys = 0
	if !busy {
		o.bufs = nil
	}
	return busy
}
