package transport

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/tickraft/raft/raftpb"
)

// maxScratchBytes is the largest encoding buffer a writer keeps between
// batches; a larger one, grown for a snapshot, is released.
const maxScratchBytes = 1 << 20

// queued is a message waiting in a peer's queue with its encoded size
// and, in multi-group mode, its group.
type queued struct {
	msg   raftpb.Message
	size  int
	group uint64
	// removed is a removed notice's removal (multi-group mode), or zero
	// for a message.
	removed removal
}

// peer is the sending side of one link: a bounded queue and the writer
// goroutine that drains it into one outgoing connection.
type peer struct {
	t      *Transport
	id     uint64
	addr   string
	ctx    context.Context // cancelled by stop
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1: the queue may have become non-empty
	rng    *rand.Rand    // jitter; used by the writer goroutine only
	log    *slog.Logger

	mu         sync.Mutex
	queue      []queued
	queueBytes int
	conn       net.Conn // the current connection, closed by stop
	stopped    bool
}

// startPeer creates the peer id at addr and starts its writer goroutine.
func (t *Transport) startPeer(id uint64, addr string) *peer {
	ctx, cancel := context.WithCancel(t.ctx)
	p := &peer{
		t:      t,
		id:     id,
		addr:   addr,
		ctx:    ctx,
		cancel: cancel,
		wake:   make(chan struct{}, 1),
		rng:    rand.New(rand.NewPCG(t.cfg.Seed, id)),
		log:    t.log.With("peer", id, "addr", addr),
	}
	t.wg.Add(1)
	go p.run()
	return p
}

// push queues m, whose encoding takes size bytes, and reports whether it
// fit. A message larger than MaxQueueBytes fits an empty queue.
func (p *peer) push(m *raftpb.Message, size int) bool {
	cfg := &p.t.cfg
	p.mu.Lock()
	n := len(p.queue)
	ok := !p.stopped && n < cfg.MaxQueueMsgs && (n == 0 || p.queueBytes+size <= cfg.MaxQueueBytes)
	if ok {
		q := queued{msg: *m, size: size}
		q.msg.Entries = slices.Clone(m.Entries) // the node takes its array back after Advance
		p.queue = append(p.queue, q)
		p.queueBytes += size
	}
	p.mu.Unlock()
	if ok {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return ok
}

// stop makes the writer goroutine return and closes its connection. It
// does not wait.
func (p *peer) stop() {
	p.cancel()
	p.mu.Lock()
	p.stopped = true
	if p.conn != nil {
		p.conn.Close()
	}
	p.mu.Unlock()
}

// run is the writer goroutine: it waits for messages, dials, writes until
// the connection breaks, and dials again after a backoff, until stopped.
func (p *peer) run() {
	defer p.t.wg.Done()
	defer p.discardQueue()
	var spare []queued
	failures := 0       // consecutive failed dials and broken connections
	hadFailure := false // the next connection is a reconnection
	for p.waitQueued(nil) {
		conn, err := p.dial()
		if err != nil {
			if p.ctx.Err() != nil {
				return
			}
			p.t.stats.dialFailures.Add(1)
			p.t.perPeer.of(p.id).dialFailures.Add(1)
			p.log.Debug("dial failed", "err", err)
		} else {
			if hadFailure {
				p.t.stats.reconnects.Add(1)
			}
			p.log.Info("connected")
			failures = 0
			spare, err = p.serve(conn, spare)
			conn.Close()
			if p.ctx.Err() != nil {
				return
			}
			p.log.Warn("connection lost", "err", err)
		}
		p.t.reportUnreachable(p.id)
		hadFailure = true
		failures++
		if !sleepCtx(p.ctx, p.backoff(failures)) {
			return
		}
	}
}

// waitQueued waits until the queue holds a message and reports whether it
// does; it returns false when the peer stops or dead is closed first.
func (p *peer) waitQueued(dead <-chan struct{}) bool {
	for {
		p.mu.Lock()
		n := len(p.queue)
		p.mu.Unlock()
		if n > 0 {
			return true
		}
		select {
		case <-p.wake:
		case <-p.ctx.Done():
			return false
		case <-dead:
			return false
		}
	}
}

// take moves the queued messages out in one batch, leaving spare (emptied)
// as the new queue, waiting for one if the queue is empty. It returns false
// when the peer stops or dead is closed while the queue is empty.
func (p *peer) take(spare []queued, dead <-chan struct{}) ([]queued, bool) {
	if !p.waitQueued(dead) {
		return spare, false
	}
	p.mu.Lock()
	batch := p.queue
	p.queue = spare[:0]
	p.queueBytes = 0
	p.mu.Unlock()
	return batch, true
}

// queueEmpty reports whether no message is queued.
func (p *peer) queueEmpty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue) == 0
}

// discardQueue drops, and counts, what is left in the queue once the
// writer returns.
func (p *peer) discardQueue() {
	p.mu.Lock()
	p.t.stats.drops.Add(uint64(len(p.queue)))
	p.t.perPeer.of(p.id).drops.Add(uint64(len(p.queue)))
	clear(p.queue)
	p.queue, p.queueBytes = nil, 0
	p.mu.Unlock()
}

// dial connects to the peer and records the connection so that stop can
// close it.
func (p *peer) dial() (net.Conn, error) {
	d := net.Dialer{Timeout: p.t.cfg.DialTimeout}
	conn, err := d.DialContext(p.ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if p.t.cfg.TLS != nil {
		if conn, err = p.clientHandshake(conn); err != nil {
			return nil, err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		conn.Close()
		return nil, context.Canceled
	}
	p.conn = conn
	return conn, nil
}

// backoff returns the wait after the given number of consecutive failures.
func (p *peer) backoff(failures int) time.Duration {
	return backoffDelay(p.t.cfg.MinBackoff, p.t.cfg.MaxBackoff, failures, p.rng)
}

// backoffDelay returns lo doubled failures-1 times, capped at hi, then
// drawn uniformly from its upper half with rng.
func backoffDelay(lo, hi time.Duration, failures int, rng *rand.Rand) time.Duration {
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	half := d / 2
	return half + time.Duration(rng.Int64N(int64(d-half)+1))
}

// sleepCtx waits for d and reports whether ctx was still live after it.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// errPeerClosed reports that the peer closed an outgoing connection (or
// wrote to it, which it never should).
var errPeerClosed = errors.New("transport: connection closed by the peer")

// serve writes the hello and then batches of queued frames to conn until
// a write fails, the peer closes the connection or the peer is stopped. It
// flushes whenever the queue is empty, and returns the spare queue slice
// for the next connection.
func (p *peer) serve(conn net.Conn, spare []queued) ([]queued, error) {
	cfg := &p.t.cfg
	dead := p.watchClose(conn)
	w := bufio.NewWriterSize(conn, cfg.WriteBufferBytes)
	if cfg.Groups {
		w.Write(AppendGroupsHello(w.AvailableBuffer(), GroupsToken(cfg.ClusterID, cfg.GroupLayout), cfg.ID, p.id))
		return p.serveGroups(conn, w, dead, spare)
	}
	w.Write(AppendClusterHello(w.AvailableBuffer(), cfg.ClusterID, cfg.ID, p.id))
	var scratch []byte
	var unflushed, unflushedBytes uint64
	for {
		batch, ok := p.take(spare, dead)
		if !ok {
			p.countDrops(unflushed)
			if p.ctx.Err() != nil {
				return spare, p.ctx.Err()
			}
			return spare, errPeerClosed
		}
		conn.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
		for i := range batch {
			n, err := writeFrame(w, &batch[i], &scratch)
			if err != nil {
				p.countDrops(unflushed + uint64(len(batch)-i))
				clear(batch)
				return batch[:0], err
			}
			unflushed++
			unflushedBytes += uint64(n)
		}
		clear(batch) // release the messages' payloads
		spare = batch[:0]
		if cap(scratch) > maxScratchBytes {
			scratch = nil
		}
		if !p.queueEmpty() {
			continue
		}
		if err := w.Flush(); err != nil {
			p.countDrops(unflushed)
			return spare, err
		}
		p.countSent(unflushed, unflushed, unflushedBytes)
		unflushed, unflushedBytes = 0, 0
	}
}

// watchClose starts a goroutine that reads from conn, on which the peer
// writes nothing but a removed notice, and closes the returned channel
// when the read returns: the peer closed the connection, or the writer
// did. It lets an idle writer notice a dead peer before it next has
// something to send, and passes a removed notice to Config.ToldRemoved.
func (p *peer) watchClose(conn net.Conn) <-chan struct{} {
	dead := make(chan struct{})
	p.t.wg.Add(1)
	go func() {
		defer p.t.wg.Done()
		defer close(dead)
		if index := readRemovedNotice(conn); index != 0 && p.t.cfg.ToldRemoved != nil {
			p.t.cfg.ToldRemoved(p.id, index)
		}
	}()
	return dead
}

// writeFrame writes the frame of q to w, encoding it straight into w's
// free buffer when it fits there and into *scratch otherwise, and returns
// the frame's length.
func writeFrame(w *bufio.Writer, q *queued, scratch *[]byte) (int, error) {
	if FrameHeaderBytes+q.size <= w.Available() {
		return w.Write(appendFrame(w.AvailableBuffer(), &q.msg, q.size))
	}
	*scratch = appendFrame((*scratch)[:0], &q.msg, q.size)
	return w.Write(*scratch)
}
