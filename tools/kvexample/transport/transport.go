package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"

	"github.com/tickraft/raft/raftpb"
)

// ErrClosed is returned by the methods of a Transport that was closed.
var ErrClosed = errors.New("transport: closed")

// Transport sends and receives raftpb.Messages for one node over TCP. Its
// methods are safe for concurrent use.
type Transport struct {
	cfg  Config
	log  *slog.Logger
	ln   net.Listener
	recv chan raftpb.Message // nil in multi-group mode
	// recvGroups carries the received batches in multi-group mode; nil
	// otherwise.
	recvGroups chan []GroupMessage
	// outgoing holds spare *outgoing for SendGroups (groups_send.go).
	outgoing sync.Pool
	ctx      context.Context // cancelled by Close
	cancel   context.CancelFunc
	wg       sync.WaitGroup // every goroutine of the transport
	stats    counters
	// perPeer are the same counters by peer (peerstats.go).
	perPeer peerTable
	// serverTLS is the TLS configuration of incoming connections, nil
	// without Config.TLS.
	serverTLS *tls.Config

	mu      sync.RWMutex
	closed  bool
	peers   map[uint64]*peer
	inbound map[net.Conn]struct{}
	// limits are the receive rate bounds of the peers with an incoming
	// connection open (limits.go).
	limits map[uint64]*recvLimit
}

// New validates cfg, listens, starts the accept loop and one writer
// goroutine per peer, and returns the Transport. It does not dial: a peer's
// writer dials when it first has a message to send.
func New(cfg Config) (*Transport, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		if cfg.Listener != nil {
			cfg.Listener.Close()
		}
		return nil, err
	}
	ln := c.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", c.ListenAddr); err != nil {
			return nil, fmt.Errorf("transport: listen on %s: %w", c.ListenAddr, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		cfg:     c,
		log:     c.Logger.With("node", c.ID),
		ln:      ln,
		ctx:     ctx,
		cancel:  cancel,
		peers:   make(map[uint64]*peer, len(c.Peers)),
		inbound: make(map[net.Conn]struct{}),
		limits:  make(map[uint64]*recvLimit),
	}
	if c.Groups {
		t.recvGroups = make(chan []GroupMessage, c.RecvBufferMsgs)
	} else {
		t.recv = make(chan raftpb.Message, c.RecvBufferMsgs)
	}
	if c.TLS != nil {
		t.serverTLS = c.TLS.serverTLS()
	} else {
		t.log.Warn("the transport is not authenticated: anyone who can reach its port can send as any node; configure TLS across machines")
	}
	for id, addr := range c.Peers {
		t.peers[id] = t.startPeer(id, addr)
	}
	t.wg.Add(1)
	go t.acceptLoop()
	t.log.Info("transport listening", "addr", ln.Addr().String())
	return t, nil
}

// Addr returns the address the transport listens on.
func (t *Transport) Addr() net.Addr { return t.ln.Addr() }

// Receive returns the channel on which received messages are delivered.
// Each message belongs to the receiver (see the package documentation). The
// channel is never closed. In multi-group mode it is nil, on which nothing
// is ever delivered: use ReceiveGroups.
func (t *Transport) Receive() <-chan raftpb.Message { return t.recv }

// Stats returns the transport's counters.
func (t *Transport) Stats() Stats { return t.stats.snapshot() }

// Send queues each message for its peer (message.To) and returns at once.
// A message that cannot be queued is dropped and counted; when it was meant
// for a peer (unknown, removed, queue full or message too large),
// Config.Unreachable is called with that peer's ID, once per ID per call,
// before Send returns. Messages of a local type are dropped without a
// report. Send retains the messages it queues: see the package
// documentation. In multi-group mode Send drops every message, counted
// and logged: use SendGroups.
func (t *Transport) Send(msgs []raftpb.Message) {
	if t.cfg.Groups {
		t.dropWrongMode("Send", len(msgs))
		return
	}
	var unreachable []uint64
	t.mu.RLock()
	for i := range msgs {
		if t.enqueue(&msgs[i]) {
			continue
		}
		t.stats.drops.Add(1)
		t.perPeer.of(msgs[i].To).drops.Add(1)
		if id := msgs[i].To; !t.closed && !raftpb.IsLocalMsg(msgs[i].Type) && !slices.Contains(unreachable, id) {
			unreachable = append(unreachable, id)
		}
	}
	t.mu.RUnlock()
	for _, id := range unreachable {
		t.reportUnreachable(id)
	}
}

// enqueue reports whether m was queued for its peer. The caller holds t.mu.
func (t *Transport) enqueue(m *raftpb.Message) bool {
	if t.closed {
		return false
	}
	if raftpb.IsLocalMsg(m.Type) {
		t.log.Error("dropping a message of a local type", "type", m.Type.String(), "to", m.To)
		return false
	}
	p := t.peers[m.To]
	if p == nil {
		t.log.Debug("dropping a message to an unknown peer", "type", m.Type.String(), "to", m.To)
		return false
	}
	size := m.Size()
	if size > t.cfg.MaxFrameBytes {
		t.log.Error("dropping a message above MaxFrameBytes", "type", m.Type.String(), "to", m.To,
			"bytes", size, "limit", t.cfg.MaxFrameBytes)
		return false
	}
	return p.push(m, size)
}

// reportUnreachable counts a report and calls Config.Unreachable.
func (t *Transport) reportUnreachable(id uint64) {
	t.stats.unreachable.Add(1)
	if t.cfg.Unreachable != nil {
		t.cfg.Unreachable(id)
	}
}

// AddPeer adds peer id at addr, or moves it there if it is already a peer
// at another address (its queued messages are then dropped and its
// connection closed). It fails with ErrInvalidConfig for a zero ID, the
// local ID or an empty address, and with ErrClosed after Close.
func (t *Transport) AddPeer(id uint64, addr string) error {
	if err := checkPeer(t.cfg.ID, id, addr); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if old := t.peers[id]; old != nil {
		if old.addr == addr {
			return nil
		}
		old.stop()
	}
	t.peers[id] = t.startPeer(id, addr)
	return nil
}

// RemovePeer stops sending to peer id: its queued messages are dropped
// (counted, not reported) and its connection closed. Connections from it
// are still accepted. Removing a node that is not a peer does nothing.
func (t *Transport) RemovePeer(id uint64) {
	t.mu.Lock()
	p := t.peers[id]
	delete(t.peers, id)
	t.forgetLimit(id)
	t.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// Close stops the transport abruptly: it closes the listener and every
// connection without flushing, drops every queued message, waits for all
// the transport's goroutines to return, and returns the listener's close
// error. Later calls wait likewise and return nil; Send after Close drops.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		t.wg.Wait()
		return nil
	}
	t.closed = true
	peers := t.peers
	t.peers = map[uint64]*peer{}
	conns := make([]net.Conn, 0, len(t.inbound))
	for c := range t.inbound {
		conns = append(conns, c)
	}
	t.mu.Unlock()

	t.cancel()
	err := t.ln.Close()
	for _, p := range peers {
		p.stop()
	}
	for _, c := range conns {
		c.Close()
	}
	t.wg.Wait()
	t.log.Info("transport closed")
	return err
}
