package kvnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
	"github.com/tickraft/raft/tools/raftloop"
	"github.com/tickraft/raft/tools/raftslog"
)

// AddrsFile is the name of the file, in the data directory, where a
// started node writes its listening addresses as JSON ({"raft": ...,
// "http": ...}), so that a script or a test that let it pick its ports
// can find them.
const AddrsFile = "addrs.json"

// Node is one running member of the key-value cluster: its event loop,
// its disk worker (asynchronous mode), its transport and its HTTP server.
type Node struct {
	cfg Config
	log *slog.Logger
	// raftLog receives the library's lines, which carry node, term and
	// peer themselves.
	raftLog *slog.Logger
	rn      *raft.RawNode
	// loop drives rn in both storage modes (readyloop.go).
	loop    *raftloop.Loop
	storage *raft.MemoryStorage
	disk    *disk
	metrics *metrics // metrics.go
	tr      *transport.Transport
	httpLn  net.Listener
	httpSrv *http.Server
	// dirLock holds the data directory's LockFile locked (lock.go).
	dirLock io.Closer
	// removal is shared with the transport (removal.go).
	removal removal

	// The event loop's state: only the loop goroutine touches it.
	loopState

	reqs        chan *request
	jobs        *queue[diskJob]
	results     *queue[diskResult]
	unreachable *queue[uint64]
	snapper     snapshotter // the snapshot worker's queues (snapshotter.go)

	stop      chan struct{} // closed to stop the loop and the worker
	stopOnce  sync.Once
	loopDone  chan struct{}
	diskDone  chan struct{}
	closeOnce sync.Once
	closeErr  error
	cause     stopCause // why the loop stopped on its own
}

// Start recovers the node from cfg.DataDir (or bootstraps it), starts its
// transport, HTTP server, event loop and disk worker, and returns it.
func Start(cfg Config) (*Node, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
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
	if err := refuseHostDir(c.DataDir); err != nil {
		dirLock.Close()
		closeListeners(c)
		return nil, err
	}
	m := newMetrics()
	d, rec, err := openDisk(&c, m.fsyncLatency.observe)
	if err != nil {
		dirLock.Close()
		closeListeners(c)
		if errors.Is(err, raft.ErrLostLog) {
			err = fmt.Errorf("%w\n%s", err, lostLogAdvice)
		}
		return nil, err
	}
	n := &Node{
		cfg: c, log: c.Logger, raftLog: base.With("component", "raft"), storage: rec.storage, disk: d, metrics: m,
		dirLock: dirLock,
		reqs:    make(chan *request, c.MaxPendingRequests),
		jobs:    newQueue[diskJob](),
		results: newQueue[diskResult](),
		stop:    make(chan struct{}), loopDone: make(chan struct{}), diskDone: make(chan struct{}),
		unreachable: newQueue[uint64](),
		snapper:     newSnapshotter(),
	}
	n.loopState = newLoopState(rec)
	n.noteMembership(rec.applied, raftpb.ConfState{}, rec.confState)
	if err := n.startNetwork(base); err != nil {
		d.close()
		dirLock.Close()
		closeListeners(c)
		return nil, err
	}
	if err = n.startRawNode(rec.applied); err != nil {
		n.closeIO()
		if errors.Is(err, raft.ErrLostLog) && !c.RecoverLostLog {
			err = fmt.Errorf("%w\n%s", err, lostLogAdvice)
		}
		return nil, err
	}
	n.resumeSnapshotFetch()
	n.syncPeers()
	if err := n.writeAddrs(); err != nil {
		n.closeIO()
		return nil, err
	}
	if c.Sync {
		close(n.diskDone)
		close(n.snapper.done)
	} else {
		go d.runWorker(n.jobs, n.results, n.stop, n.diskDone)
		go runSnapshotWorker(&n.snapper, d.snaps, n.stop)
	}
	go n.run()
	go n.serveHTTP()
	n.log.Info("node started", "raft", n.RaftAddr(), "http", n.HTTPAddr(), "sync", c.Sync,
		"applied", rec.applied, "voters", rec.confState.Voters, "learners", rec.confState.Learners)
	return n, nil
}

// startRawNode starts the node through the reference loop.
func (n *Node) startRawNode(applied uint64) error {
	l, err := n.newLoop(n.raftConfig(applied))
	if err != nil {
		return err
	}
	n.loop, n.rn = l, l.RawNode()
	return nil
}

// raftConfig is the RawNode's configuration.
func (n *Node) raftConfig(applied uint64) *raft.Config {
	c := &n.cfg
	return &raft.Config{
		ID:                        c.ID,
		ElectionTick:              c.ElectionTicks,
		HeartbeatTick:             c.HeartbeatTicks,
		Storage:                   n.storage,
		Applied:                   applied,
		AsyncStorageWrites:        !c.Sync,
		SnapshotChunkSize:         c.SnapshotChunkSize,
		SnapshotInterval:          c.SnapshotInterval,
		LeaseReads:                c.LeaseReads,
		Recovering:                c.RecoverLostLog,
		DisableProposalForwarding: true,                    // followers answer not_leader instead
		Logger:                    raftslog.New(n.raftLog), // the node's own attributes: node, term, peer
	}
}

// startNetwork starts the transport, which logs to logger with its own
// node attribute, and opens the HTTP listener.
func (n *Node) startNetwork(logger *slog.Logger) error {
	c := &n.cfg
	tr, err := transport.New(transport.Config{
		ID: c.ID, ListenAddr: c.RaftAddr, Listener: c.RaftListener,
		Unreachable: n.unreachable.push, Logger: logger,
		// A peer that comes back is redialed within half an election
		// timeout, so that it hears from the leader before it campaigns.
		MinBackoff:      min(transport.DefaultMinBackoff, c.TickInterval),
		MaxBackoff:      min(transport.DefaultMaxBackoff, c.TickInterval*time.Duration(c.ElectionTicks)/2),
		MaxInboundConns: c.MaxInboundConns, MaxFrameBytes: c.MaxFrameBytes,
		FrameTimeout: c.FrameTimeout, MaxRecvMsgsPerSec: c.MaxRecvMsgsPerSec, TLS: c.TLS, ClusterID: c.ClusterID,
		RemovedAt: n.removal.removedAt, ToldRemoved: n.removal.toldRemoved,
	})
	c.RaftListener = nil // the transport owns it now, even on failure
	if err != nil {
		return err
	}
	n.tr = tr
	ln := c.HTTPListener
	if ln == nil {
		if ln, err = net.Listen("tcp", c.HTTPAddr); err != nil {
			tr.Close()
			return fmt.Errorf("listening for HTTP on %s: %w", c.HTTPAddr, err)
		}
	}
	c.HTTPListener = nil
	n.httpLn = ln
	n.httpSrv = n.newHTTPServer()
	return nil
}

// closeListeners closes the listeners a Config handed over.
func closeListeners(c Config) {
	if c.RaftListener != nil {
		c.RaftListener.Close()
	}
	if c.HTTPListener != nil {
		c.HTTPListener.Close()
	}
}

func (n *Node) serveHTTP() {
	if err := n.httpSrv.Serve(n.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
		n.log.Error("HTTP server stopped", "error", err)
	}
}

// writeAddrs writes AddrsFile atomically.
func (n *Node) writeAddrs() error {
	b, _ := json.Marshal(Member{Raft: n.RaftAddr(), HTTP: n.HTTPAddr()})
	path := filepath.Join(n.cfg.DataDir, AddrsFile)
	if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// ID returns the node's Raft ID.
func (n *Node) ID() uint64 { return n.cfg.ID }

// RaftAddr returns the address the node's transport listens on.
func (n *Node) RaftAddr() string { return n.tr.Addr().String() }

// HTTPAddr returns the address of the node's HTTP API.
func (n *Node) HTTPAddr() string { return n.httpLn.Addr().String() }

// TransportStats returns the counters of the node's transport.
func (n *Node) TransportStats() transport.Stats { return n.tr.Stats() }

// Done returns a channel closed when the event loop has stopped: after
// Stop or Kill, or on its own after a fatal error (see Err).
func (n *Node) Done() <-chan struct{} { return n.loopDone }

// Err returns the error that stopped the event loop on its own, or nil.
func (n *Node) Err() error {
	return n.cause.get()
}

// fail records why the loop stops on its own.
func (n *Node) fail(err error) {
	n.cause.set(err)
	n.log.Error("node stopping on a fatal error", "error", err)
}

// Stop stops the node cleanly: the event loop and the disk worker finish
// what they are doing, the HTTP server and the transport close, the log
// is synced and closed. It returns the error that had stopped the loop, if
// any, or a closing error.
func (n *Node) Stop() error {
	n.halt()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := n.httpSrv.Shutdown(ctx); err != nil {
		n.log.Warn("HTTP requests still running at shutdown are cut off", "error", err)
	}
	n.closeIO()
	return errors.Join(n.Err(), n.closeErr)
}

// Kill stops the node abruptly, as a crash would, short of losing what
// the operating system has not yet written: the event loop and the disk
// worker stop where they are, the HTTP server and the transport close
// their sockets at once, and nothing is synced or closed cleanly: the log's
// file is closed without an fsync, as the exit of a crashing process
// closes it. The data directory may then be opened again by a new Node.
func (n *Node) Kill() {
	n.halt()
	n.httpSrv.Close()
	n.tr.Close()
	n.disk.abandon()
	n.dirLock.Close()
}

// halt stops the event loop and the disk worker and waits for both.
func (n *Node) halt() {
	n.stopOnce.Do(func() { close(n.stop) })
	<-n.loopDone
	<-n.diskDone
	<-n.snapper.done
}

// closeIO closes the HTTP server, the transport and the log, once.
func (n *Node) closeIO() {
	n.closeOnce.Do(func() {
		n.httpSrv.Close()
		n.closeErr = errors.Join(n.tr.Close(), n.disk.close())
		n.dirLock.Close() // after the log is closed: the directory is free
		n.log.Info("node stopped")
	})
}

// member returns the addresses of member id: those its conf change
// carried, or those the flags gave, or none.
func (n *Node) member(id uint64) Member {
	if m, ok := n.sm.members[id]; ok {
		return m
	}
	for _, p := range n.cfg.Peers {
		if p.ID == id {
			return Member{Raft: p.RaftAddr, HTTP: p.HTTPAddr}
		}
	}
	return Member{}
}

// raftAddr returns the transport address of member id, or "" if unknown.
func (n *Node) raftAddr(id uint64) string { return n.member(id).Raft }

// httpAddr returns the HTTP address of member id, this node's own
// included, or "" if unknown.
func (n *Node) httpAddr(id uint64) string {
	if id == n.cfg.ID {
		return n.HTTPAddr()
	}
	return n.member(id).HTTP
}

// syncPeers makes the transport know every member of the configuration
// and every peer of the flags, at their current addresses.
func (n *Node) syncPeers() {
	ids := map[uint64]bool{}
	for _, p := range n.cfg.Peers {
		ids[p.ID] = true
	}
	cs := n.confState
	for _, set := range [][]uint64{cs.Voters, cs.Learners, cs.VotersOutgoing, cs.LearnersNext} {
		for _, id := range set {
			ids[id] = true
		}
	}
	for id := range ids {
		if id == n.cfg.ID {
			continue
		}
		if addr := n.raftAddr(id); addr != "" && n.peerAddrs[id] != addr {
			if err := n.tr.AddPeer(id, addr); err != nil {
				n.log.Warn("cannot add a transport peer", "peer", id, "addr", addr, "error", err)
				continue
			}
			n.peerAddrs[id] = addr
		}
	}
}

// removePeer stops sending to a member the configuration removed.
func (n *Node) removePeer(id uint64) {
	if id == n.cfg.ID {
		return
	}
	n.tr.RemovePeer(id)
	delete(n.peerAddrs, id)
}

// cloneConfState returns a deep copy of cs.
func cloneConfState(cs raftpb.ConfState) raftpb.ConfState {
	cs.Voters = append([]uint64(nil), cs.Voters...)
	cs.Learners = append([]uint64(nil), cs.Learners...)
	cs.VotersOutgoing = append([]uint64(nil), cs.VotersOutgoing...)
	cs.LearnersNext = append([]uint64(nil), cs.LearnersNext...)
	return cs
}

// lostLogAdvice follows the error of a node whose log lost entries it
// acknowledged: what the operator can do.
const lostLogAdvice = "(the log on disk lost entries this node acknowledged: start it again with -recover-lost-log " +
	"if its hard state is intact, or remove it from the cluster and add it back under a new ID)"

// resumeSnapshotFetch hands the node the chunks staged on disk, before a
// restart, for the newest snapshot it was fetching in chunks: the next
// offer of that snapshot fetches only the others.
func (n *Node) resumeSnapshotFetch() {
	if n.cfg.SnapshotChunkSize == 0 {
		return
	}
	index, term, chunks, ok, err := n.disk.snaps.NewestStaged()
	if err != nil {
		n.log.Warn("cannot list the snapshot chunks staged before the restart", "err", err)
		return
	}
	if !ok || len(chunks) == 0 {
		return
	}
	saved := raft.SavedChunks{Index: index, Term: term, ChunkSize: n.cfg.SnapshotChunkSize, Chunks: chunks}
	if err := n.rn.ResumeSnapshotFetch(saved); err != nil {
		n.log.Warn("cannot resume the snapshot transfer cut short by the restart", "err", err)
		return
	}
	n.log.Info("resuming a snapshot transfer", "index", index, "term", term, "chunks_staged", len(chunks))
}
