package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// TestAHeartbeatToAFollowerBehindTheSnapshotAllocatesNothing: a leader
// whose log was compacted past a down follower's Match sends it, at every
// heartbeat, no commit index (it cannot state the term there) and
// allocates nothing for it: the lookup of a compacted term must not build
// an error per heartbeat, for a process of many groups with a dead peer
// broadcasts to it in every group at every tick.
func TestAHeartbeatToAFollowerBehindTheSnapshotAllocatesNothing(t *testing.T) {
	c := electedCluster(t, 1)
	l := c.nodes[1]
	delete(c.nodes, 3) // node 3 is down: its Match stays where it was
	for i := 0; i < 10; i++ {
		_, _, err := l.Propose([]byte("x"))
		must(t, err)
	}
	c.stabilize()
	must(t, c.st[1].Compact(l.raftLog.applied))
	if m3, first := l.trk.Progress(3).Match, l.raftLog.firstIndex(); m3+1 >= first {
		t.Fatalf("node 3's Match %d is not behind the leader's first index %d", m3, first)
	}
	l.out.msgs = l.out.msgs[:0]
	l.bcastHeartbeat()
	for _, m := range l.out.msgs {
		if m.To == 3 && (m.Type != raftpb.MsgHeartbeat || m.Commit != 0 || m.LogTerm != 0) {
			t.Fatalf("sent node 3 %s with commit %d/%d, want a heartbeat with no commit index", m.Type, m.LogTerm, m.Commit)
		}
	}
	allocs := testing.AllocsPerRun(200, func() {
		l.bcastHeartbeat()
		l.out.msgs = l.out.msgs[:0]
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocations per heartbeat broadcast with a follower behind the snapshot, want 0", allocs)
	}
}
