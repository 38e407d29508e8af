package raft

import (
	"fmt"
	"runtime"
	"testing"
)

// The idle multi-group workload: many independent three-node groups in one
// process, each node a RawNode over its own MemoryStorage with the default
// Config (HeartbeatTick 1, ElectionTick 10, PreVote and CheckQuorum on).
// Every group elects node 1, and then each benchmark iteration ticks every
// node of every group idleTicks times; after each tick of a group its
// Readys are handled and its messages (heartbeats and their responses)
// delivered until it is quiet. All groups share one driver and its message
// buffers, so that what a group costs is the library's state, not the
// driver's, and one GroupCache, as the groups one goroutine drives in a
// multi-group process would.

// idleGroupCounts are the numbers of groups BenchmarkIdleGroups runs.
var idleGroupCounts = []int{1000, 10000}

// idleTicks is the number of times one benchmark iteration ticks every
// node of every group.
const idleTicks = 1000

// BenchmarkIdleGroups measures what idle groups cost: the heap each
// three-node group holds (HeapAlloc after a collection, before building the
// groups and after electing their leaders, divided by the groups;
// heap-B/group-idle is the same after the ticks) and the time, allocations
// and messages of one group-tick (one Tick of each of a group's three nodes
// and the handling of everything it causes). One iteration takes seconds;
// run it with -benchtime=1x.
func BenchmarkIdleGroups(b *testing.B) {
	for _, n := range idleGroupCounts {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) { benchmarkIdleGroups(b, n) })
	}
}

func benchmarkIdleGroups(b *testing.B, groups int) {
	base, idle := tickGroups(b, groups, newIdleGroups, (*idleGroups).checkLeaders)
	b.ReportMetric(heapPerGroup(&base, &idle, groups), "heap-B/group-idle")
}

// tickGroups builds groups groups with build, ticks every node of every
// group idleTicks times per iteration, checks them with check and
// reports the time, allocations and messages per group-tick and the heap
// per group as built; it returns the heap before building and after the
// ticks, both read after a collection.
func tickGroups(b *testing.B, groups int, build func(testing.TB, int) *idleGroups, check func(*idleGroups, testing.TB)) (base, idle runtime.MemStats) {
	var built, before, after runtime.MemStats
	readHeapAfterGC(&base)
	g := build(b, groups)
	readHeapAfterGC(&built)
	g.drv.sent = 0
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for t := 0; t < idleTicks; t++ {
			g.tickAll(b)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	check(g, b)
	readHeapAfterGC(&idle)
	runtime.KeepAlive(g)

	groupTicks := float64(b.N) * idleTicks * float64(groups)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/groupTicks, "ns/group-tick")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/groupTicks, "allocs/group-tick")
	b.ReportMetric(float64(g.drv.sent)/groupTicks, "msgs/group-tick")
	b.ReportMetric(heapPerGroup(&base, &built, groups), "heap-B/group")
	return base, idle
}

// readHeapAfterGC collects garbage and then reads the memory statistics, so
// that HeapAlloc counts only live objects.
func readHeapAfterGC(ms *runtime.MemStats) {
	runtime.GC()
	runtime.ReadMemStats(ms)
}

// heapPerGroup returns the live heap grown from base to now, per group.
func heapPerGroup(base, now *runtime.MemStats, groups int) float64 {
	return float64(int64(now.HeapAlloc)-int64(base.HeapAlloc)) / float64(groups)
}

// idleGroups is the set of groups of the idle workload and the one driver
// that runs them all: its nodes are pointed at one group at a time, so its
// message buffers are shared.
type idleGroups struct {
	groups [][]*clusterNode
	drv    benchCluster
	// term is the term every node is in once the leaders are elected.
	term uint64
}

// newIdleGroups builds count three-node groups sharing one GroupCache and
// elects node 1 in each.
func newIdleGroups(tb testing.TB, count int) *idleGroups {
	return newIdleGroupsWith(tb, count, NewGroupCache())
}

// newIdleGroupsWith builds count three-node groups whose nodes are given
// cache (nil: none) and elects node 1 in each.
func newIdleGroupsWith(tb testing.TB, count int, cache *GroupCache) *idleGroups {
	tb.Helper()
	g := &idleGroups{groups: make([][]*clusterNode, count)}
	withCache := func(cfg *Config) { cfg.GroupCache = cache }
	for i := range g.groups {
		g.groups[i] = newClusterNodes(tb, 3, withCache)
		g.drv.nodes = g.groups[i]
		g.drv.elect(tb)
	}
	g.drv.nodes = nil
	g.term = g.groups[0][0].rn.BasicStatus().Term
	g.checkLeaders(tb)
	return g
}

// tickAll ticks every node of every group once, handling each group's work
// before the next group's tick.
func (g *idleGroups) tickAll(tb testing.TB) {
	for _, nodes := range g.groups {
		for _, nd := range nodes {
			nd.rn.Tick()
		}
		g.drv.nodes = nodes
		g.drv.stabilize(tb)
	}
	g.drv.nodes = nil
}

// checkLeaders fails unless every group is still led by node 1 in the
// term of its election, with both followers following it: an idle group
// whose heartbeats do not arrive would hold an election.
func (g *idleGroups) checkLeaders(tb testing.TB) {
	tb.Helper()
	for i, nodes := range g.groups {
		for _, nd := range nodes {
			s := nd.rn.BasicStatus()
			want := StateFollower
			if nd.id == 1 {
				want = StateLeader
			}
			if s.RaftState != want || s.Lead != 1 || s.Term != g.term {
				tb.Fatalf("group %d node %d: %v led by %d in term %d, want %v led by 1 in term %d",
					i, nd.id, s.RaftState, s.Lead, s.Term, want, g.term)
			}
		}
	}
}
