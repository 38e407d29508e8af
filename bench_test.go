package raft

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// The shapes every commit benchmark runs: cluster sizes, payload sizes in
// bytes, and proposals per loop iteration.
var (
	benchNodeCounts = []int{3, 5}
	benchSizes      = []int{128, 1024}
	benchBatches    = []int{1, 64, 1024}
)

// forEachBenchShape runs f as a sub-benchmark named
// nodes=N/size=S/batch=B for every shape.
func forEachBenchShape(b *testing.B, f func(b *testing.B, nodes, size, batch int)) {
	for _, nodes := range benchNodeCounts {
		for _, size := range benchSizes {
			for _, batch := range benchBatches {
				name := fmt.Sprintf("nodes=%d/size=%d/batch=%d", nodes, size, batch)
				b.Run(name, func(b *testing.B) { f(b, nodes, size, batch) })
			}
		}
	}
}

// BenchmarkCommit measures committing entries on an in-memory cluster led
// by node 1: each iteration proposes batch entries of size bytes and runs
// the cluster until they are applied everywhere. It reports, per committed
// entry, the time, the messages sent and the allocations, and the
// committed entries per second. Targets (reported, not asserted): at
// batch=64, at most 1 message and 0.5 allocations per committed entry.
func BenchmarkCommit(b *testing.B) {
	forEachBenchShape(b, benchmarkCommit)
}

func benchmarkCommit(b *testing.B, nodes, size, batch int) {
	c := newBenchCluster(b, nodes)
	c.elect(b)
	data := make([]byte, size)
	c.sent, c.appliedData = 0, 0
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.propose(b, data, batch)
		c.stabilize(b)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	committed := b.N * batch
	if c.appliedData != committed {
		b.Fatalf("%d entries proposed, %d applied by the leader", committed, c.appliedData)
	}
	reportPerEntry(b, committed, c.sent, after.Mallocs-before.Mallocs)
}

// BenchmarkAppendFloor is the floor BenchmarkCommit compares with: the
// same entries, copied into one slice per node, as a log with no protocol
// would store them.
func BenchmarkAppendFloor(b *testing.B) {
	forEachBenchShape(b, benchmarkAppendFloor)
}

func benchmarkAppendFloor(b *testing.B, nodes, size, batch int) {
	data := make([]byte, size)
	ents := make([]raftpb.Entry, batch)
	logs := make([][]raftpb.Entry, nodes)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range ents {
			ents[j] = raftpb.Entry{Term: 1, Index: uint64(i*batch + j + 1), Data: data}
		}
		for k := range logs {
			if len(logs[k]) >= compactEvery {
				logs[k] = logs[k][:0] // bounded, like the cluster's compacted storage
			}
			logs[k] = append(logs[k], ents...)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	reportPerEntry(b, b.N*batch, 0, after.Mallocs-before.Mallocs)
}

// BenchmarkPayloadFloor is the second floor BenchmarkCommit compares
// with: each entry's payload bytes copied into one byte slice per node, as
// a store that keeps nothing but the bytes would. It copies what a log
// must hold at the least; BenchmarkAppendFloor copies the entries (their
// headers, with a pointer to the shared payload) instead.
func BenchmarkPayloadFloor(b *testing.B) {
	forEachBenchShape(b, benchmarkPayloadFloor)
}

// payloadFloorBytes is the size of each node's byte log in
// BenchmarkPayloadFloor, written over again once full.
const payloadFloorBytes = 4 << 20

func benchmarkPayloadFloor(b *testing.B, nodes, size, batch int) {
	data := make([]byte, size)
	logs := make([][]byte, nodes)
	for k := range logs {
		logs[k] = make([]byte, 0, max(payloadFloorBytes, batch*size))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range logs {
			if len(logs[k])+batch*size > cap(logs[k]) {
				logs[k] = logs[k][:0] // bounded, like the cluster's compacted storage
			}
			for j := 0; j < batch; j++ {
				logs[k] = append(logs[k], data...)
			}
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	reportPerEntry(b, b.N*batch, 0, after.Mallocs-before.Mallocs)
}

// reportPerEntry reports the per-entry metrics of a benchmark that
// committed entries, sending msgs messages and making mallocs allocations
// in its timed loop.
func reportPerEntry(b *testing.B, entries, msgs int, mallocs uint64) {
	n := float64(entries)
	elapsed := b.Elapsed()
	b.ReportMetric(float64(elapsed.Nanoseconds())/n, "ns/entry")
	b.ReportMetric(float64(msgs)/n, "msgs/entry")
	b.ReportMetric(float64(mallocs)/n, "allocs/entry")
	if s := elapsed.Seconds(); s > 0 {
		b.ReportMetric(n/s, "entries/s")
	}
}
