package tickraftdriver

import (
	"fmt"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/tools/benchcmp/workload"
)

// Groups is a set of independent three-node clusters that share one
// network, so that what a group holds is the library's state and not the
// driver's buffers, and one raft.GroupCache, as the groups one goroutine
// drives in a multi-group process would.
type Groups struct {
	groups []*Cluster
	net    *network
	// term is the term every group's leader was elected in.
	term uint64
}

// NewGroups builds count three-node groups and elects node 1 in each.
func NewGroups(count int, p workload.Params) (*Groups, error) {
	g := &Groups{groups: make([]*Cluster, count), net: &network{}}
	cache := raft.NewGroupCache()
	for i := range g.groups {
		c, err := newCluster(3, p, g.net, cache)
		if err != nil {
			return nil, err
		}
		if err := c.Elect(); err != nil {
			return nil, fmt.Errorf("group %d: %w", i, err)
		}
		g.groups[i] = c
	}
	if count > 0 {
		g.term, _ = g.groups[0].Leader()
	}
	return g, g.CheckLeaders()
}

// TickAll ticks every node of every group once, stabilizing each group
// before the next group's tick.
func (g *Groups) TickAll() error {
	for i, c := range g.groups {
		c.Tick()
		if err := c.Stabilize(); err != nil {
			return fmt.Errorf("group %d: %w", i, err)
		}
	}
	return nil
}

// CheckLeaders fails unless every group is still led by node 1 in the
// term of its election: an idle group whose heartbeats do not arrive would
// hold an election.
func (g *Groups) CheckLeaders() error {
	for i, c := range g.groups {
		term, err := c.Leader()
		if err != nil {
			return fmt.Errorf("group %d: %w", i, err)
		}
		if term != g.term {
			return fmt.Errorf("group %d: term %d, want %d", i, term, g.term)
		}
	}
	return nil
}

// Sent returns the messages the groups' nodes sent to each other.
func (g *Groups) Sent() int { return g.net.sent }
