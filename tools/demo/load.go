package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// load is the outcome of a run of writes.
type load struct {
	acked     map[string]uint64 // key -> index of its entry
	latencies []time.Duration   // of each acknowledged write
	failed    int
	elapsed   time.Duration
}

// value is the value the demo writes for key.
func value(key string) string { return "v:" + key }

// writeKeys writes keys prefix-0 .. prefix-(n-1) with the given number of
// concurrent clients, each write retried (by kvnode.Client) until it is
// acknowledged or perWrite passes, and draws a progress bar on bar.
func writeKeys(ctx context.Context, c *kvnode.Client, prefix string, n, clients int, perWrite time.Duration, bar io.Writer) *load {
	res := &load{acked: make(map[string]uint64, n)}
	var mu sync.Mutex
	start := time.Now()
	forEach(ctx, n, clients, newProgress(bar, "writing "+prefix, n), func(i int) {
		key := fmt.Sprintf("%s-%05d", prefix, i)
		wctx, cancel := context.WithTimeout(ctx, perWrite)
		t0 := time.Now()
		idx, err := c.Put(wctx, key, []byte(value(key)))
		lat := time.Since(t0)
		cancel()
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			res.failed++
			return
		}
		res.acked[key] = idx
		res.latencies = append(res.latencies, lat)
	})
	res.elapsed = time.Since(start)
	return res
}

// forEach calls do(i) for every i from 0 to n-1, on the given number of
// goroutines, advancing p after each call, until all are done or ctx is.
// It returns how many calls it made.
func forEach(ctx context.Context, n, goroutines int, p *progress, do func(i int)) int {
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < goroutines; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				do(int(i))
				p.set(int(done.Add(1)))
			}
		}()
	}
	wg.Wait()
	p.finish(int(done.Load()))
	return int(done.Load())
}

// progress draws a bar that redraws itself in place with \r.
type progress struct {
	w     io.Writer
	label string
	total int

	mu    sync.Mutex
	drawn int // the last count drawn
}

func newProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, label: label, total: total, drawn: -1}
	p.set(0)
	return p
}

// set redraws the bar for done items, at most once per percent.
func (p *progress) set(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done != p.total && p.drawn >= 0 && (done-p.drawn)*100 < p.total {
		return
	}
	p.drawn = done
	const width = 30
	fill := width * done / max(p.total, 1)
	fmt.Fprintf(p.w, "\r  %-16s [%s%s] %5d/%d", p.label,
		strings.Repeat("#", fill), strings.Repeat(".", width-fill), done, p.total)
}

// finish draws the final count and ends the bar's line.
func (p *progress) finish(done int) {
	p.mu.Lock()
	p.drawn = -1
	p.mu.Unlock()
	p.set(done)
	fmt.Fprintln(p.w)
}
