package benchcmp

import (
	"fmt"
	"runtime"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/benchcmp/workload"
)

// rowMetrics are the metrics one measurement of a row gave, by library
// (or FloorName) and metric name.
type rowMetrics map[string]map[string]float64

// measureReplication measures row s on both libraries and the floor,
// interleaved in chunks of about chunkTime, until each has run for d. Each
// library's cluster is elected and warmed up first; at the end every
// proposal, warm-up included, must be applied on every node.
func measureReplication(s Shape, d time.Duration, libs []Library) (rowMetrics, error) {
	data := workload.Payload(s.Size)
	var ps []*participant
	var checks []func() error
	for _, lib := range libs {
		c, err := lib.NewCluster(s.Nodes, workload.DefaultParams())
		if err != nil {
			return nil, err
		}
		if err := c.Elect(); err != nil {
			return nil, fmt.Errorf("%s: %w", lib.Name, err)
		}
		iterations := 0
		ps = append(ps, &participant{
			name: lib.Name,
			sent: c.Sent,
			step: func(n int) error {
				for i := 0; i < n; i++ {
					if err := iterate(c, data, s.Batch); err != nil {
						return err
					}
					iterations++
				}
				return nil
			},
		})
		checks = append(checks, func() error {
			n := iterations * s.Batch
			return c.CheckApplied(n, n*s.Size)
		})
	}
	ps = append(ps, floorParticipant(s, data), payloadFloorParticipant(s, data))
	for _, p := range ps {
		if err := p.calibrate(); err != nil {
			return nil, err
		}
	}
	if err := interleave(ps, allElapsed(ps, d)); err != nil {
		return nil, err
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return nil, err
		}
	}
	m := rowMetrics{}
	for _, p := range ps {
		m[p.name] = perEntryMetrics(p.units*s.Batch, p.msgs, p.elapsed, p.mallocs, p.bytes)
	}
	return m, nil
}

// floorParticipant is the append-only floor of s, as RunFloor runs it.
func floorParticipant(s Shape, data []byte) *participant {
	ents := make([]raftpb.Entry, s.Batch)
	logs := make([][]raftpb.Entry, s.Nodes)
	next := uint64(1)
	return &participant{
		name: FloorName,
		step: func(n int) error {
			for i := 0; i < n; i++ {
				for j := range ents {
					ents[j] = raftpb.Entry{Term: 1, Index: next, Data: data}
					next++
				}
				for k := range logs {
					if len(logs[k]) >= workload.CompactEvery {
						logs[k] = logs[k][:0]
					}
					logs[k] = append(logs[k], ents...)
				}
			}
			return nil
		},
	}
}

// payloadFloorBytes is the size of each node's byte log in the payload
// floor, written over again once full.
const payloadFloorBytes = 4 << 20

// payloadFloorParticipant is the payload floor of s: each entry's payload
// appended to one byte slice per node, emptied (not freed) when full. It
// copies what a log must hold at the least.
func payloadFloorParticipant(s Shape, data []byte) *participant {
	logs := make([][]byte, s.Nodes)
	for k := range logs {
		logs[k] = make([]byte, 0, max(payloadFloorBytes, s.Batch*s.Size))
	}
	return &participant{
		name: PayloadFloorName,
		step: func(n int) error {
			for i := 0; i < n; i++ {
				for k := range logs {
					if len(logs[k])+s.Batch*s.Size > cap(logs[k]) {
						logs[k] = logs[k][:0]
					}
					for j := 0; j < s.Batch; j++ {
						logs[k] = append(logs[k], data...)
					}
				}
			}
			return nil
		},
	}
}

// idleChunkTicks is the tick rounds of one chunk of the idle workload.
const idleChunkTicks = 50

// measureIdle measures the idle workload with count groups on both
// libraries: it builds each library's groups (measuring the live heap
// they hold), then ticks both, interleaved in chunks of idleChunkTicks
// rounds, until each has had IdleTicks rounds, and measures the live
// heap again.
func measureIdle(count int, libs []Library) (rowMetrics, error) {
	var h0, h runtime.MemStats
	readHeapAfterGC(&h0)
	m := rowMetrics{}
	groups := make([]Groups, len(libs))
	ps := make([]*participant, len(libs))
	prev := h0
	for i, lib := range libs {
		g, err := lib.NewGroups(count, workload.DefaultParams())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", lib.Name, err)
		}
		readHeapAfterGC(&h)
		m[lib.Name] = map[string]float64{MetricHeapPerGroup: heapPerGroup(&prev, &h, count)}
		prev = h
		groups[i] = g
		ps[i] = &participant{name: lib.Name, sent: g.Sent, chunk: idleChunkTicks, fixedChunk: true, step: func(n int) error {
			for t := 0; t < n; t++ {
				if err := g.TickAll(); err != nil {
					return err
				}
			}
			return nil
		}}
	}
	done := func() bool {
		for _, p := range ps {
			if p.units < IdleTicks {
				return false
			}
		}
		return true
	}
	if err := interleave(ps, done); err != nil {
		return nil, err
	}
	for i, g := range groups {
		if err := g.CheckLeaders(); err != nil {
			return nil, fmt.Errorf("%s: %w", libs[i].Name, err)
		}
		for name, v := range perGroupTickMetrics(ps[i].units*count, ps[i].msgs, ps[i].elapsed, ps[i].mallocs) {
			m[libs[i].Name][name] = v
		}
	}
	idleHeaps(m, libs, groups, ps, &h0, count)
	return m, nil
}

// idleHeaps records each library's live heap per group after the ticks:
// with every library's groups alive, it drops them one at a time, the
// first library's first, and measures the heap each drop frees; the last
// library's is what is left above the heap before any was built.
func idleHeaps(m rowMetrics, libs []Library, groups []Groups, ps []*participant, h0 *runtime.MemStats, count int) {
	var before, after runtime.MemStats
	readHeapAfterGC(&before)
	for i := range libs {
		groups[i], ps[i] = nil, nil
		if i == len(libs)-1 {
			m[libs[i].Name][MetricHeapPerGroupIdle] = heapPerGroup(h0, &before, count)
			return
		}
		readHeapAfterGC(&after)
		m[libs[i].Name][MetricHeapPerGroupIdle] = heapPerGroup(&after, &before, count)
		before = after
	}
}
