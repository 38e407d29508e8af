package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// replicaMove is what the multi-group demo measured of one group's
// replica moved off a host and back (per-group membership).
type replicaMove struct {
	group, host       uint64
	dropped, caughtUp time.Duration
}

// moveReplica removes a follower's replica of group 1 through the
// group's admin endpoint, waits for the host to drop it (the other groups
// stay), adds the host back as a learner, waits for its new, empty
// replica to catch up from the leader (entries, or its snapshot once the
// leader's log is compacted), and promotes it again.
// The acknowledged keys are verified after it, so the replica that came
// back must hold every key of its group.
func moveReplica(ctx context.Context, c *hostCluster, stdout io.Writer) (*replicaMove, error) {
	const g = 1
	sts, err := c.awaitGroups(ctx, "a leader in every group", everyGroupLed)
	if err != nil {
		return nil, err
	}
	var lead uint64
	for _, st := range sts {
		lead = st.Group(g).Leader
	}
	m := &replicaMove{group: g, host: lead%uint64(len(c.peers)) + 1}
	start := time.Now()
	if err := c.client.RemoveGroupMember(ctx, g, m.host); err != nil {
		return nil, fmt.Errorf("removing host %d from group %d: %w", m.host, g, err)
	}
	if _, err := c.awaitGroups(ctx, "the removed replica to be dropped", func(sts map[uint64]*kvnode.HostStatus) bool {
		st := sts[m.host]
		return st.Group(g) == nil && st.Hosted == st.Groups-1
	}); err != nil {
		return nil, err
	}
	m.dropped = time.Since(start)
	fmt.Fprintf(stdout, "removed host %d from group %d: it dropped its replica %s later and kept its %d other groups\n",
		m.host, g, ms(m.dropped), sts[m.host].Groups-1)
	start = time.Now()
	if err := c.client.AddGroupLearner(ctx, g, m.host); err != nil {
		return nil, fmt.Errorf("adding host %d back to group %d: %w", m.host, g, err)
	}
	commit := sts[lead].Group(g).Commit
	if _, err := c.awaitGroups(ctx, "the new replica to catch up", func(sts map[uint64]*kvnode.HostStatus) bool {
		gs := sts[m.host].Group(g)
		return gs != nil && gs.Applied >= commit
	}); err != nil {
		return nil, err
	}
	if err := c.client.PromoteGroupMember(ctx, g, m.host); err != nil {
		return nil, fmt.Errorf("promoting host %d in group %d: %w", m.host, g, err)
	}
	if _, err := c.awaitGroups(ctx, "the replica to vote again", func(sts map[uint64]*kvnode.HostStatus) bool {
		gs := sts[m.host].Group(g)
		return gs != nil && slices.Contains(gs.Voters, m.host)
	}); err != nil {
		return nil, err
	}
	m.caughtUp = time.Since(start)
	fmt.Fprintf(stdout, "added host %d back to group %d: its new, empty replica caught up and votes again %s later\n",
		m.host, g, ms(m.caughtUp))
	return m, nil
}
