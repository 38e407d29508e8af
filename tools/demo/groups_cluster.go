package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/tickraft/raft/tools/framerelay"
	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// hostCluster is three processes' worth of multi-group hosts in this
// process, each with its own event loop, transport (one connection per
// pair of hosts) and HTTP server on loopback ports, and data in dir. The
// hosts reach each other through a framerelay.Relay in front of each host,
// which counts the frames on the wire.
type hostCluster struct {
	dir     string
	base    kvnode.Config
	peers   []kvnode.Peer
	proxies map[uint64]*framerelay.Relay
	hosts   map[uint64]*kvnode.Host
	client  *kvnode.Client
	logger  *slog.Logger
}

// startHostCluster starts size hosts of base.Groups groups each.
func startHostCluster(dir string, size int, base kvnode.Config) (*hostCluster, error) {
	c := &hostCluster{dir: dir, base: base, hosts: map[uint64]*kvnode.Host{}, proxies: map[uint64]*framerelay.Relay{}, logger: base.Logger}
	ports, err := kvnode.LoopbackAddrs(2 * size)
	if err != nil {
		return nil, err
	}
	var addrs []string
	for id := uint64(1); id <= uint64(size); id++ {
		c.peers = append(c.peers, kvnode.Peer{ID: id, RaftAddr: ports[2*id-2], HTTPAddr: ports[2*id-1]})
		addrs = append(addrs, ports[2*id-1])
		px, err := framerelay.Start(ports[2*id-2])
		if err != nil {
			c.stop()
			return nil, err
		}
		c.proxies[id] = px
	}
	for _, p := range c.peers {
		if err := c.start(context.Background(), p.ID); err != nil {
			c.stop()
			return nil, err
		}
	}
	c.client = kvnode.NewClient(addrs...)
	return c, nil
}

// start starts host id from its data directory, on its addresses.
func (c *hostCluster) start(ctx context.Context, id uint64) error {
	raftLn, httpLn, err := listenPeer(ctx, c.peers[id-1])
	if err != nil {
		return err
	}
	cfg := c.base
	cfg.ID, cfg.DataDir = id, filepath.Join(c.dir, fmt.Sprintf("host%d", id))
	cfg.RaftListener, cfg.HTTPListener = raftLn, httpLn
	cfg.Peers = nil
	for _, q := range c.peers {
		if q.ID != id {
			q.RaftAddr = c.proxies[q.ID].Addr()
			cfg.Peers = append(cfg.Peers, q)
		}
	}
	h, err := kvnode.StartHost(cfg)
	if err != nil {
		return fmt.Errorf("starting host %d: %w", id, err)
	}
	c.hosts[id] = h
	return nil
}

// kill kills host id abruptly.
func (c *hostCluster) kill(id uint64) { killProcess(c.hosts, id) }

// stop stops every running host cleanly, then the proxies.
func (c *hostCluster) stop() {
	stopProcesses(c.hosts, c.logger, "host")
	for id, px := range c.proxies {
		px.Close()
		delete(c.proxies, id)
	}
}

// status returns host id's status with every group, asked over HTTP.
func (c *hostCluster) status(ctx context.Context, id uint64) (*kvnode.HostStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return c.client.HostStatus(ctx, c.peers[id-1].HTTPAddr)
}

// wire returns the frames, and their bytes, that the proxies relayed
// between the hosts so far, counted on the wire.
func (c *hostCluster) wire() (frames, bytes uint64) {
	for _, px := range c.proxies {
		frames += px.Frames()
		bytes += px.Bytes()
	}
	return frames, bytes
}

// frames returns the frames the proxies relayed between the hosts.
func (c *hostCluster) frames() uint64 {
	n, _ := c.wire()
	return n
}

// failed returns the first host that stopped on its own.
func (c *hostCluster) failed() error { return firstFailed(c.hosts, "host") }

// awaitGroups polls the running hosts until ok holds of every host's
// status, and returns the last statuses.
func (c *hostCluster) awaitGroups(ctx context.Context, what string, ok func(map[uint64]*kvnode.HostStatus) bool) (map[uint64]*kvnode.HostStatus, error) {
	for {
		sts := map[uint64]*kvnode.HostStatus{}
		for id := range c.hosts {
			if st, err := c.status(ctx, id); err == nil {
				sts[id] = st
			}
		}
		if len(sts) == len(c.hosts) && ok(sts) {
			return sts, nil
		}
		if err := c.failed(); err != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// everyGroupLed reports whether every group has a leader among the
// running hosts that every running host names.
func everyGroupLed(sts map[uint64]*kvnode.HostStatus) bool {
	var lead []uint64
	for _, st := range sts {
		if lead == nil {
			lead = make([]uint64, len(st.PerGroup))
		}
		for i, g := range st.PerGroup {
			if g.Leader == 0 || sts[g.Leader] == nil || (lead[i] != 0 && lead[i] != g.Leader) {
				return false
			}
			lead[i] = g.Leader
		}
	}
	return lead != nil
}

// everyGroupAsleep reports whether every group sleeps on every host.
func everyGroupAsleep(sts map[uint64]*kvnode.HostStatus) bool {
	for _, st := range sts {
		if st.Quiesced != st.Groups {
			return false
		}
	}
	return true
}
