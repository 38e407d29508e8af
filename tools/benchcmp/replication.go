package benchcmp

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/benchcmp/workload"
)

// Shape is one row of the replication workload: the group's size, the
// bytes of each entry and the proposals of each loop iteration.
type Shape struct {
	Nodes, Size, Batch int
}

// Name returns the row's name, nodes=N/size=S/batch=B, as the project's own
// benchmarks name their sub-benchmarks.
func (s Shape) Name() string {
	return fmt.Sprintf("nodes=%d/size=%d/batch=%d", s.Nodes, s.Size, s.Batch)
}

// Shapes returns every row of the replication workload: 3 and 5 nodes,
// 128 B and 1 KiB entries, 1, 64 and 1024 proposals per iteration.
func Shapes() []Shape {
	var shapes []Shape
	for _, nodes := range []int{3, 5} {
		for _, size := range []int{128, 1024} {
			for _, batch := range []int{1, 64, 1024} {
				shapes = append(shapes, Shape{Nodes: nodes, Size: size, Batch: batch})
			}
		}
	}
	return shapes
}

// warmupEntries is about how many entries a run commits before its timer
// starts, so that the driver's and the library's buffers have grown.
const warmupEntries = 1024

// RunReplication is the body of a benchmark of s on lib: it elects node 1,
// warms up, then runs b.N loop iterations of s.Batch proposals each, and
// reports per committed entry ns/entry, allocs/entry, bytes/entry and
// msgs/entry, and entries/s. It fails unless every proposal, warm-up
// included, was applied on every node.
func RunReplication(b *testing.B, lib Library, s Shape) error {
	c, err := lib.NewCluster(s.Nodes, workload.DefaultParams())
	if err != nil {
		return err
	}
	if err := c.Elect(); err != nil {
		return err
	}
	data := workload.Payload(s.Size)
	warmup := max(1, warmupEntries/s.Batch)
	for i := 0; i < warmup; i++ {
		if err := iterate(c, data, s.Batch); err != nil {
			return err
		}
	}
	sent := c.Sent()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := iterate(c, data, s.Batch); err != nil {
			return err
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	proposed := (warmup + b.N) * s.Batch
	if err := c.CheckApplied(proposed, proposed*s.Size); err != nil {
		return fmt.Errorf("%s %s: %w", lib.Name, s.Name(), err)
	}
	reportPerEntry(b, b.N*s.Batch, c.Sent()-sent, &before, &after)
	return nil
}

// iterate runs one loop iteration: propose batch entries, stabilize.
func iterate(c Cluster, data []byte, batch int) error {
	if err := c.Propose(data, batch); err != nil {
		return err
	}
	return c.Stabilize()
}

// RunFloor is the body of the floor benchmark of s: each iteration fills
// s.Batch entries of s.Size bytes and appends them to one slice per node,
// as a log with no protocol would store them. The slices are emptied, not
// freed, every workload.CompactEvery entries, like the compacted storage
// of the replication runs. It reports the same per-entry metrics, with no
// messages.
func RunFloor(b *testing.B, s Shape) error {
	data := workload.Payload(s.Size)
	ents := make([]raftpb.Entry, s.Batch)
	logs := make([][]raftpb.Entry, s.Nodes)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range ents {
			ents[j] = raftpb.Entry{Term: 1, Index: uint64(i*s.Batch + j + 1), Data: data}
		}
		for k := range logs {
			if len(logs[k]) >= workload.CompactEvery {
				logs[k] = logs[k][:0]
			}
			logs[k] = append(logs[k], ents...)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	for k := range logs {
		if n := len(logs[k]); n == 0 || logs[k][n-1].Index != uint64(b.N*s.Batch) {
			return fmt.Errorf("floor %s: log %d does not end at index %d", s.Name(), k, b.N*s.Batch)
		}
	}
	reportPerEntry(b, b.N*s.Batch, 0, &before, &after)
	return nil
}

// The per-entry metrics a replication or floor run reports.
const (
	MetricEntriesPerSec  = "entries/s"
	MetricNsPerEntry     = "ns/entry"
	MetricAllocsPerEntry = "allocs/entry"
	MetricBytesPerEntry  = "bytes/entry"
	MetricMsgsPerEntry   = "msgs/entry"
)

// reportPerEntry reports the per-entry metrics of a run that committed
// entries and sent msgs messages in its timed loop, between the memory
// statistics before and after.
func reportPerEntry(b *testing.B, entries, msgs int, before, after *runtime.MemStats) {
	m := perEntryMetrics(entries, msgs, b.Elapsed(), after.Mallocs-before.Mallocs, after.TotalAlloc-before.TotalAlloc)
	for name, v := range m {
		b.ReportMetric(v, name)
	}
}

// perEntryMetrics returns the per-entry metrics of committing entries
// with msgs messages in elapsed, making mallocs allocations of bytes
// bytes.
func perEntryMetrics(entries, msgs int, elapsed time.Duration, mallocs, bytes uint64) map[string]float64 {
	n := float64(entries)
	m := map[string]float64{
		MetricNsPerEntry:     float64(elapsed.Nanoseconds()) / n,
		MetricAllocsPerEntry: float64(mallocs) / n,
		MetricBytesPerEntry:  float64(bytes) / n,
		MetricMsgsPerEntry:   float64(msgs) / n,
	}
	if s := elapsed.Seconds(); s > 0 {
		m[MetricEntriesPerSec] = n / s
	}
	return m
}
