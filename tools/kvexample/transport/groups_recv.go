package transport

import (
	"bufio"
	"net"
	"time"
)

// readBatches reads the batches of a multi-group connection from process
// from whose hello was read, delivering each, until an error or Close. A
// batch that breaks the framing ends the connection with nothing of it
// delivered.
func (t *Transport) readBatches(conn net.Conn, r *bufio.Reader, from uint64, limit *recvLimit) error {
	hdr := new([FrameHeaderBytes]byte)
	for {
		// Every frame must arrive whole within FrameTimeout, as in
		// single-group mode.
		conn.SetReadDeadline(time.Now().Add(t.cfg.FrameTimeout))
		body, err := readFrameBody(r, hdr, t.cfg.MaxFrameBytes)
		if err != nil {
			return err
		}
		batch, err := DecodeBatch(body, from, t.cfg.ID)
		if err != nil {
			return err
		}
		if batch = t.keepHosted(batch); len(batch) == 0 {
			continue
		}
		if !limit.allowN(t.cfg.now(), len(batch)) {
			t.stats.rateDrops.Add(uint64(len(batch)))
			continue
		}
		t.countReceived(from, uint64(len(batch)), uint64(FrameHeaderBytes+len(body)))
		select {
		case t.recvGroups <- batch:
		case <-t.ctx.Done():
			return t.ctx.Err()
		}
	}
}

// keepHosted removes from batch, in place, the messages of the groups
// Config.HostsGroup says this process does not host, counting them. It
// asks about each message as its batch is delivered, so that a group the
// host adds or removes meanwhile is judged by the answer of now. Removed
// notices are kept whatever the answer: the replica they are about may be
// gone already.
func (t *Transport) keepHosted(batch []GroupMessage) []GroupMessage {
	hosts := t.cfg.HostsGroup
	if hosts == nil {
		return batch
	}
	kept := batch[:0]
	for _, g := range batch {
		if g.Removed != 0 || hosts(g.Group) {
			kept = append(kept, g)
		}
	}
	if dropped := len(batch) - len(kept); dropped > 0 {
		t.stats.unhosted.Add(uint64(dropped))
		clear(batch[len(kept):])
	}
	return kept
}
