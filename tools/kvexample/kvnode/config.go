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
)

// The defaults of the optional fields of Config.
const (
	DefaultTickInterval      = 100 * time.Millisecond
	DefaultElectionTicks     = 10
	DefaultHeartbeatTicks    = 1
	DefaultSnapshotInterval  = 1000
	DefaultSnapshotChunkSize = 256 << 10
	DefaultKeepEntries       = 500
	DefaultRequestTimeout    = 5 * time.Second
	DefaultMaxPendingReqs    = 4096
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

	// Sync runs the synchronous Ready/Advance loop instead of the default
	// asynchronous storage mode (Config.AsyncStorageWrites).
	Sync bool
	// LeaseReads lets the leader answer reads from its lease
	// (raft.Config.LeaseReads): safe only while clock drift stays below
	// one tick per election timeout.
	LeaseReads bool

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
	// member must use the same values.
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

	// Logger receives the node's structured logs; nil discards them.
	Logger *slog.Logger
}

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
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c.Peers = append([]Peer(nil), c.Peers...)
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
	case c.TickInterval < 0 || c.RequestTimeout < 0:
		return fmt.Errorf("%w: a duration is negative", ErrInvalidConfig)
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
