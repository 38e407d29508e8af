package transport

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"time"
)

// The defaults of the optional fields of Config.
const (
	DefaultRecvBufferMsgs   = 1024
	DefaultMaxQueueMsgs     = 1024
	DefaultMaxQueueBytes    = 16 << 20
	DefaultMaxFrameBytes    = 64 << 20
	DefaultWriteBufferBytes = 64 << 10
	DefaultDialTimeout      = time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultHelloTimeout     = 5 * time.Second
	DefaultMinBackoff       = 20 * time.Millisecond
	DefaultMaxBackoff       = time.Second
	DefaultMaxInboundConns  = 64
	DefaultFrameTimeout     = 30 * time.Second
	DefaultMaxRecvMsgsPerS  = 20000
)

// ErrInvalidConfig is wrapped by every error New returns for a Config it
// refuses.
var ErrInvalidConfig = errors.New("transport: invalid config")

// Config configures a Transport. ID and one of ListenAddr and Listener are
// required; the zero value of every other field is a safe default.
type Config struct {
	// ID is the local node's ID; it must not be zero.
	ID uint64
	// ListenAddr is the TCP address to listen on, such as "127.0.0.1:0"
	// (Transport.Addr tells the port chosen). It is ignored when Listener
	// is set.
	ListenAddr string
	// Listener, when not nil, is used instead of listening on ListenAddr.
	// The Transport owns it from New on and closes it, even when New fails.
	Listener net.Listener
	// Peers maps the IDs of the other nodes to their addresses. New copies
	// it; AddPeer and RemovePeer change the copy.
	Peers map[uint64]string
	// Unreachable, when not nil, is called with a peer's ID when a message
	// to it was dropped or a connection to it failed. It is called from the
	// transport's goroutines and from inside Send on the caller's goroutine,
	// so it must be safe for concurrent use, must not block and must not
	// call the Transport. The example server records the ID and its event
	// loop calls RawNode.ReportUnreachable.
	Unreachable func(id uint64)
	// Logger receives the transport's logs; nil discards them.
	Logger *slog.Logger

	// RecvBufferMsgs is the capacity of the channel of received messages
	// (default DefaultRecvBufferMsgs); in multi-group mode, of received
	// batches, each of up to MaxBatchMsgs messages. A batch waiting there
	// holds its frame (up to MaxFrameBytes: its messages' byte fields
	// alias it) and its decoded messages (about 170 bytes each, at most
	// one per 3 bytes of the frame and MaxBatchMsgs, so under 700 KiB),
	// so a full channel in multi-group mode holds up to RecvBufferMsgs
	// times that: a process that takes large frames from many peers
	// should lower it.
	RecvBufferMsgs int
	// MaxQueueMsgs bounds the messages queued for one peer (default
	// DefaultMaxQueueMsgs).
	MaxQueueMsgs int
	// MaxQueueBytes bounds the encoded bytes queued for one peer (default
	// DefaultMaxQueueBytes). A message larger than the bound is still
	// accepted when the peer's queue is empty, so that a large snapshot can
	// be sent.
	MaxQueueBytes int
	// MaxFrameBytes bounds the encoded size of one message, sent or
	// received (default DefaultMaxFrameBytes, at most math.MaxUint32); in
	// multi-group mode, of one batch, and of one message with its record's
	// overhead (a few bytes).
	MaxFrameBytes int
	// WriteBufferBytes is the size of each outgoing connection's
	// bufio.Writer (default DefaultWriteBufferBytes).
	WriteBufferBytes int
	// DialTimeout bounds one dial (default DefaultDialTimeout).
	DialTimeout time.Duration
	// WriteTimeout bounds the writing of one batch of frames; a peer that
	// stops reading loses its connection after it (default
	// DefaultWriteTimeout).
	WriteTimeout time.Duration
	// HelloTimeout bounds the wait for an incoming connection's hello
	// (default DefaultHelloTimeout).
	HelloTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between dials to a peer that
	// failed (defaults DefaultMinBackoff and DefaultMaxBackoff).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Seed seeds the jitter of the backoff; zero means ID.
	Seed uint64

	// MaxInboundConns caps the incoming connections open at once (default
	// DefaultMaxInboundConns); one more is closed as soon as it is
	// accepted, and counted in Stats.RejectedConns. With MaxFrameBytes it
	// bounds what strangers can make the transport hold in memory: about
	// MaxInboundConns * (MaxFrameBytes + 64 KiB).
	MaxInboundConns int
	// FrameTimeout is how long an incoming connection may take to deliver
	// its next frame, whole, counted from the end of the previous one or
	// of the hello (default DefaultFrameTimeout). A live peer sends
	// heartbeats far more often; a connection silent for longer, or one
	// dribbling a frame, is closed.
	FrameTimeout time.Duration
	// MaxRecvMsgsPerSec bounds the messages per second the connections of
	// one peer ID may deliver to Receive, with a burst of as many (default
	// DefaultMaxRecvMsgsPerS); the frames beyond it are read and dropped,
	// counted in Stats.RateDrops, so that a flood cannot make the node
	// step without bound. In multi-group mode a batch is delivered or
	// dropped whole: it is delivered when the bucket holds a token for
	// each of its messages, and takes them; a batch of more messages than
	// the rate is delivered only from a full bucket and runs it into
	// debt. So the messages delivered at one instant never exceed the
	// larger of MaxRecvMsgsPerSec and one batch, and the long-run rate
	// stays bounded. A peer's bucket outlives its connections (a peer
	// that reconnects keeps its debt); that of an ID that is not a peer
	// is dropped with its last connection.
	MaxRecvMsgsPerSec int

	// RemovedAt, when not nil, tells whether node id was removed from the
	// cluster by a configuration change this node has applied, and at
	// which index. A connection from such a node is answered with a
	// removed notice (RemovedNoticeBytes) and closed. It is called from the
	// transport's goroutines: it must be safe for concurrent use and quick.
	// A node merely unknown to this one must not be reported: a follower
	// must accept a new leader before it learns of its addition.
	RemovedAt func(id uint64) (index uint64, removed bool)
	// ToldRemoved, when not nil, is called with the index a peer's removed
	// notice carries: that peer applied this node's removal at that index.
	// It is called from the transport's goroutines and must not block.
	ToldRemoved func(peer, index uint64)

	// ClusterID names the cluster; every hello carries it (as
	// ClusterToken) and a hello of another cluster is refused, so that two
	// clusters misconfigured onto each other's addresses do not mix. It
	// proves nothing against an attacker: that is TLS's work. With TLS it
	// may be left empty and is then TLS.ClusterID; otherwise the two must
	// be equal.
	ClusterID string
	// GroupLayout, in the multi-group mode (Groups), names how the
	// cluster's keys are laid out over its groups (the example server
	// puts the number of groups in it). Every process of a cluster must
	// be given the same one: it is hashed with ClusterID into the hello's
	// token (GroupsToken), so that processes that would route a key to
	// different groups refuse each other (ErrIdentity) instead of serving
	// stale reads. It is ignored in the single-group mode.
	GroupLayout string
	// TLS, when not nil, makes every connection mutual TLS and binds the
	// hello's sender to the certificate (see TLSConfig). Without it the
	// transport authenticates nobody: anyone who reaches the listen port
	// can send as any node ID, and New logs a warning saying so.
	TLS *TLSConfig

	// Groups selects multi-group mode (see the package documentation):
	// the transport carries the messages of many Raft groups, each
	// replicated on the same processes, over one connection per pair of
	// processes, as batches of GroupMessages, with SendGroups and
	// ReceiveGroups instead of Send and Receive. ID and the peers' IDs
	// are then process IDs, and every group's replica on a process has
	// that process's ID as its replica ID. A multi-group transport and a
	// single-group one refuse each other's connections (ErrGroupMode).
	Groups bool
	// HostsGroup, when not nil in multi-group mode, reports whether this
	// process hosts group; the messages of a received batch for a group
	// it does not host are dropped and counted in Stats.UnhostedDrops,
	// the rest of the batch delivered. Removed notices
	// (GroupMessage.Removed) are always delivered. Nil accepts every
	// group. The answer may change while the transport runs (the host
	// adds and removes replicas): it is asked once per message of each
	// received batch, just before the batch is delivered, from the
	// goroutine reading that peer's connection, several at once for
	// several peers, so it must be safe for concurrent use and quick. A
	// message asked about before its group's removal may still reach
	// ReceiveGroups after it: the application drops those.
	HostsGroup func(group uint64) bool

	// now is the clock of the receive rate bound; nil is time.Now. Tests
	// replace it.
	now func() time.Time
}

// withDefaults returns a copy of c with its zero optional fields set to
// their defaults and its Peers map copied. It does not modify c.
func (c Config) withDefaults() Config {
	setDefault(&c.RecvBufferMsgs, DefaultRecvBufferMsgs)
	setDefault(&c.MaxQueueMsgs, DefaultMaxQueueMsgs)
	setDefault(&c.MaxQueueBytes, DefaultMaxQueueBytes)
	setDefault(&c.MaxFrameBytes, DefaultMaxFrameBytes)
	setDefault(&c.WriteBufferBytes, DefaultWriteBufferBytes)
	setDefault(&c.DialTimeout, DefaultDialTimeout)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.HelloTimeout, DefaultHelloTimeout)
	setDefault(&c.MinBackoff, DefaultMinBackoff)
	setDefault(&c.MaxBackoff, DefaultMaxBackoff)
	setDefault(&c.MaxInboundConns, DefaultMaxInboundConns)
	setDefault(&c.FrameTimeout, DefaultFrameTimeout)
	setDefault(&c.MaxRecvMsgsPerSec, DefaultMaxRecvMsgsPerS)
	if c.TLS != nil && c.ClusterID == "" {
		c.ClusterID = c.TLS.ClusterID
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.Seed == 0 {
		c.Seed = c.ID
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.Level(math.MaxInt32)}))
	}
	peers := make(map[uint64]string, len(c.Peers))
	for id, addr := range c.Peers {
		peers[id] = addr
	}
	c.Peers = peers
	return c
}

// setDefault sets *v to def when *v is zero.
func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// validate reports the first problem of a Config that withDefaults filled.
func (c *Config) validate() error {
	switch {
	case c.ID == 0:
		return fmt.Errorf("%w: ID is zero", ErrInvalidConfig)
	case c.Listener == nil && c.ListenAddr == "":
		return fmt.Errorf("%w: neither ListenAddr nor Listener is set", ErrInvalidConfig)
	case c.RecvBufferMsgs < 0, c.MaxQueueMsgs < 0, c.MaxQueueBytes < 0, c.WriteBufferBytes < 0,
		c.MaxInboundConns < 0, c.MaxRecvMsgsPerSec < 0:
		return fmt.Errorf("%w: a size is negative", ErrInvalidConfig)
	case c.MaxFrameBytes < 0 || int64(c.MaxFrameBytes) > math.MaxUint32:
		return fmt.Errorf("%w: MaxFrameBytes %d is outside [0, %d]", ErrInvalidConfig, c.MaxFrameBytes, uint32(math.MaxUint32))
	case c.DialTimeout < 0, c.WriteTimeout < 0, c.HelloTimeout < 0, c.MinBackoff < 0, c.FrameTimeout < 0:
		return fmt.Errorf("%w: a duration is negative", ErrInvalidConfig)
	case c.MaxBackoff < c.MinBackoff:
		return fmt.Errorf("%w: MaxBackoff %v is below MinBackoff %v", ErrInvalidConfig, c.MaxBackoff, c.MinBackoff)
	}
	if c.TLS != nil {
		if err := checkTLSConfig(c.TLS); err != nil {
			return err
		}
		if c.ClusterID != c.TLS.ClusterID {
			return fmt.Errorf("%w: ClusterID %q is not TLS.ClusterID %q", ErrInvalidConfig, c.ClusterID, c.TLS.ClusterID)
		}
	}
	for id, addr := range c.Peers {
		if err := checkPeer(c.ID, id, addr); err != nil {
			return err
		}
	}
	return nil
}

// checkPeer reports whether id and addr may name a peer of node local.
func checkPeer(local, id uint64, addr string) error {
	switch {
	case id == 0:
		return fmt.Errorf("%w: peer ID is zero", ErrInvalidConfig)
	case id == local:
		return fmt.Errorf("%w: peer %d is the local node", ErrInvalidConfig, id)
	case addr == "":
		return fmt.Errorf("%w: peer %d has no address", ErrInvalidConfig, id)
	}
	return nil
}
