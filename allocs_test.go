package raft

import (
	"reflect"
	"testing"
	"unsafe"
)

// The allocations of the steady states, pinned so that a regression fails
// the suite: an idle group's tick, and replication in batches of 64 and
// 1,024 entries on three nodes (the driver of the benchmarks, whose own
// buffers are warm by then). BENCHMARKS.md explains each number.
const (
	// maxAllocsPerIdleGroupTick: the leader's heartbeat contexts are
	// carved four to an allocation; the message arrays are reused.
	maxAllocsPerIdleGroupTick = 0.25
	// maxAllocsPerEntryBatch64 and maxAllocsPerEntryBatch1024, with
	// ReuseEntryArrays: about 0.15 per batch, the storages' segments:
	// every node takes back the array of its unstable tail once its
	// entries are applied (the synchronous loop's Advance) and fills it
	// again with the next batch, the message arrays are reused, and each
	// MemoryStorage reuses the segments its compactions drop (the nodes
	// apply entries from the arrays they handed out and never read them
	// back from storage), so that a storage allocates a segment of 4,096
	// entries only where its log outgrows what the last compaction
	// dropped. Measured 0.0023 and 0.00015; one allocation more per batch
	// (a fresh unstable array, as without the option) measures 0.018 and
	// 0.0011.
	maxAllocsPerEntryBatch64   = 0.003
	maxAllocsPerEntryBatch1024 = 0.0002
	// maxAllocsPerEntryBatch64Kept and maxAllocsPerEntryBatch1024Kept,
	// without it (the default: entry slices stay valid after Advance): one
	// allocation per batch more, the leader's fresh unstable array.
	maxAllocsPerEntryBatch64Kept   = 0.02
	maxAllocsPerEntryBatch1024Kept = 0.00125
)

func TestAnIdleGroupTickAllocatesAlmostNothing(t *testing.T) {
	const groups = 10
	for _, tc := range []struct {
		name  string
		cache *GroupCache
	}{{"own arrays", nil}, {"shared cache", NewGroupCache()}} {
		g := newIdleGroupsWith(t, groups, tc.cache)
		for i := 0; i < 10; i++ {
			g.tickAll(t)
		}
		perGroupTick := testing.AllocsPerRun(100, func() { g.tickAll(t) }) / groups
		t.Logf("%s: %.3f allocations per idle group-tick", tc.name, perGroupTick)
		if perGroupTick > maxAllocsPerIdleGroupTick {
			t.Errorf("%s: %.3f allocations per idle group-tick, want at most %.2f", tc.name, perGroupTick, maxAllocsPerIdleGroupTick)
		}
		g.checkLeaders(t)
	}
}

func TestSteadyReplicationAllocations(t *testing.T) {
	for _, tc := range []struct {
		batch int
		reuse bool
		max   float64
	}{
		{64, true, maxAllocsPerEntryBatch64}, {1024, true, maxAllocsPerEntryBatch1024},
		{64, false, maxAllocsPerEntryBatch64Kept}, {1024, false, maxAllocsPerEntryBatch1024Kept},
	} {
		c := newBenchClusterReusing(t, 3, tc.reuse)
		c.elect(t)
		data := make([]byte, 128)
		round := func() {
			c.propose(t, data, tc.batch)
			c.stabilize(t)
		}
		for i := 0; i < 20; i++ {
			round()
		}
		// AllocsPerRun reports a whole number of allocations per run, so
		// a run is 40 rounds, and a storage's segment allocated every few
		// rounds counts too. It runs the function once more to warm up:
		// 80 rounds, every entry of which must have been applied, or the
		// figure per entry counts entries that never committed.
		const rounds = 40
		before := c.appliedData
		perEntry := testing.AllocsPerRun(1, func() {
			for i := 0; i < rounds; i++ {
				round()
			}
		}) / float64(rounds*tc.batch)
		if got, want := c.appliedData-before, 2*rounds*tc.batch; got != want {
			t.Fatalf("batch %d, ReuseEntryArrays %v: node 1 applied %d entries during the measurement, want %d", tc.batch, tc.reuse, got, want)
		}
		t.Logf("batch %d, ReuseEntryArrays %v: %.6f allocations per entry", tc.batch, tc.reuse, perEntry)
		if perEntry > tc.max {
			t.Errorf("batch %d, ReuseEntryArrays %v: %.4f allocations per committed entry, want at most %.4f", tc.batch, tc.reuse, perEntry, tc.max)
		}
	}
}

// TestARawNodeHoldsItsRaftInline pins a RawNode as one allocation of the
// 480-byte size class, its core.Raft (with the log) inline: a process
// with many groups holds one per member, and a RawNode that pointed to
// its Raft took a second, 8-byte allocation per node.
func TestARawNodeHoldsItsRaftInline(t *testing.T) {
	f, ok := reflect.TypeOf(RawNode{}).FieldByName("r")
	if !ok {
		t.Fatal("RawNode has no field r")
	}
	if k := f.Type.Kind(); k != reflect.Struct {
		t.Errorf("RawNode holds its Raft as a %v, want it inline", k)
	}
	if got := unsafe.Sizeof(RawNode{}); got > 480 {
		t.Errorf("RawNode is %d bytes, at most 480: every node of every group pays for it", got)
	}
}
