package kvnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickraft/raft/tools/kvexample/transport"
	"github.com/tickraft/raft/tools/tickclock"
)

// Host is one process of the multi-group mode: the replicas, on this
// process, of every group of the cluster, driven by one event loop
// goroutine (hostloop.go), over one transport and one log. See GroupOf
// for the sharding and the package documentation for what groups share.
type Host struct {
	cfg Config
	log *slog.Logger
	// groups[i] is group i+1, nil while this process holds no replica
	// of it; the loop owns them.
	groups []*group
	// hosted is the set of groups with a replica here, read by the
	// transport (Config.HostsGroup).
	hosted *hostedSet
	net    groupNet
	glog   groupLog
	// tr is the socket transport, nil on an in-process network.
	tr      *transport.Transport
	httpLn  net.Listener
	httpSrv *http.Server
	dirLock io.Closer
	// httpAddrs are the HTTP addresses of the processes, this one's
	// included, by process ID.
	httpAddrs map[uint64]string

	reqs        chan *hostRequest
	unreachable *queue[uint64]

	// The loop's state: only the loop goroutine touches it.
	hostLoop

	counters hostCounters

	stop      chan struct{}
	stopOnce  sync.Once
	loopDone  chan struct{}
	closeOnce sync.Once
	closeErr  error
	cause     stopCause // why the loop stopped on its own
}

// hostCounters are the host's counters, read by /metrics and the demo
// without the loop.
type hostCounters struct {
	rounds, readys, writesApplied atomic.Uint64
	ticksGiven, groupTicks        atomic.Uint64
	// loopTicks counts the loop's turns taken by its ticker.
	loopTicks       atomic.Uint64
	peerDownReports atomic.Uint64
	// wrongGroup counts the received messages dropped before any group
	// saw them: addressed to another process, from this one, of a local
	// type, or for a group this process does not hold and that they
	// cannot create, and the removed notices ignored (for a group not
	// held or already dropping, or from a process that is not a member);
	// refused those a group's node refused (Step's typed
	// error; nothing changed).
	wrongGroup atomic.Uint64
	refused    atomic.Uint64
	// removedNotices counts the notices sent to removed processes.
	removedNotices atomic.Uint64
}

// StartHost starts the multi-group process cfg describes (cfg.Groups
// groups): it opens or bootstraps every group from cfg.DataDir, starts
// the transport in its group mode, the HTTP server and the event loop.
func StartHost(cfg Config) (*Host, error) {
	c := cfg.withDefaults()
	if err := c.validateHost(); err != nil {
		closeListeners(c)
		return nil, err
	}
	base := c.Logger
	c.Logger = base.With("node", c.ID)
	dirLock, err := lockDataDir(c.DataDir)
	if err != nil {
		closeListeners(c)
		return nil, err
	}
	if err := checkGroupsFile(c.DataDir, c.Groups, c.firstVoters()); err != nil {
		dirLock.Close()
		closeListeners(c)
		return nil, err
	}
	glog, err := openSharedGroupLog(filepath.Join(c.DataDir, "groups"), c.walSegmentBytes, c.Logger, nil)
	if err != nil {
		dirLock.Close()
		closeListeners(c)
		return nil, err
	}
	h, err := startHost(c, glog, dirLock, func(h *Host) (groupNet, error) { return h.startSocketNet(base) })
	if err != nil {
		dirLock.Close()
		return nil, err
	}
	return h, nil
}

// startHost opens the groups of c (a Config withDefaults filled) from
// glog, starts the network newNet returns, the HTTP server and the loop.
// On failure it closes the listeners c holds and glog.
func startHost(c Config, glog groupLog, dirLock io.Closer, newNet func(*Host) (groupNet, error)) (*Host, error) {
	h, err := newHost(c, glog, newNet)
	if err != nil {
		closeListeners(c)
		return nil, err
	}
	h.dirLock = dirLock
	if err := h.startHTTP(); err != nil {
		h.dirLock = nil
		h.closeIO()
		return nil, err
	}
	h.start()
	h.log.Info("host started", "groups", c.Groups, "raft", h.RaftAddr(), "http", h.HTTPAddr())
	return h, nil
}

// validateHost reports the first problem of a multi-group Config.
func (c *Config) validateHost() error {
	if err := c.validate(); err != nil {
		return err
	}
	switch {
	case c.Groups < 1:
		return fmt.Errorf("%w: Groups (-groups) must be at least 1", ErrInvalidConfig)
	case c.Join:
		return fmt.Errorf("%w: Join (-join) is not supported with several groups: give every process the same GroupVoters (-group-voters), and a process not among them starts with no group", ErrInvalidConfig)
	}
	for _, id := range c.GroupVoters {
		if id == 0 || (id != c.ID && !slices.ContainsFunc(c.Peers, func(p Peer) bool { return p.ID == id })) {
			return fmt.Errorf("%w: GroupVoters (-group-voters) names %d, which is neither this process nor one of Peers", ErrInvalidConfig, id)
		}
	}
	return nil
}

// newHost opens the groups of c from glog and the network newNet
// returns; it starts nothing.
func newHost(c Config, glog groupLog, newNet func(*Host) (groupNet, error)) (*Host, error) {
	h := &Host{
		cfg: c, log: c.Logger, glog: glog,
		httpAddrs:   map[uint64]string{},
		reqs:        make(chan *hostRequest, c.MaxPendingRequests),
		unreachable: newQueue[uint64](),
		stop:        make(chan struct{}), loopDone: make(chan struct{}),
		hostLoop: newHostLoop(),
		hosted:   newHostedSet(c.Groups),
	}
	for _, p := range c.Peers {
		h.httpAddrs[p.ID] = p.HTTPAddr
	}
	if err := h.openGroups(); err != nil {
		glog.close()
		return nil, err
	}
	// The first configurations of the groups bootstrapped, in one write.
	if err := glog.write(true); err != nil {
		glog.close()
		return nil, err
	}
	n, err := newNet(h)
	if err != nil {
		glog.close()
		return nil, err
	}
	h.net = n
	return h, nil
}

// firstVoters returns every group's first voters, sorted: GroupVoters, or
// every process.
func (c *Config) firstVoters() []uint64 {
	if len(c.GroupVoters) > 0 {
		return sortedIDs(c.GroupVoters)
	}
	ids := []uint64{c.ID}
	for _, p := range c.Peers {
		ids = append(ids, p.ID)
	}
	return sortedIDs(ids)
}

// openGroups opens the groups the log holds a replica of, and
// bootstraps, if this process is one of the first voters, those it holds
// nothing of. A group whose replica was dropped stays dropped.
func (h *Host) openGroups() error {
	voters := h.cfg.firstVoters()
	if !slices.Contains(voters, h.cfg.ID) {
		voters = nil
	}
	h.groups = make([]*group, h.cfg.Groups)
	for i := range h.groups {
		id := uint64(i + 1)
		d, err := h.glog.open(id, voters)
		if err != nil {
			return err
		}
		if d == nil {
			continue
		}
		// A replica re-created over a tombstone that restarts before it
		// recovered boots recovering again: its durable hard state says
		// so (raftpb.HardState.RecoveringTerm).
		g, err := h.newGroup(id, d, false)
		if err != nil {
			return fmt.Errorf("group %d: %w", id, err)
		}
		h.addGroup(g)
	}
	return nil
}

// start starts the event loop.
func (h *Host) start() {
	h.clock = tickclock.New(h.cfg.TickInterval, time.Now())
	go h.run()
}

// startHTTP opens the HTTP listener and serves the host's API.
func (h *Host) startHTTP() error {
	c := &h.cfg
	ln := c.HTTPListener
	c.HTTPListener = nil
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", c.HTTPAddr); err != nil {
			return fmt.Errorf("listening for HTTP on %s: %w", c.HTTPAddr, err)
		}
	}
	h.httpLn = ln
	h.httpAddrs[c.ID] = ln.Addr().String()
	h.httpSrv = &http.Server{
		Handler:           h.handler(),
		ReadHeaderTimeout: min(maxHeaderWait, c.HTTPReadTimeout),
		ReadTimeout:       c.HTTPReadTimeout,
		WriteTimeout:      c.HTTPWriteTimeout,
		IdleTimeout:       c.HTTPIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := h.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.log.Error("HTTP server stopped", "error", err)
		}
	}()
	return nil
}

// ID returns the host's process ID, the replica ID of all its groups.
func (h *Host) ID() uint64 { return h.cfg.ID }

// Groups returns the number of groups of the cluster's layout (the keys'
// sharding), whether or not this process holds a replica of each.
func (h *Host) Groups() int { return len(h.groups) }

// HostsGroup reports whether this process holds a replica of group. It
// is safe for concurrent use.
func (h *Host) HostsGroup(group uint64) bool { return h.hosted.hosts(group) }

// RaftAddr returns the address the host's transport listens on ("" on an
// in-process network).
func (h *Host) RaftAddr() string {
	if h.tr == nil {
		return ""
	}
	return h.tr.Addr().String()
}

// HTTPAddr returns the address of the host's HTTP API.
func (h *Host) HTTPAddr() string { return h.httpLn.Addr().String() }

// TransportStats returns the counters of the host's transport, counted
// where frames are written to and read from its sockets (zero on an
// in-process network).
func (h *Host) TransportStats() transport.Stats {
	if h.tr == nil {
		return transport.Stats{}
	}
	return h.tr.Stats()
}

// Done returns a channel closed when the event loop has stopped.
func (h *Host) Done() <-chan struct{} { return h.loopDone }

// Err returns the error that stopped the event loop on its own, or nil.
func (h *Host) Err() error {
	return h.cause.get()
}

func (h *Host) fail(err error) {
	h.cause.set(err)
	h.log.Error("host stopping on a fatal error", "error", err)
}

// Stop stops the host cleanly: the loop finishes its round, the HTTP
// server and the transport close, the log is synced and closed.
func (h *Host) Stop() error {
	h.halt()
	if h.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := h.httpSrv.Shutdown(ctx); err != nil {
			h.log.Warn("HTTP requests still running at shutdown are cut off", "error", err)
		}
	}
	h.closeIO()
	return errors.Join(h.Err(), h.closeErr)
}

// Kill stops the host abruptly, as a crash would: the loop stops where it
// is, the sockets close at once, the log is closed without the final sync
// of a clean stop (see walGroupLog.abandon).
func (h *Host) Kill() {
	h.halt()
	if h.httpSrv != nil {
		h.httpSrv.Close()
	}
	h.closeOnce.Do(func() {
		h.net.close()
		h.glog.abandon()
		if h.dirLock != nil {
			h.dirLock.Close()
		}
	})
}

// halt stops the event loop and waits for it.
func (h *Host) halt() {
	h.stopOnce.Do(func() { close(h.stop) })
	<-h.loopDone
}

// closeIO closes the HTTP server, the network and the log, once.
func (h *Host) closeIO() {
	h.closeOnce.Do(func() {
		if h.httpSrv != nil {
			h.httpSrv.Close()
		}
		h.closeErr = errors.Join(h.net.close(), h.glog.close())
		if h.dirLock != nil {
			h.dirLock.Close()
		}
		h.log.Info("host stopped")
	})
}
