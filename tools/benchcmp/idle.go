package benchcmp

import (
	"runtime"
	"testing"
	"time"

	"github.com/tickraft/raft/tools/benchcmp/workload"
)

// IdleTicks is the number of times one iteration of the idle workload
// ticks every node of every group.
const IdleTicks = 1000

// The metrics an idle-groups run reports.
const (
	MetricNsPerGroupTick     = "ns/group-tick"
	MetricAllocsPerGroupTick = "allocs/group-tick"
	MetricMsgsPerGroupTick   = "msgs/group-tick"
	// MetricHeapPerGroup is the live heap the groups hold once elected,
	// and MetricHeapPerGroupIdle the same after the ticks, per group.
	MetricHeapPerGroup     = "heap-B/group"
	MetricHeapPerGroupIdle = "heap-B/group-idle"
)

// RunIdleGroups is the body of a benchmark of the idle workload on lib:
// it builds and elects count three-node groups (measuring the live heap
// they hold: HeapAlloc after a collection, before and after), then each
// of b.N iterations ticks every node of every group IdleTicks times,
// stabilizing each group after its tick. It reports the heap per group,
// and the time, allocations and messages per group-tick (one Tick of each
// node of one group, and everything it causes). It fails unless every
// group is still led by the leader it elected.
func RunIdleGroups(b *testing.B, lib Library, count int) error {
	var base, built, idle, before, after runtime.MemStats
	readHeapAfterGC(&base)
	g, err := lib.NewGroups(count, workload.DefaultParams())
	if err != nil {
		return err
	}
	readHeapAfterGC(&built)
	sent := g.Sent()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for t := 0; t < IdleTicks; t++ {
			if err := g.TickAll(); err != nil {
				return err
			}
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	if err := g.CheckLeaders(); err != nil {
		return err
	}
	readHeapAfterGC(&idle)
	runtime.KeepAlive(g)

	m := perGroupTickMetrics(b.N*IdleTicks*count, g.Sent()-sent, b.Elapsed(), after.Mallocs-before.Mallocs)
	m[MetricHeapPerGroup] = heapPerGroup(&base, &built, count)
	m[MetricHeapPerGroupIdle] = heapPerGroup(&base, &idle, count)
	for name, v := range m {
		b.ReportMetric(v, name)
	}
	return nil
}

// perGroupTickMetrics returns the per-group-tick metrics of groupTicks
// group-ticks that sent msgs messages in elapsed, making mallocs
// allocations.
func perGroupTickMetrics(groupTicks, msgs int, elapsed time.Duration, mallocs uint64) map[string]float64 {
	n := float64(groupTicks)
	return map[string]float64{
		MetricNsPerGroupTick:     float64(elapsed.Nanoseconds()) / n,
		MetricAllocsPerGroupTick: float64(mallocs) / n,
		MetricMsgsPerGroupTick:   float64(msgs) / n,
	}
}

// readHeapAfterGC collects garbage and then reads the memory statistics,
// so that HeapAlloc counts only live objects.
func readHeapAfterGC(ms *runtime.MemStats) {
	runtime.GC()
	runtime.ReadMemStats(ms)
}

// heapPerGroup returns the live heap grown from base to now, per group.
func heapPerGroup(base, now *runtime.MemStats, count int) float64 {
	return float64(int64(now.HeapAlloc)-int64(base.HeapAlloc)) / float64(count)
}
