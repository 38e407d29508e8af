package kvnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tickraft/raft/tools/kvexample/transport"
)

// testCluster is a cluster of Nodes in this process, on loopback ports.
type testCluster struct {
	t     *testing.T
	dir   string
	peers []Peer
	spare []Peer // addresses for every node a test may start
	base  Config
	nodes map[uint64]*Node
	c     *Client
	// tlsFor, when not nil, gives each node its transport TLS.
	tlsFor func(id uint64) *transport.TLSConfig
}

// testConfig returns fast timeouts, small snapshots and tiny chunks, so
// that a test runs the snapshot transfer in many chunks.
func testConfig() Config {
	return Config{
		TickInterval: 10 * time.Millisecond, ElectionTicks: 10, HeartbeatTicks: 1,
		SnapshotInterval: 20, SnapshotChunkSize: 64, KeepEntries: 5,
		RequestTimeout: 3 * time.Second,
		AdminToken:     testAdminToken,
	}
}

// newTestCluster starts n voters with the base configuration.
func newTestCluster(t *testing.T, n int, base Config) *testCluster {
	t.Helper()
	return newTLSTestCluster(t, n, base, nil)
}

// newTLSTestCluster starts n voters whose transports run over TLS when
// tlsFor is not nil.
func newTLSTestCluster(t *testing.T, n int, base Config, tlsFor func(id uint64) *transport.TLSConfig) *testCluster {
	t.Helper()
	tc := &testCluster{t: t, dir: t.TempDir(), base: base, nodes: map[uint64]*Node{}, tlsFor: tlsFor}
	ports, err := LoopbackAddrs(2 * maxTestNodes)
	if err != nil {
		t.Fatal(err)
	}
	for id := uint64(1); id <= maxTestNodes; id++ {
		tc.spare = append(tc.spare, Peer{ID: id, RaftAddr: ports[2*id-2], HTTPAddr: ports[2*id-1]})
	}
	tc.peers = append([]Peer(nil), tc.spare[:n]...)
	var addrs []string
	for _, p := range tc.peers {
		tc.start(p.ID, false)
		addrs = append(addrs, p.HTTPAddr)
	}
	tc.c = NewClient(addrs...)
	tc.c.AdminToken = base.AdminToken
	t.Cleanup(tc.stopAll)
	return tc
}

// testAdminToken is the admin token of the test clusters.
const testAdminToken = "test-admin-token"

// maxTestNodes bounds the nodes of a test cluster, joiners included.
const maxTestNodes = 5

// peer returns the addresses of node id, which may be one added later.
func (tc *testCluster) peer(id uint64) Peer {
	for _, p := range tc.peers {
		if p.ID == id {
			return p
		}
	}
	p := tc.spare[id-1]
	tc.peers = append(tc.peers, p)
	return p
}

// start starts (or restarts) node id from its data directory.
func (tc *testCluster) start(id uint64, join bool) *Node {
	tc.t.Helper()
	self := tc.peer(id)
	cfg := tc.base
	cfg.ID, cfg.DataDir, cfg.Join = id, filepath.Join(tc.dir, fmt.Sprint(id)), join
	cfg.RaftAddr, cfg.HTTPAddr = self.RaftAddr, self.HTTPAddr
	cfg.Peers = nil
	if tc.tlsFor != nil {
		cfg.TLS = tc.tlsFor(id)
	}
	for _, p := range tc.peers {
		if p.ID != id && (join || p.ID <= 3) {
			cfg.Peers = append(cfg.Peers, p)
		}
	}
	if testing.Verbose() && os.Getenv("KVNODE_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n, err := Start(cfg)
	if err != nil {
		tc.t.Fatalf("starting node %d: %v", id, err)
	}
	tc.nodes[id] = n
	return n
}

func (tc *testCluster) stopAll() {
	for id, n := range tc.nodes {
		// A node the test removed may have stopped on its own, as it should.
		if err := n.Stop(); err != nil && !errors.Is(err, ErrRemoved) {
			tc.t.Errorf("node %d stopped with: %v", id, err)
		}
		delete(tc.nodes, id)
	}
}

// ctx returns a context that ends the test's waits.
func (tc *testCluster) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	tc.t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or the deadline passes.
func (tc *testCluster) waitFor(what string, cond func() bool) {
	tc.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tc.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// status returns node id's status, or nil if it does not answer.
func (tc *testCluster) status(id uint64) *Status {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := tc.c.Status(ctx, tc.peer(id).HTTPAddr)
	if err != nil {
		return nil
	}
	return st
}

// leader waits for a leader the running nodes agree on and returns it.
func (tc *testCluster) leader() uint64 {
	tc.t.Helper()
	var lead uint64
	tc.waitFor("a leader", func() bool {
		lead = 0
		for id := range tc.nodes {
			st := tc.status(id)
			if st == nil || st.Leader == 0 || (lead != 0 && st.Leader != lead) {
				return false
			}
			lead = st.Leader
		}
		return lead != 0
	})
	return lead
}

// put writes n keys prefix-i=value-i and returns the highest index.
func (tc *testCluster) put(prefix string, n int) uint64 {
	tc.t.Helper()
	var last uint64
	for i := 0; i < n; i++ {
		idx, err := tc.c.Put(tc.ctx(), fmt.Sprintf("%s-%d", prefix, i), []byte(fmt.Sprintf("value-%d", i)))
		if err != nil {
			tc.t.Fatalf("put %s-%d: %v", prefix, i, err)
		}
		last = max(last, idx)
	}
	return last
}

// checkKeys reads the keys put wrote from node id, locally at minIndex.
func (tc *testCluster) checkKeys(id uint64, prefix string, n int, minIndex uint64) {
	tc.t.Helper()
	// A local read waits one election timeout for the node to apply
	// minIndex, by design; on a loaded machine a follower may take longer.
	tc.waitFor(fmt.Sprintf("node %d to apply %d", id, minIndex), func() bool {
		st := tc.status(id)
		return st != nil && st.Applied >= minIndex
	})
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("%s-%d", prefix, i)
		res, err := tc.c.Get(tc.ctx(), tc.peer(id).HTTPAddr, key, ConsistencyLocal, minIndex)
		if err != nil {
			tc.t.Fatalf("node %d: get %s: %v", id, key, err)
		}
		if want := fmt.Sprintf("value-%d", i); !res.Found || res.Value != want {
			tc.t.Fatalf("node %d: %s = %q (found %v), want %q", id, key, res.Value, res.Found, want)
		}
	}
}
