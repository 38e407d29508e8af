package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
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

// TestASnapshotWithdrawsTheAcksOfTheEntriesItReplaces: a follower that
// queued the acknowledgement of an old leader's entries and then installs
// a newer leader's snapshot, before its next write, never writes those
// entries: the acknowledgement must not leave (it would count towards the
// old leader's commit), as for entries an append overwrites.
func TestASnapshotWithdrawsTheAcksOfTheEntriesItReplaces(t *testing.T) {
	c := electedCluster(t, 2)
	f := c.nodes[2]
	last := f.raftLog.lastEntryID()
	committed := f.raftLog.committed
	must(t, f.Step(raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: f.term, Index: last.index, LogTerm: last.term,
		Entries: []raftpb.Entry{{Term: f.term, Index: last.index + 1}, {Term: f.term, Index: last.index + 2}}, Commit: committed}))
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: last.index + 3, Term: f.term + 1,
		ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}
	must(t, f.Step(raftpb.Message{Type: raftpb.MsgSnap, From: 3, To: 2, Term: f.term + 1, Snapshot: &snap}))
	for _, m := range f.out.afterAppend {
		if m.Type == raftpb.MsgAppResp && !m.Reject && m.To == 1 && m.Index > committed {
			t.Fatalf("the acknowledgement of entries the snapshot replaced is still queued: %v", m)
		}
	}
}
