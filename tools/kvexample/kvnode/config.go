package kvnode

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tickraft/raft/tools/kvexample/transport"
)

// The defaults of the optional fields of Config.
const (
	DefaultTickInterval      = 100 * time.Millisecond
	DefaultElectionTicks     = 10
	DefaultHeartbeatTicks    = 1
	DefaultSnapshotInterval  = 10000
	DefaultSnapshotChunkSize = 256 << 10
	DefaultKeepEntries       = 500
	DefaultRequestTimeout    = 5 * time.Second
	DefaultMaxPendingReqs    = 4096
	DefaultMaxKeyBytes       = 4 << 10
	DefaultHTTPReadTimeout   = 10 * time.Second
	DefaultHTTPIdleTimeout   = 60 * time.Second
	DefaultMaxInboundConns   = 64
	DefaultMaxFrameBytes     = 8 << 20
	DefaultFrameTimeout      = 30 * time.Second
	DefaultMaxRecvMsgsPerSec = 20000
)

// ErrInvalidConfig is wrapped by every error Start returns for a Config it
// refuses.
var ErrInvalidConfig = errors.New("kvnode: invalid config")

// Peer names another member of the cluster and its addresses.
type Peer struct {
	ID       uint64
	RaftAddr string
	HTTPAddr string
}

// Config configures a Node. ID, DataDir, and a raft and an HTTP address
// (or listener) are required; the zero value of every other field is a safe
// default.
type Config struct {
	// ID is the node's Raft ID; it must not be zero.
	ID uint64
	// DataDir holds the node's write-ahead log (DataDir/wal) and snapshots
	// (DataDir/snap). It is created when missing.
	DataDir string

	// RaftAddr is the address the transport listens on ("127.0.0.1:0"
	// picks a port), unless RaftListener is set; the Node then owns and
	// closes the listener.
	RaftAddr     string
	RaftListener net.Listener
	// HTTPAddr is the address of the HTTP API, unless HTTPListener is set;
	// the Node then owns and closes the listener.
	HTTPAddr     string
	HTTPListener net.Listener

	// Peers are the other members at boot. A new cluster (an empty DataDir
	// and not Join) starts with this node and Peers as its voters; every
	// node of it must be given the same members. Peers also tell a
	// restarting or joining node where the others are.
	Peers []Peer
	// Join starts a node with an empty DataDir as a member-to-be, with no
	// configuration: it waits for the leader, to which it was added with
	// POST /members, to send it a snapshot.
	Join bool

	// Groups is the number of Raft groups of a multi-group process
	// (StartHost; the flag -groups): keys are sharded over them
	// (GroupOf). Start runs one group and ignores it.
	Groups int
	// GroupVoters, on a multi-group process, are the voters every group
	// starts with when a new cluster is bootstrapped (the flag
	// -group-voters); empty means this process and every one of Peers.
	// Every process of the cluster must be given the same list. A
	// process of Peers not in it starts hosting no group: it holds a
	// group's replica once that group's leader adds it (POST
	// /groups/{g}/members). It matters only for an empty DataDir.
	GroupVoters []uint64
	// DisableQuiesce keeps a multi-group process's idle groups awake
	// (raft.Config.Quiesce off): their leaders heartbeat at every
	// heartbeat interval. Every process must set the same value.
	DisableQuiesce bool

	// Sync runs the synchronous Ready/Advance loop instead of the default
	// asynchronous storage mode (Config.AsyncStorageWrites).
	Sync bool
	// LeaseReads lets the leader answer reads from its lease
	// (raft.Config.LeaseReads): safe only while clock drift stays below
	// one tick per election timeout.
	LeaseReads bool
	// RecoverLostLog boots the node in recovering mode
	// (raft.Config.Recovering) after its log lost entries it had
	// acknowledged: without it such a node refuses to start with a
	// *raft.LostLogError. Only when the hard state (term and vote) is
	// known intact; otherwise remove the member and add it back under a
	// new ID.
	RecoverLostLog bool

	// TickInterval is the wall time of one Raft tick (default
	// DefaultTickInterval). ElectionTicks and HeartbeatTicks are the
	// Raft timeouts in ticks (defaults DefaultElectionTicks,
	// DefaultHeartbeatTicks).
	TickInterval   time.Duration
	ElectionTicks  int
	HeartbeatTicks int

	// SnapshotInterval makes every member snapshot its state at each
	// applied index that is a multiple of it (default
	// DefaultSnapshotInterval). SnapshotChunkSize is the chunk size of the
	// chunked snapshot transfer (default DefaultSnapshotChunkSize). Every
	// member must use the same values. The default interval spaces
	// snapshots as etcd does: a snapshot is the whole state, and at 1,000
	// entries the snapshots of 10,000 keys of 128 B cost more disk per
	// write than the log itself (BENCHMARKS.md).
	SnapshotInterval  uint64
	SnapshotChunkSize uint64
	// KeepEntries is how many entries before a snapshot's index stay in
	// the log after it, so that a follower a little behind catches up
	// with entries rather than a snapshot (default DefaultKeepEntries).
	KeepEntries uint64

	// RequestTimeout bounds how long a client request waits for its
	// answer (default DefaultRequestTimeout).
	RequestTimeout time.Duration
	// MaxPendingRequests bounds the client requests waiting for the event
	// loop; beyond it requests are refused as busy (default
	// DefaultMaxPendingReqs).
	MaxPendingRequests int

	// AdminToken, when not empty, is the bearer token the admin
	// endpoints (membership, leader transfer, /debug/pprof/) require:
	// "Authorization: Bearer <token>", compared in constant time. With no
	// token the admin endpoints answer 403 forbidden, unless
	// InsecureAdmin opens them to anyone who reaches the HTTP port.
	AdminToken    string
	InsecureAdmin bool

	// MaxKeyBytes bounds the length of a key (default DefaultMaxKeyBytes);
	// a longer one is refused with key_too_large.
	MaxKeyBytes int
	// HTTPReadTimeout bounds the reading of a request, headers and body
	// (default DefaultHTTPReadTimeout; the headers alone get at most 5 s).
	// HTTPWriteTimeout bounds a request from the end of its headers to
	// the end of its answer (default RequestTimeout plus HTTPReadTimeout
	// plus a second); /debug/pprof/ lifts it for its streaming profiles.
	// HTTPIdleTimeout closes a keep-alive connection that sends no
	// request for that long (default DefaultHTTPIdleTimeout).
	HTTPReadTimeout  time.Duration
	HTTPWriteTimeout time.Duration
	HTTPIdleTimeout  time.Duration

	// The bounds of the transport's inbound side (see package transport):
	// MaxInboundConns caps the open incoming connections (default
	// DefaultMaxInboundConns); MaxFrameBytes caps one frame, and so what
	// one connection may hold buffered (default DefaultMaxFrameBytes; it
	// must exceed SnapshotChunkSize and MaxValueBytes with room to spare);
	// FrameTimeout is how long a connection may take to deliver its next
	// frame (default DefaultFrameTimeout; a live peer sends heartbeats far
	// more often); MaxRecvMsgsPerSec bounds the messages one peer can make
	// the node step per second, beyond which they are dropped and counted
	// (default DefaultMaxRecvMsgsPerSec). On a Host (Groups, several groups
	// in one process) it is per peer and per group: the host's transport
	// takes MaxRecvMsgsPerSec times the number of groups per second from
	// one peer process, with a burst of as many.
	MaxInboundConns   int
	MaxFrameBytes     int
	FrameTimeout      time.Duration
	MaxRecvMsgsPerSec int

	// ClusterID names the cluster in every transport hello, so that nodes
	// of two clusters pointed at each other refuse each other's
	// connections (transport.Config.ClusterID). With TLS it must be
	// TLS.ClusterID or empty.
	ClusterID string
	// TLS, when not nil, runs the Raft transport over mutual TLS: every
	// member's certificate names it tickraft://<cluster>/<id> and is
	// signed by the cluster's CAs (see transport.TLSConfig). Without it
	// the transport authenticates nobody and logs a warning at start.
	TLS *transport.TLSConfig

	// Logger receives the node's structured logs; nil discards them.
	Logger *slog.Logger

	// walSegmentBytes is the segment size of a host's shared log (0: the
	// wal's default); tests set it small to fill segments quickly.
	walSegmentBytes int64
}

// frameSlack is the room MaxFrameBytes must leave above the largest
// payload for the rest of a message (its header fields and entry framing).
const frameSlack = 64 << 10

// withDefaults returns a copy of c with its zero optional fields set.
func (c Config) withDefaults() Config {
	setDefault(&c.TickInterval, DefaultTickInterval)
	setDefault(&c.ElectionTicks, DefaultElectionTicks)
	setDefault(&c.HeartbeatTicks, DefaultHeartbeatTicks)
	setDefault(&c.SnapshotInterval, DefaultSnapshotInterval)
	setDefault(&c.SnapshotChunkSize, DefaultSnapshotChunkSize)
	setDefault(&c.KeepEntries, DefaultKeepEntries)
	setDefault(&c.RequestTimeout, DefaultRequestTimeout)
	setDefault(&c.MaxPendingRequests, DefaultMaxPendingReqs)
	setDefault(&c.MaxKeyBytes, DefaultMaxKeyBytes)
	setDefault(&c.HTTPReadTimeout, DefaultHTTPReadTimeout)
	setDefault(&c.HTTPWriteTimeout, c.RequestTimeout+c.HTTPReadTimeout+time.Second)
	setDefault(&c.HTTPIdleTimeout, DefaultHTTPIdleTimeout)
	setDefault(&c.MaxInboundConns, DefaultMaxInboundConns)
	setDefault(&c.MaxFrameBytes, DefaultMaxFrameBytes)
	setDefault(&c.FrameTimeout, DefaultFrameTimeout)
	setDefault(&c.MaxRecvMsgsPerSec, DefaultMaxRecvMsgsPerSec)
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c.Peers = append([]Peer(nil), c.Peers...)
	c.GroupVoters = append([]uint64(nil), c.GroupVoters...)
	return c
}

func setDefault[T int | uint64 | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// validate reports the first problem of a Config withDefaults filled.
func (c *Config) validate() error {
	switch {
	case c.ID == 0:
		return fmt.Errorf("%w: ID is zero", ErrInvalidConfig)
	case c.DataDir == "":
		return fmt.Errorf("%w: DataDir is empty", ErrInvalidConfig)
	case c.RaftListener == nil && c.RaftAddr == "":
		return fmt.Errorf("%w: no raft address", ErrInvalidConfig)
	case c.HTTPListener == nil && c.HTTPAddr == "":
		return fmt.Errorf("%w: no HTTP address", ErrInvalidConfig)
	case c.TickInterval < 0 || c.RequestTimeout < 0 || c.HTTPReadTimeout < 0 ||
		c.HTTPWriteTimeout < 0 || c.HTTPIdleTimeout < 0 || c.FrameTimeout < 0:
		return fmt.Errorf("%w: a duration is negative", ErrInvalidConfig)
	case c.MaxKeyBytes < 0 || c.MaxInboundConns < 0 || c.MaxFrameBytes < 0 || c.MaxRecvMsgsPerSec < 0:
		return fmt.Errorf("%w: a bound is negative", ErrInvalidConfig)
	case c.Join && len(c.Peers) == 0:
		return fmt.Errorf("%w: Join (-join) needs Peers (-peers): a joining node must know where the cluster's members are to answer them", ErrInvalidConfig)
	case c.AdminToken != "" && c.InsecureAdmin:
		return fmt.Errorf("%w: AdminToken (-admin-token) and InsecureAdmin (-insecure-admin) contradict each other: give one", ErrInvalidConfig)
	case uint64(c.MaxFrameBytes) < c.SnapshotChunkSize+frameSlack || c.MaxFrameBytes < MaxValueBytes+c.MaxKeyBytes+frameSlack:
		return fmt.Errorf("%w: MaxFrameBytes (-max-frame-bytes) %d cannot carry a snapshot chunk of %d bytes or a value of %d bytes with its key and %d bytes of framing",
			ErrInvalidConfig, c.MaxFrameBytes, c.SnapshotChunkSize, MaxValueBytes, frameSlack)
	case c.ElectionTicks <= c.HeartbeatTicks:
		return fmt.Errorf("%w: ElectionTicks (%d) must exceed HeartbeatTicks (%d)",
			ErrInvalidConfig, c.ElectionTicks, c.HeartbeatTicks)
	}
	seen := map[uint64]bool{c.ID: true}
	for _, p := range c.Peers {
		if p.ID == 0 || seen[p.ID] || p.RaftAddr == "" {
			return fmt.Errorf("%w: peer %d is zero, repeated, this node, or has no raft address",
				ErrInvalidConfig, p.ID)
		}
		seen[p.ID] = true
	}
	return nil
}

// ParsePeers parses a comma-separated list of peers, each written
// ID=RAFTADDR=HTTPADDR (the HTTP address may be left out:
// ID=RAFTADDR). An empty string is no peers.
func ParsePeers(s string) ([]Peer, error) {
	var peers []Peer
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, "=")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("peer %q: want ID=RAFTADDR=HTTPADDR", item)
		}
		id, err := strconv.ParseUint(parts[0], 10, 64)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("peer %q: bad ID", item)
		}
		p := Peer{ID: id, RaftAddr: parts[1]}
		if len(parts) == 3 {
			p.HTTPAddr = parts[2]
		}
		peers = append(peers, p)
	}
	return peers, nil
}

// FormatPeers writes peers the way ParsePeers reads them.
func FormatPeers(peers []Peer) string {
	items := make([]string, len(peers))
	for i, p := range peers {
		items[i] = fmt.Sprintf("%d=%s=%s", p.ID, p.RaftAddr, p.HTTPAddr)
	}
	return strings.Join(items, ",")
}
