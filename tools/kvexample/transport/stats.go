package transport

import "sync/atomic"

// Stats are the counters of a Transport since New. Under failures they are
// approximate: a frame counted as sent reached the kernel, not necessarily
// the peer, and the frames of a batch that was not flushed when its
// connection broke count as drops even if some of their bytes left.
type Stats struct {
	// FramesSent and BytesSent count the frames, and their bytes with
	// their length prefixes, flushed to outgoing connections.
	FramesSent uint64
	BytesSent  uint64
	// FramesReceived and BytesReceived count the well-formed frames read
	// from incoming connections and handed to the receive channel.
	FramesReceived uint64
	BytesReceived  uint64
	// MsgsSent and MsgsReceived count the messages those frames carried:
	// one per frame in single-group mode, a batch's in multi-group mode,
	// so that MsgsSent/FramesSent is the messages per frame.
	MsgsSent     uint64
	MsgsReceived uint64
	// DecodeErrors counts incoming connections closed because they broke
	// the framing (an error wrapping ErrMalformed, but not ErrGroupMode).
	DecodeErrors uint64
	// Drops counts messages given to Send that will never be written: the
	// peer's queue was full, the peer is unknown or was removed, the
	// message is too large or of a local type, the transport was closed, or
	// the connection broke before the message was flushed.
	Drops uint64
	// Unreachable counts the calls of Config.Unreachable.
	Unreachable uint64
	// Reconnects counts outgoing connections established after a failed
	// dial or a broken connection to the same peer.
	Reconnects uint64
	// DialFailures counts failed dials.
	DialFailures uint64
	// RejectedConns counts incoming connections closed at once because
	// Config.MaxInboundConns were open.
	RejectedConns uint64
	// RateDrops counts received messages dropped because their peer was
	// above Config.MaxRecvMsgsPerSec (in single-group mode each is a
	// frame).
	RateDrops uint64
	// GroupModeErrors counts incoming connections closed because their
	// hello was of the other group mode (an error wrapping ErrGroupMode):
	// a single-group peer of a multi-group transport or the reverse.
	GroupModeErrors uint64
	// UnhostedDrops counts received messages of a well-formed batch
	// dropped because Config.HostsGroup said this process does not host
	// their group.
	UnhostedDrops uint64
	// IdentityErrors counts incoming connections closed because their
	// TLS handshake failed or their certificate does not name the hello's
	// sender in this cluster (an error wrapping ErrIdentity).
	IdentityErrors uint64
}

// counters are the live, atomically updated Stats.
type counters struct {
	framesSent, bytesSent         atomic.Uint64
	framesReceived, bytesReceived atomic.Uint64
	decodeErrors, drops           atomic.Uint64
	unreachable, reconnects       atomic.Uint64
	dialFailures                  atomic.Uint64
	rejectedConns, rateDrops      atomic.Uint64
	identityErrors                atomic.Uint64
	msgsSent, msgsReceived        atomic.Uint64
	groupModeErrors, unhosted     atomic.Uint64
}

// snapshot returns the current values of the counters.
func (c *counters) snapshot() Stats {
	return Stats{
		FramesSent:      c.framesSent.Load(),
		BytesSent:       c.bytesSent.Load(),
		FramesReceived:  c.framesReceived.Load(),
		BytesReceived:   c.bytesReceived.Load(),
		DecodeErrors:    c.decodeErrors.Load(),
		Drops:           c.drops.Load(),
		Unreachable:     c.unreachable.Load(),
		Reconnects:      c.reconnects.Load(),
		DialFailures:    c.dialFailures.Load(),
		RejectedConns:   c.rejectedConns.Load(),
		RateDrops:       c.rateDrops.Load(),
		IdentityErrors:  c.identityErrors.Load(),
		MsgsSent:        c.msgsSent.Load(),
		MsgsReceived:    c.msgsReceived.Load(),
		GroupModeErrors: c.groupModeErrors.Load(),
		UnhostedDrops:   c.unhosted.Load(),
	}
}
