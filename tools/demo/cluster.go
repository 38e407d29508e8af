package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"time"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// cluster is three kvnodes in this process, each with its own event loop,
// transport and HTTP server on loopback ports, and data in dir.
type cluster struct {
	dir    string
	base   kvnode.Config
	peers  []kvnode.Peer
	nodes  map[uint64]*kvnode.Node
	client *kvnode.Client
	logger *slog.Logger
}

// startCluster listens on loopback ports for every node (taken below the
// ephemeral range, so that the killed node's ports are still free when it
// restarts; see kvnode.LoopbackAddrs), then starts the nodes on those
// listeners.
func startCluster(dir string, size int, base kvnode.Config) (*cluster, error) {
	c := &cluster{dir: dir, base: base, nodes: map[uint64]*kvnode.Node{}, logger: base.Logger}
	ports, err := kvnode.LoopbackAddrs(2 * size)
	if err != nil {
		return nil, err
	}
	type lns struct{ raft, http net.Listener }
	listeners := map[uint64]lns{}
	for id := uint64(1); id <= uint64(size); id++ {
		r, err1 := net.Listen("tcp", ports[2*id-2])
		h, err2 := net.Listen("tcp", ports[2*id-1])
		if err1 != nil || err2 != nil {
			for _, l := range append(slices.Collect(maps.Values(listeners)), lns{r, h}) {
				closeIfOpen(l.raft)
				closeIfOpen(l.http)
			}
			return nil, fmt.Errorf("listening on loopback: %v %v", err1, err2)
		}
		listeners[id] = lns{r, h}
		c.peers = append(c.peers, kvnode.Peer{ID: id, RaftAddr: r.Addr().String(), HTTPAddr: h.Addr().String()})
	}
	var addrs []string
	for _, p := range c.peers {
		l := listeners[p.ID]
		if err := c.start(p.ID, l.raft, l.http); err != nil {
			c.stop()
			return nil, err
		}
		addrs = append(addrs, p.HTTPAddr)
	}
	c.client = kvnode.NewClient(addrs...)
	return c, nil
}

// closeIfOpen closes ln unless it is nil.
func closeIfOpen(ln net.Listener) {
	if ln != nil {
		ln.Close()
	}
}

// start starts node id on the given listeners, from its data directory.
func (c *cluster) start(id uint64, raftLn, httpLn net.Listener) error {
	cfg := c.base
	cfg.ID, cfg.DataDir = id, filepath.Join(c.dir, fmt.Sprintf("node%d", id))
	cfg.RaftListener, cfg.HTTPListener = raftLn, httpLn
	cfg.Peers = nil
	for _, p := range c.peers {
		if p.ID != id {
			cfg.Peers = append(cfg.Peers, p)
		}
	}
	n, err := kvnode.Start(cfg)
	if err != nil {
		return fmt.Errorf("starting node %d: %w", id, err)
	}
	c.nodes[id] = n
	return nil
}

// restart starts a killed node again on its old addresses.
func (c *cluster) restart(ctx context.Context, id uint64) error {
	raftLn, httpLn, err := listenPeer(ctx, c.peers[id-1])
	if err != nil {
		return err
	}
	return c.start(id, raftLn, httpLn)
}

// listenPeer listens on p's Raft and HTTP addresses (listenAgain).
func listenPeer(ctx context.Context, p kvnode.Peer) (raftLn, httpLn net.Listener, err error) {
	if raftLn, err = listenAgain(ctx, p.RaftAddr); err != nil {
		return nil, nil, err
	}
	if httpLn, err = listenAgain(ctx, p.HTTPAddr); err != nil {
		raftLn.Close()
		return nil, nil, err
	}
	return raftLn, httpLn, nil
}

// listenAgain listens on addr, retrying while the port is still held by
// the sockets of the killed node.
func listenAgain(ctx context.Context, addr string) (net.Listener, error) {
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("listening again on %s: %w", addr, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill kills node id abruptly: its loop stops without cleanup and its
// transport and HTTP listener close (kvnode.Node.Kill).
func (c *cluster) kill(id uint64) { killProcess(c.nodes, id) }

// stop stops every running node cleanly.
func (c *cluster) stop() { stopProcesses(c.nodes, c.logger, "node") }

// status returns node id's status, asked over HTTP like any client.
func (c *cluster) status(ctx context.Context, id uint64) (*kvnode.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return c.client.Status(ctx, c.peers[id-1].HTTPAddr)
}

// leader waits until every running node names the same leader.
func (c *cluster) leader(ctx context.Context) (uint64, error) {
	for {
		var lead uint64
		agreed := true
		for id := range c.nodes {
			st, err := c.status(ctx, id)
			if err != nil || st.Leader == 0 || (lead != 0 && st.Leader != lead) {
				agreed = false
				break
			}
			lead = st.Leader
		}
		if agreed && lead != 0 {
			return lead, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no agreed leader: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// failed returns the first node that stopped on its own, with its error.
func (c *cluster) failed() error { return firstFailed(c.nodes, "node") }

// process is what the demo starts, kills and stops: a single-group
// kvnode.Node or a multi-group kvnode.Host.
type process interface {
	Kill()
	Stop() error
	Done() <-chan struct{}
	Err() error
}

// killProcess kills process id of procs abruptly and forgets it.
func killProcess[P process](procs map[uint64]P, id uint64) {
	procs[id].Kill()
	delete(procs, id)
}

// stopProcesses stops every process of procs cleanly, logging the ones
// that stop with an error (what names them), and forgets them.
func stopProcesses[P process](procs map[uint64]P, logger *slog.Logger, what string) {
	for id, p := range procs {
		if err := p.Stop(); err != nil {
			logger.Warn(what+" stopped with an error", what, id, "error", err)
		}
		delete(procs, id)
	}
}

// firstFailed returns the first process of procs that stopped on its
// own, with its error, or nil.
func firstFailed[P process](procs map[uint64]P, what string) error {
	for id, p := range procs {
		select {
		case <-p.Done():
			return fmt.Errorf("%s %d stopped: %v", what, id, p.Err())
		default:
		}
	}
	return nil
}
