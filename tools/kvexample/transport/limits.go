package transport

import (
	"sync"
	"time"
)

// recvLimit is the receive rate bound of one peer ID, shared by its
// incoming connections: a token bucket of MaxRecvMsgsPerSec tokens that
// refills at that rate.
type recvLimit struct {
	mu     sync.Mutex
	rate   float64 // tokens per second, and the bucket's size
	tokens float64
	last   time.Time
	conns  int // incoming connections of the peer using it; guarded by Transport.mu
}

// allow takes a token at time now and reports whether there was one.
func (l *recvLimit) allow(now time.Time) bool { return l.allowN(now, 1) }

// allowN reports whether n tokens are left at time now (as many as the
// bucket holds, for a batch larger than it) and then takes n: a batch is
// delivered or dropped whole. A batch larger than the bucket passes only
// from a full bucket and runs it into debt, which delays the next one, so
// the messages delivered at one instant never exceed the larger of the
// rate and one batch.
func (l *recvLimit) allowN(now time.Time, n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if elapsed := now.Sub(l.last); elapsed > 0 {
		l.tokens = min(l.rate, l.tokens+elapsed.Seconds()*l.rate)
		l.last = now
	}
	if l.tokens < min(float64(n), l.rate) {
		return false
	}
	l.tokens -= float64(n)
	return true
}

// acquireLimit returns the receive limit of peer id for one more of its
// connections, creating it full when it has none.
func (t *Transport) acquireLimit(id uint64) *recvLimit {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.limits[id]
	if l == nil {
		rate := float64(t.cfg.MaxRecvMsgsPerSec)
		l = &recvLimit{rate: rate, tokens: rate, last: t.cfg.now()}
		t.limits[id] = l
	}
	l.conns++
	return l
}

// releaseLimit forgets peer id's receive limit once its last connection
// has ended, unless id is one of the transport's peers: hellos from many
// unknown IDs leave nothing behind, while a peer keeps its bucket, debt
// included, across its connections, so that reconnecting does not refill
// it. An unknown ID that reconnects starts with a full bucket; the
// connection cap and the hello timeout bound how often it can.
func (t *Transport) releaseLimit(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.limits[id]
	if l.conns--; l.conns == 0 && t.peers[id] == nil {
		delete(t.limits, id)
	}
}

// forgetLimit drops the receive limit of id, a node that is no longer a
// peer, unless a connection of it still uses the limit (releaseLimit then
// drops it with the last one). Called with t.mu held.
func (t *Transport) forgetLimit(id uint64) {
	if l := t.limits[id]; l != nil && l.conns == 0 {
		delete(t.limits, id)
	}
}
