package transport

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/tickraft/raft/raftpb"
)

// readBufferBytes is the size of each incoming connection's bufio.Reader.
const readBufferBytes = 64 << 10

// The bounds of the wait after a failed Accept (for example when the
// process runs out of file descriptors).
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

// acceptLoop accepts connections and starts a reader goroutine for each,
// until the listener is closed.
func (t *Transport) acceptLoop() {
	defer t.wg.Done()
	var delay time.Duration
	for {
		conn, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, minAcceptBackoff), maxAcceptBackoff)
			t.log.Warn("accept failed", "err", err, "retry_in", delay)
			if !sleepCtx(t.ctx, delay) {
				return
			}
			continue
		}
		delay = 0
		open, admitted := t.trackInbound(conn)
		if !admitted {
			conn.Close()
			if !open {
				return
			}
			t.stats.rejectedConns.Add(1)
			t.perPeer.of(UnknownPeer).refused.Add(1) // over the cap, before any hello
			t.log.Debug("refusing a connection above MaxInboundConns", "remote", conn.RemoteAddr().String(),
				"limit", t.cfg.MaxInboundConns)
			continue
		}
		t.wg.Add(1) // legal during Close's Wait: this goroutine's count is held
		go t.serveInbound(conn)
	}
}

// trackInbound records conn so that Close can close it, and reports
// whether the transport is still open and whether conn was admitted under
// Config.MaxInboundConns.
func (t *Transport) trackInbound(conn net.Conn) (open, admitted bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false, false
	}
	if len(t.inbound) >= t.cfg.MaxInboundConns {
		return true, false
	}
	t.inbound[conn] = struct{}{}
	return true, true
}

// serveInbound is the reader goroutine of one incoming connection.
func (t *Transport) serveInbound(conn net.Conn) {
	defer t.wg.Done()
	from, err := t.readInbound(conn)
	t.mu.Lock()
	delete(t.inbound, conn)
	t.mu.Unlock()
	conn.Close()
	remote := conn.RemoteAddr().String()
	switch {
	case errors.Is(err, ErrIdentity):
		t.stats.identityErrors.Add(1)
		t.perPeer.of(from).refused.Add(1)
		t.log.Warn("closing a connection whose certificate does not prove its sender", "remote", remote, "err", err)
	case errors.Is(err, ErrGroupMode):
		t.stats.groupModeErrors.Add(1)
		t.perPeer.of(from).refused.Add(1)
		t.log.Warn("closing a connection from a peer of the other group mode (single-group vs multi-group)", "remote", remote, "err", err)
	case errors.Is(err, ErrMalformed):
		t.stats.decodeErrors.Add(1)
		t.perPeer.of(from).refused.Add(1) // from is UnknownPeer before the hello
		t.log.Warn("closing a connection that sent malformed input", "remote", remote, "err", err)
	case t.ctx.Err() == nil:
		t.log.Debug("incoming connection ended", "remote", remote, "err", err)
	}
}

// readInbound reads the hello and then frames from conn, delivering each
// message, until an error or Close.
func (t *Transport) readInbound(conn net.Conn) (uint64, error) {
	conn.SetReadDeadline(time.Now().Add(t.cfg.HelloTimeout))
	src, tc := conn, (*tls.Conn)(nil)
	if t.serverTLS != nil {
		var err error
		if tc, err = t.serverHandshake(conn); err != nil {
			return UnknownPeer, err
		}
		src = tc
	}
	r := bufio.NewReaderSize(src, readBufferBytes)
	readHello, cluster := ReadClusterHello, t.cfg.ClusterID
	if t.cfg.Groups {
		readHello, cluster = ReadGroupsHello, GroupsToken(t.cfg.ClusterID, t.cfg.GroupLayout)
	}
	from, err := readHello(r, cluster, t.cfg.ID)
	if err != nil {
		return UnknownPeer, err
	}
	if tc != nil {
		if err := t.checkPeerIdentity(tc, from); err != nil {
			return from, err
		}
	}
	if t.cfg.RemovedAt != nil {
		if index, removed := t.cfg.RemovedAt(from); removed {
			return from, t.tellRemoved(src, from, index)
		}
	}
	limit := t.acquireLimit(from)
	defer t.releaseLimit(from)
	if t.cfg.Groups {
		return from, t.readBatches(conn, r, from, limit)
	}
	hdr := new([FrameHeaderBytes]byte)
	for {
		// Every frame must arrive whole within FrameTimeout: neither a
		// silent connection nor one dribbling a frame is held forever.
		conn.SetReadDeadline(time.Now().Add(t.cfg.FrameTimeout))
		m, n, err := readFrame(r, hdr, t.cfg.MaxFrameBytes)
		if err != nil {
			return from, err
		}
		if err := checkInbound(&m, from, t.cfg.ID); err != nil {
			return from, err
		}
		if !limit.allow(t.cfg.now()) {
			t.stats.rateDrops.Add(1)
			continue
		}
		t.countReceived(from, 1, uint64(n))
		select {
		case t.recv <- m:
		case <-t.ctx.Done():
			return from, t.ctx.Err()
		}
	}
}

// checkInbound returns an error wrapping ErrMalformed when m does not fit
// a connection from node from to node local.
func checkInbound(m *raftpb.Message, from, local uint64) error {
	switch {
	case raftpb.IsLocalMsg(m.Type):
		return fmt.Errorf("%w: message of local type %v from node %d", ErrMalformed, m.Type, from)
	case m.From != from:
		return fmt.Errorf("%w: message from node %d on the connection of node %d", ErrMalformed, m.From, from)
	case m.To != local:
		return fmt.Errorf("%w: message to node %d received by node %d", ErrMalformed, m.To, local)
	}
	return nil
}
