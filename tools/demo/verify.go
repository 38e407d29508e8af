package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// verify reads every acknowledged key from every node with a local read
// at the highest acknowledged index (so each node first applies at least
// that far), and returns the number of reads and the first problem.
func verify(ctx context.Context, c *cluster, acked map[string]uint64, clients int, bar io.Writer) (int, error) {
	var top uint64
	keys := make([]string, 0, len(acked))
	for k, idx := range acked {
		keys = append(keys, k)
		top = max(top, idx)
	}
	sort.Strings(keys)
	type job struct {
		addr string
		id   uint64
		key  string
	}
	var jobs []job
	for _, p := range c.peers {
		for _, k := range keys {
			jobs = append(jobs, job{p.HTTPAddr, p.ID, k})
		}
	}
	p := newProgress(bar, "verifying", len(jobs))
	var next, done atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(jobs)) {
					return
				}
				j := jobs[i]
				err := check(ctx, c.client, j.addr, j.key, top)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("node %d: %w", j.id, err)
					}
					mu.Unlock()
				}
				p.set(int(done.Add(1)))
			}
		}()
	}
	wg.Wait()
	p.finish(int(done.Load()))
	return len(jobs), firstErr
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
