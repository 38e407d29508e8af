package raft

import (
	"fmt"
	"testing"
)

// BenchmarkQuiescedGroups is BenchmarkIdleGroups with Config.Quiesce on:
// the same three-node groups, elected, are ticked until every group
// sleeps, and then each iteration ticks every node of every group
// idleTicks times and handles what follows, as the idle benchmark does.
// It reports the same per-group-tick metrics, so that the two compare in
// one run (a host may also skip a sleeping node's ticks altogether; this
// measures the host that does not). Run it with -benchtime=1x.
func BenchmarkQuiescedGroups(b *testing.B) {
	for _, n := range idleGroupCounts {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) { benchmarkQuiescedGroups(b, n) })
	}
}

func benchmarkQuiescedGroups(b *testing.B, groups int) {
	tickGroups(b, groups, newQuiescedGroups, (*idleGroups).checkAsleep)
}

// newQuiescedGroups builds count three-node groups with quiescence on,
// elects node 1 in each and ticks them until every group sleeps.
func newQuiescedGroups(tb testing.TB, count int) *idleGroups {
	tb.Helper()
	g := &idleGroups{groups: make([][]*clusterNode, count)}
	quiesce := func(c *Config) { c.Quiesce = true }
	for i := range g.groups {
		g.groups[i] = newClusterNodes(tb, 3, quiesce)
		g.drv.nodes = g.groups[i]
		g.drv.elect(tb)
		for t := 0; t < 100 && !groupAsleep(g.groups[i]); t++ {
			for _, nd := range g.groups[i] {
				nd.rn.Tick()
			}
			g.drv.stabilize(tb)
		}
	}
	g.drv.nodes = nil
	g.term = g.groups[0][0].rn.BasicStatus().Term
	g.checkAsleep(tb)
	return g
}

// groupAsleep reports whether every node of a group sleeps.
func groupAsleep(nodes []*clusterNode) bool {
	for _, nd := range nodes {
		if !nd.rn.BasicStatus().Quiesced {
			return false
		}
	}
	return true
}

// checkAsleep fails unless every group still sleeps, led by node 1 in the
// term of its election.
func (g *idleGroups) checkAsleep(tb testing.TB) {
	tb.Helper()
	g.checkLeaders(tb)
	for i, nodes := range g.groups {
		if !groupAsleep(nodes) {
			tb.Fatalf("group %d is awake", i)
		}
	}
}
