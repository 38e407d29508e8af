package transport

import (
	"sync"
	"sync/atomic"
)

// PeerStats are the counters of a Transport for one peer since New: what
// was sent to it, received from it, dropped on its way to it, and the
// incoming connections from it closed for breaking the framing. Counting
// follows Stats.
type PeerStats struct {
	FramesSent     uint64
	BytesSent      uint64
	FramesReceived uint64
	BytesReceived  uint64
	// MsgsSent and MsgsReceived count the messages of those frames (see
	// Stats.MsgsSent).
	MsgsSent     uint64
	MsgsReceived uint64
	Drops        uint64
	DialFailures uint64
	// RefusedConns counts incoming connections from the peer closed
	// because they broke the framing after a valid hello.
	RefusedConns uint64
}

// UnknownPeer is the peer ID under which PeerStats counts the incoming
// connections refused before their hello named a sender. (A message
// dropped because its peer is unknown is counted under its own To.)
const UnknownPeer = 0

// peerCounters are the live, atomically updated PeerStats of one peer.
type peerCounters struct {
	framesSent, bytesSent         atomic.Uint64
	framesReceived, bytesReceived atomic.Uint64
	msgsSent, msgsReceived        atomic.Uint64
	drops, dialFailures, refused  atomic.Uint64
}

// peerTable holds the peerCounters by peer ID, created on first use and
// kept after the peer is removed (counters only grow).
type peerTable struct {
	m sync.Map // uint64 -> *peerCounters
}

// of returns the counters of peer id.
func (pt *peerTable) of(id uint64) *peerCounters {
	if c, ok := pt.m.Load(id); ok {
		return c.(*peerCounters)
	}
	c, _ := pt.m.LoadOrStore(id, new(peerCounters))
	return c.(*peerCounters)
}

// PeerStats returns the counters of every peer the transport has counted
// anything for, by peer ID (UnknownPeer for connections refused before
// their hello).
func (t *Transport) PeerStats() map[uint64]PeerStats {
	out := map[uint64]PeerStats{}
	t.perPeer.m.Range(func(k, v any) bool {
		c := v.(*peerCounters)
		out[k.(uint64)] = PeerStats{
			FramesSent: c.framesSent.Load(), BytesSent: c.bytesSent.Load(),
			FramesReceived: c.framesReceived.Load(), BytesReceived: c.bytesReceived.Load(),
			MsgsSent: c.msgsSent.Load(), MsgsReceived: c.msgsReceived.Load(),
			Drops: c.drops.Load(), DialFailures: c.dialFailures.Load(), RefusedConns: c.refused.Load(),
		}
		return true
	})
	return out
}

// countDrops counts n messages to p dropped.
func (p *peer) countDrops(n uint64) {
	p.t.stats.drops.Add(n)
	p.t.perPeer.of(p.id).drops.Add(n)
}

// countSent counts frames carrying msgs messages in bytes bytes flushed to
// p.
func (p *peer) countSent(frames, msgs, bytes uint64) {
	p.t.stats.framesSent.Add(frames)
	p.t.stats.msgsSent.Add(msgs)
	p.t.stats.bytesSent.Add(bytes)
	pc := p.t.perPeer.of(p.id)
	pc.framesSent.Add(frames)
	pc.msgsSent.Add(msgs)
	pc.bytesSent.Add(bytes)
}

// countReceived counts a frame of n bytes carrying msgs messages received
// from peer from and handed to the receive channel.
func (t *Transport) countReceived(from uint64, msgs, n uint64) {
	t.stats.framesReceived.Add(1)
	t.stats.msgsReceived.Add(msgs)
	t.stats.bytesReceived.Add(n)
	pc := t.perPeer.of(from)
	pc.framesReceived.Add(1)
	pc.msgsReceived.Add(msgs)
	pc.bytesReceived.Add(n)
}
