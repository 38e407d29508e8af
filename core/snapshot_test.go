package core

import (
	"testing"
)

// TestFollowerCatchesUpThroughSnapshotAndKeepsApplying: a follower that
// missed entries the leader compacted receives the leader's snapshot,
// installs it, counts it as applied, and then applies the entries after it.
func TestFollowerCatchesUpThroughSnapshotAndKeepsApplying(t *testing.T) {
	c := laggingBehindASnapshot(t, nil) // node 3 missed five proposals the leader compacted
	lagging := c.nodes[3]
	applied := c.nodes[1].raftLog.applied
	c.nodes[1].bcastHeartbeat()
	c.stabilize()
	if got := lagging.raftLog.firstIndex(); got != applied+1 {
		t.Fatalf("node 3 first index %d, want %d (it installed the snapshot)", got, applied+1)
	}
	c.nodes[1].ReportSnapshot(3, false)
	if _, _, err := c.nodes[1].Propose([]byte("after")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		c.nodes[1].bcastHeartbeat()
		c.stabilize()
	}
	last := c.nodes[1].raftLog.lastIndex()
	if lagging.raftLog.applied != last || lagging.raftLog.lastIndex() != last {
		t.Fatalf("node 3 applied %d, last %d; want both %d", lagging.raftLog.applied, lagging.raftLog.lastIndex(), last)
	}
	if err := lagging.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	e, err := c.st[3].Entries(last, last+1, noLimit)
	if err != nil || string(e[0].Data) != "after" {
		t.Fatalf("node 3's last entry %v, %v", e, err)
	}
}
