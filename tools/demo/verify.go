package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// verify reads every acknowledged key from every node with a local read
// at the highest acknowledged index (so each node first applies at least
// that far), and returns the number of reads and the first problem.
func verify(ctx context.Context, c *cluster, acked map[string]uint64, clients int, bar io.Writer) (int, error) {
	var top uint64
	for _, idx := range acked {
		top = max(top, idx)
	}
	return readAll(ctx, c.peers, acked, clients, bar, "node", func(addr, key string) error {
		return check(ctx, c.client, addr, key, top)
	})
}

// readAll reads every key of acked from every peer with read, clients at
// a time, and returns the number of reads and the first problem, naming
// the peer as a what.
func readAll(ctx context.Context, peers []kvnode.Peer, acked map[string]uint64, clients int, bar io.Writer, what string, read func(addr, key string) error) (int, error) {
	keys := make([]string, 0, len(acked))
	for k := range acked {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	type job struct {
		addr string
		id   uint64
		key  string
	}
	var jobs []job
	for _, p := range peers {
		for _, k := range keys {
			jobs = append(jobs, job{p.HTTPAddr, p.ID, k})
		}
	}
	var mu sync.Mutex
	var firstErr error
	n := forEach(ctx, len(jobs), clients, newProgress(bar, "verifying", len(jobs)), func(i int) {
		j := jobs[i]
		if err := read(j.addr, j.key); err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("%s %d: %w", what, j.id, err)
			}
			mu.Unlock()
		}
	})
	if firstErr == nil && n < len(jobs) {
		firstErr = fmt.Errorf("verifying: stopped after %d of %d reads: %w", n, len(jobs), ctx.Err())
	}
	return n, firstErr
}

// check reads key from the node at addr and compares it with what the
// demo wrote.
func check(ctx context.Context, cl *kvnode.Client, addr, key string, minIndex uint64) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := cl.Get(ctx, addr, key, kvnode.ConsistencyLocal, minIndex)
	switch {
	case err != nil:
		return fmt.Errorf("reading %s: %w", key, err)
	case !res.Found:
		return fmt.Errorf("acknowledged key %s is missing", key)
	case res.Value != value(key):
		return fmt.Errorf("key %s holds %q, want %q", key, res.Value, value(key))
	}
	return nil
}
