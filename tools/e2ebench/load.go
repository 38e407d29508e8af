package e2ebench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Keys is the size of the key space the load writes and reads at random.
const Keys = 10000

// ValueBytes is the size of every written value.
const ValueBytes = 128

// Load is one point of the comparison: a number of closed-loop workers, each
// sending its next request when the last one was answered.
type Load struct {
	// Name is how tables name the load.
	Name string
	// Workers is the number of concurrent closed-loop clients.
	Workers int
	// ReadPercent of the requests are linearizable reads; the rest are writes.
	ReadPercent int
}

// Loads are the points of the comparison.
var Loads = []Load{
	{Name: "1 writer", Workers: 1},
	{Name: "16 writers", Workers: 16},
	{Name: "64 writers", Workers: 64},
	{Name: "64 clients 90% reads", Workers: 64, ReadPercent: 90},
}

// Result is what one load measured on one cluster.
type Result struct {
	// Ops are the requests answered in the window, Writes those of them
	// that were writes, Errors the requests that failed in it.
	Ops, Writes, Errors int
	// Elapsed is the window's length.
	Elapsed time.Duration
	// P50, P99 and P999 are latency quantiles of the answered requests.
	P50, P99, P999 time.Duration
	// CPUTicks, WriteBytes and Fsyncs (of the log) are summed over the
	// cluster's processes.
	CPUTicks, WriteBytes, Fsyncs uint64
}

// WritesPerFsync is the acknowledged writes per log fsync of one member:
// how well the members batch writes into one fsync.
func (r Result) WritesPerFsync() float64 {
	if r.Fsyncs == 0 {
		return 0
	}
	return float64(r.Writes) * Members / float64(r.Fsyncs)
}

// OpsPerSec is the rate of answered requests.
func (r Result) OpsPerSec() float64 { return float64(r.Ops) / r.Elapsed.Seconds() }

// CPUPerOp is the servers' CPU time per answered request, in microseconds.
func (r Result) CPUPerOp() float64 {
	if r.Ops == 0 {
		return 0
	}
	return float64(r.CPUTicks) * 1e6 / clockTicksPerSecond / float64(r.Ops)
}

// DiskPerWrite is the bytes the servers wrote to disk per acknowledged write.
func (r Result) DiskPerWrite() float64 {
	if r.Writes == 0 {
		return 0
	}
	return float64(r.WriteBytes) / float64(r.Writes)
}

// maxErrorShare is the share of failed requests above which a run fails.
const maxErrorShare = 0.01

// Run drives c with l: warmup first, then duration measured. Latencies of
// requests that complete inside the measured window count; CPU and disk are
// the processes' counters at the window's ends.
func Run(ctx context.Context, c Cluster, l Load, warmup, duration time.Duration, seed uint64) (Result, error) {
	return run(ctx, c, l, warmup, duration, seed, nil)
}

// run is Run that calls onMeasure, if not nil, as the measured window opens.
func run(ctx context.Context, c Cluster, l Load, warmup, duration time.Duration, seed uint64, onMeasure func()) (Result, error) {
	clients := make([]Client, 0, l.Workers)
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	for range l.Workers {
		cl, err := c.NewClient()
		if err != nil {
			return Result{}, err
		}
		clients = append(clients, cl)
	}
	var measuring atomic.Bool
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lat := make([][]time.Duration, l.Workers)
	writes := make([]int, l.Workers)
	errs := make([]int, l.Workers)
	var wg sync.WaitGroup
	for w := range l.Workers {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			value := make([]byte, ValueBytes)
			for i := range value {
				value[i] = 'a' + byte(rng.IntN(26))
			}
			for ctx.Err() == nil {
				key := fmt.Sprintf("key%05d", rng.IntN(Keys))
				read := rng.IntN(100) < l.ReadPercent
				rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
				t0 := time.Now()
				var err error
				if read {
					err = clients[w].Get(rctx, key)
				} else {
					err = clients[w].Put(rctx, key, value)
				}
				d := time.Since(t0)
				rcancel()
				if !measuring.Load() || ctx.Err() != nil {
					continue
				}
				if err != nil {
					errs[w]++
					continue
				}
				lat[w] = append(lat[w], d)
				if !read {
					writes[w]++
				}
			}
		}(w)
	}
	fail := func(err error) (Result, error) { cancel(); wg.Wait(); return Result{}, err }
	if !sleepCtx(ctx, warmup) {
		return fail(ctx.Err())
	}
	before, err := clusterUsage(c)
	if err != nil {
		return fail(err)
	}
	fsyncsBefore, err := c.Fsyncs()
	if err != nil {
		return fail(err)
	}
	t0 := time.Now()
	measuring.Store(true)
	if onMeasure != nil {
		onMeasure()
	}
	if !sleepCtx(ctx, duration) {
		return fail(ctx.Err())
	}
	measuring.Store(false)
	elapsed := time.Since(t0)
	after, err := clusterUsage(c)
	if err != nil {
		return fail(err)
	}
	fsyncsAfter, err := c.Fsyncs()
	if err != nil {
		return fail(err)
	}
	cancel()
	wg.Wait()
	var all []time.Duration
	r := Result{Elapsed: elapsed, CPUTicks: after.cpuTicks - before.cpuTicks, WriteBytes: after.writeBytes - before.writeBytes,
		Fsyncs: fsyncsAfter - fsyncsBefore}
	for w := range l.Workers {
		all = append(all, lat[w]...)
		r.Writes += writes[w]
		r.Errors += errs[w]
	}
	r.Ops = len(all)
	if r.Ops == 0 || float64(r.Errors) > maxErrorShare*float64(r.Ops+r.Errors) {
		return r, fmt.Errorf("%s: %d requests answered, %d failed", l.Name, r.Ops, r.Errors)
	}
	slices.Sort(all)
	r.P50, r.P99, r.P999 = quantile(all, 0.5), quantile(all, 0.99), quantile(all, 0.999)
	return r, nil
}

// quantile is the q-quantile of sorted (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// clusterUsage sums the usage of c's processes.
func clusterUsage(c Cluster) (usage, error) {
	var sum usage
	for _, pid := range c.PIDs() {
		u, err := readUsage(pid)
		if err != nil {
			return sum, err
		}
		sum.cpuTicks += u.cpuTicks
		sum.writeBytes += u.writeBytes
	}
	return sum, nil
}
