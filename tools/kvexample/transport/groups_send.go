package transport

import (
	"bufio"
	"encoding/binary"
	"net"
	"slices"
	"time"

	"github.com/tickraft/raft/raftpb"
)

// This file holds the sending side of multi-group mode: SendGroups queues
// each process's messages at once, and a peer's writer drains its whole
// queue into one batch per flush.

// SendGroups queues each message for its process (Message.To) and returns
// at once, as Send does in single-group mode: a message that cannot be
// queued is dropped and counted, and Config.Unreachable is called once per
// process per call when it was meant for a peer (unknown, removed, queue
// full or message too large). The messages of one call to one process are
// queued together, so they leave in one frame unless it would exceed
// MaxFrameBytes or MaxBatchMsgs. A message whose From is not the local
// process's ID, or of a local type, is dropped and logged without a
// report: in multi-group mode every replica on this process has its ID.
// SendGroups retains the messages it queues like Send, but keeps no copies
// of their entries: the caller hands it entries that stay as they are
// until written (copies, if they come from a Ready). On a single-group
// transport it drops every message, counted and logged. A removed notice
// (GroupMessage.Removed) travels like a message; one without a
// RemovedTerm, or whose Message holds more than From and To, is dropped
// and logged without a report.
func (t *Transport) SendGroups(msgs []GroupMessage) {
	t.sendGroups(len(msgs), func(i int) (uint64, removal, *raftpb.Message) {
		return msgs[i].Group, removal{msgs[i].Removed, msgs[i].RemovedTerm}, &msgs[i].Message
	})
}

// SendGroup is SendGroups for messages of one group.
func (t *Transport) SendGroup(group uint64, msgs []raftpb.Message) {
	t.sendGroups(len(msgs), func(i int) (uint64, removal, *raftpb.Message) { return group, removal{}, &msgs[i] })
}

// ReceiveGroups returns the channel on which a multi-group transport
// delivers what it receives: one slice per received frame, holding its
// messages in the order they were sent, of the groups this process hosts.
// Each slice and its messages belong to the receiver; their byte fields
// point into a buffer allocated for that frame alone (a message kept
// keeps the whole frame's buffer alive). The channel is never closed; on
// a single-group transport it is nil.
func (t *Transport) ReceiveGroups() <-chan []GroupMessage { return t.recvGroups }

// outgoing collects the messages of one SendGroups call by peer. The
// transport keeps spare ones in a pool, so that a call allocates nothing
// for them in the steady state.
type outgoing struct {
	peers []*peer
	items [][]queued
}

// reset empties o for reuse, releasing the messages it referred to.
func (o *outgoing) reset() {
	for i := range o.items {
		clear(o.items[i])
		o.items[i] = o.items[i][:0]
	}
	clear(o.peers)
	o.peers = o.peers[:0]
}

// add appends q to p's messages.
func (o *outgoing) add(p *peer, q queued) {
	i := slices.Index(o.peers, p)
	if i < 0 {
		o.peers = append(o.peers, p)
		if len(o.items) < len(o.peers) {
			o.items = append(o.items, nil)
		}
		i = len(o.peers) - 1
	}
	o.items[i] = append(o.items[i], q)
}

// sendGroups is SendGroups over n messages, the i-th given by at.
func (t *Transport) sendGroups(n int, at func(i int) (group uint64, rm removal, m *raftpb.Message)) {
	if !t.cfg.Groups {
		t.dropWrongMode("SendGroups", n)
		return
	}
	var unreachable []uint64
	drop := func(to uint64, report bool) {
		t.stats.drops.Add(1)
		t.perPeer.of(to).drops.Add(1)
		if report && !slices.Contains(unreachable, to) {
			unreachable = append(unreachable, to)
		}
	}
	out, _ := t.outgoing.Get().(*outgoing)
	if out == nil {
		out = new(outgoing)
	}
	defer func() {
		out.reset()
		t.outgoing.Put(out)
	}()
	t.mu.RLock()
	for i := range n {
		group, rm, m := at(i)
		p, size, report := t.admitGroup(group, rm, m)
		if p == nil {
			drop(m.To, report)
			continue
		}
		out.add(p, queued{msg: *m, size: size, group: group, removed: rm})
	}
	for i, p := range out.peers {
		items := out.items[i]
		for range items[p.pushAll(items):] {
			drop(p.id, !t.closed)
		}
	}
	t.mu.RUnlock()
	for _, id := range unreachable {
		t.reportUnreachable(id)
	}
}

// admitGroup returns the peer m of group (a removed notice when rm's
// index is not zero) goes to and its encoded size, or a nil peer when m must be
// dropped, with whether to report the peer unreachable. The caller holds
// t.mu.
func (t *Transport) admitGroup(group uint64, rm removal, m *raftpb.Message) (p *peer, size int, report bool) {
	switch {
	case t.closed:
		return nil, 0, false
	case rm.index != 0 && (rm.term == 0 || !noticeMessage(m)):
		// The receiver would refuse the frame and close the connection
		// every group shares.
		t.log.Error("dropping a removed notice without a term or whose message holds more than From and To", "group", group, "to", m.To)
		return nil, 0, false
	case rm.index == 0 && raftpb.IsLocalMsg(m.Type):
		t.log.Error("dropping a message of a local type", "group", group, "type", m.Type.String(), "to", m.To)
		return nil, 0, false
	case m.From != t.cfg.ID:
		t.log.Error("dropping a message whose sender is not this process (in multi-group mode a replica's ID is its process's)",
			"group", group, "type", m.Type.String(), "from", m.From, "process", t.cfg.ID)
		return nil, 0, false
	}
	if p = t.peers[m.To]; p == nil {
		t.log.Debug("dropping a message to an unknown peer", "group", group, "type", m.Type.String(), "to", m.To)
		return nil, 0, true
	}
	size = m.Size()
	if limit := maxBatchedMsgBytes(t.cfg.MaxFrameBytes); size > limit {
		t.log.Error("dropping a message above MaxFrameBytes", "group", group, "type", m.Type.String(), "to", m.To,
			"bytes", size, "limit", limit)
		return nil, 0, true
	}
	return p, size, false
}

// dropWrongMode drops, counts and logs the n messages of a call of the
// other group mode.
func (t *Transport) dropWrongMode(call string, n int) {
	if n == 0 {
		return
	}
	t.stats.drops.Add(uint64(n))
	t.log.Error("dropping the messages of a call of the other group mode", "call", call, "groups", t.cfg.Groups, "messages", n)
}

// pushAll queues as many of items as fit, in order, under one lock so
// that the writer takes them together, and returns how many it queued. A
// message larger than MaxQueueBytes fits an empty queue.
func (p *peer) pushAll(items []queued) int {
	cfg := &p.t.cfg
	p.mu.Lock()
	pushed := 0
	for _, q := range items {
		n := len(p.queue)
		if p.stopped || n >= cfg.MaxQueueMsgs || (n > 0 && p.queueBytes+q.size > cfg.MaxQueueBytes) {
			break
		}
		p.queue = append(p.queue, q)
		p.queueBytes += q.size
		pushed++
	}
	p.mu.Unlock()
	if pushed > 0 {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return pushed
}

// serveGroups is serve for a multi-group connection whose hello w holds:
// each time it takes the whole queue, it writes it as one batch (more if
// MaxFrameBytes or MaxBatchMsgs say so) and flushes.
func (p *peer) serveGroups(conn net.Conn, w *bufio.Writer, dead <-chan struct{}, spare []queued) ([]queued, error) {
	cfg := &p.t.cfg
	var scratch []byte
	for {
		batch, ok := p.take(spare, dead)
		if !ok {
			if p.ctx.Err() != nil {
				return spare, p.ctx.Err()
			}
			return spare, errPeerClosed
		}
		conn.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
		frames, bytes, err := p.writeBatches(w, batch, &scratch)
		if err == nil {
			err = w.Flush()
		}
		n := uint64(len(batch))
		clear(batch) // release the messages' payloads
		spare = batch[:0]
		if err != nil {
			p.countDrops(n)
			return spare, err
		}
		p.countSent(frames, n, bytes)
		if cap(scratch) > maxScratchBytes {
			scratch = nil
		}
	}
}

// writeBatches writes batch to w as few frames as MaxFrameBytes and
// MaxBatchMsgs allow, encoding each straight into w's free buffer when it
// fits there and into *scratch otherwise, and returns the frames and bytes
// written.
func (p *peer) writeBatches(w *bufio.Writer, batch []queued, scratch *[]byte) (frames, bytes uint64, err error) {
	from, to := p.t.cfg.ID, p.id
	for len(batch) > 0 {
		n, body := batchPrefix(from, to, batch, p.t.cfg.MaxFrameBytes)
		var buf []byte
		if FrameHeaderBytes+body <= w.Available() {
			buf = appendQueuedBatch(w.AvailableBuffer(), from, to, batch[:n], body)
		} else {
			*scratch = appendQueuedBatch((*scratch)[:0], from, to, batch[:n], body)
			buf = *scratch
		}
		if _, err := w.Write(buf); err != nil {
			return frames, bytes, err
		}
		frames++
		bytes += uint64(len(buf))
		batch = batch[n:]
	}
	return frames, bytes, nil
}

// batchPrefix returns how many of batch's first messages one frame of at
// most maxFrameBytes and MaxBatchMsgs carries (at least one: admitGroup
// refused larger messages), and the size of that frame's body.
func batchPrefix(from, to uint64, batch []queued, maxFrameBytes int) (n, bodyBytes int) {
	records := 0
	for n < len(batch) && n < MaxBatchMsgs {
		q := &batch[n]
		size := recordSize(from, to, q.group, q.removed, &q.msg, q.size)
		if n > 0 && uvarintLen(uint64(n+1))+records+size > maxFrameBytes {
			break
		}
		records += size
		n++
	}
	return n, uvarintLen(uint64(n)) + records
}

// appendQueuedBatch appends the frame of batch, whose body takes bodyBytes.
func appendQueuedBatch(buf []byte, from, to uint64, batch []queued, bodyBytes int) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(bodyBytes))
	buf = binary.AppendUvarint(buf, uint64(len(batch)))
	for i := range batch {
		q := &batch[i]
		buf = appendRecord(buf, from, to, q.group, q.removed, &q.msg, q.size)
	}
	return buf
}
