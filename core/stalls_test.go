package core

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// laggingBehindASnapshot returns a cluster led by node 1 whose log was
// compacted past what node 3 holds, with node 3 back and active.
func laggingBehindASnapshot(t *testing.T, opt func(*Config)) *testCluster {
	t.Helper()
	c := electedClusterWith(t, 2, opt)
	lagging := c.nodes[3]
	delete(c.nodes, 3)
	for i := 0; i < 5; i++ {
		if _, _, err := c.nodes[1].Propose([]byte(fmt.Sprintf("missed%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	c.stabilize()
	applied := c.nodes[1].raftLog.applied
	cs := c.nodes[1].trk.ConfState()
	_, err := c.st[1].CreateSnapshot(applied, &cs, []byte("state"))
	must(t, err)
	must(t, c.st[1].Compact(applied))
	c.nodes[3] = lagging
	c.nodes[1].trk.Progress(3).RecentActive = true
	return c
}

// snapsTo returns the MsgSnaps to id among msgs.
func snapsTo(msgs []raftpb.Message, id uint64) int {
	n := 0
	for _, m := range msgs {
		if m.Type == raftpb.MsgSnap && m.To == id {
			n++
		}
	}
	return n
}

// TestALostSnapshotIsSentAgainWithoutReportSnapshot: the MsgSnap is lost
// and the application never calls ReportSnapshot; the follower keeps
// answering heartbeats. After SnapshotRetryTicks, not before, the leader
// sends the snapshot again, and the follower catches up.
func TestALostSnapshotIsSentAgainWithoutReportSnapshot(t *testing.T) {
	c := laggingBehindASnapshot(t, func(cfg *Config) { cfg.SnapshotRetryTicks = 6; cfg.DisableCheckQuorum = true })
	leader := c.nodes[1]
	leader.bcastHeartbeat()
	var sent int
	var first uint64
	for round := 0; round < 50; round++ {
		msgs := c.drain(1)
		for _, id := range []uint64{2, 3} {
			msgs = append(msgs, c.drain(id)...)
		}
		if n := snapsTo(msgs, 3); n > 0 {
			sent += n
			if sent == 1 {
				first = leader.ticks
				leader.TickN(5) // one tick short of the retry
				leader.bcastHeartbeat()
				continue // the first MsgSnap is lost
			}
			if leader.ticks-first < 6 {
				t.Fatalf("the snapshot went again after %d ticks, before SnapshotRetryTicks", leader.ticks-first)
			}
		}
		if len(msgs) == 0 {
			leader.Tick()
			leader.bcastHeartbeat()
			continue
		}
		for _, m := range msgs {
			if m.Type != raftpb.MsgSnap || sent > 1 {
				c.stepChecked(m)
			}
		}
		if c.nodes[3].raftLog.firstIndex() > 1 {
			break
		}
	}
	if sent < 2 {
		t.Fatalf("the lost snapshot was sent %d times", sent)
	}
	if got, want := c.nodes[3].raftLog.firstIndex(), leader.raftLog.firstIndex(); got != want {
		t.Fatalf("node 3's log starts at %d, want the snapshot's %d", got, want)
	}
}

// TestAFollowerIgnoresTheSnapshotItIsInstalling: a second copy of the
// MsgSnap it is writing changes nothing and is not answered.
func TestAFollowerIgnoresTheSnapshotItIsInstalling(t *testing.T) {
	c := laggingBehindASnapshot(t, nil)
	c.nodes[1].bcastHeartbeat()
	var snap raftpb.Message
	for round := 0; round < 10 && snap.Type != raftpb.MsgSnap; round++ {
		for _, m := range append(c.drain(1), c.drain(3)...) {
			if m.Type == raftpb.MsgSnap {
				snap = m
				continue
			}
			c.stepChecked(m)
		}
	}
	if snap.Type != raftpb.MsgSnap {
		t.Fatal("no snapshot was sent")
	}
	f := c.nodes[3]
	must(t, f.Step(snap))
	rd := f.Ready() // the snapshot is handed out to be written
	if rd.Snapshot.IsEmpty() {
		t.Fatal("the follower did not hand the snapshot out")
	}
	before := fingerprint(f)
	must(t, f.Step(snap))
	if fingerprint(f) != before {
		t.Fatalf("a second copy of the snapshot being installed changed the follower:\n%s\n%s", before, fingerprint(f))
	}
}

// stalledLeader returns a cluster whose leader handed a proposal to its
// storage and never gets the acknowledgement, while its appends reached
// the followers if reach is set.
func stalledLeader(t *testing.T, reach bool) (*testCluster, Ready) {
	t.Helper()
	c := electedClusterWith(t, 1, func(cfg *Config) {
		cfg.DisableCheckQuorum, cfg.StorageStallTicks, cfg.LeaseReads = true, 30, false
	})
	leader := c.nodes[1]
	if _, _, err := leader.Propose([]byte("stuck")); err != nil {
		t.Fatal(err)
	}
	rd := leader.Ready() // handed to storage; Advance never comes
	if !reach {
		return c, rd
	}
	for _, m := range rd.Messages {
		c.stepChecked(m)
	}
	for _, id := range []uint64{2, 3} {
		for _, m := range c.drain(id) {
			c.stepChecked(m)
		}
	}
	return c, rd
}

// TestALeaderWhoseStorageStallsHandsOver: after StorageStallTicks with no
// acknowledgement of its write, the leader hands leadership to a follower
// that holds its last index (MsgTimeoutNow), not before.
func TestALeaderWhoseStorageStallsHandsOver(t *testing.T) {
	c, _ := stalledLeader(t, true)
	leader := c.nodes[1]
	// The loop goes on handing out Readys (heartbeats) while the write
	// waits: they are no progress of the storage.
	var sent []raftpb.Message
	for i := 0; i < 29; i++ {
		leader.Tick()
		sent = append(sent, leader.Ready().Messages...)
	}
	if leader.transferee() != None || countType(sent, raftpb.MsgTimeoutNow) != 0 {
		t.Fatal("the leader stepped aside before StorageStallTicks")
	}
	leader.Tick()
	sent = leader.Ready().Messages
	if countType(sent, raftpb.MsgTimeoutNow) != 1 || leader.transferee() != 2 {
		t.Fatalf("a stalled leader did not hand over to node 2: transferee %d, %v", leader.transferee(), sent)
	}
	if !leader.leader.leaseRevoked {
		t.Fatal("the stalled leader kept its lease")
	}
}

// TestAStalledLeaderWithNoCaughtUpFollowerStepsDown: no follower holds
// the last index (its appends were lost): the leader steps down.
func TestAStalledLeaderWithNoCaughtUpFollowerStepsDown(t *testing.T) {
	c, _ := stalledLeader(t, false)
	leader := c.nodes[1]
	leader.TickN(30)
	if leader.state == StateLeader {
		t.Fatal("a stalled leader with no caught-up follower still leads")
	}
}

// TestAStalledLeaderWhoseHandoverEndsWithoutALeaderStepsDown: the
// follower it handed over to never stands (its MsgTimeoutNow is lost
// here; in the simulator it was a follower recovering from a lost log):
// once the handover times out, the leader steps down instead of handing
// over to it again, one election timeout after another.
func TestAStalledLeaderWhoseHandoverEndsWithoutALeaderStepsDown(t *testing.T) {
	c, _ := stalledLeader(t, true)
	leader := c.nodes[1]
	var timeoutNows int
	for i := 0; i < 30+3*leader.settings.electionTimeout && leader.state == StateLeader; i++ {
		leader.Tick()
		timeoutNows += countType(leader.Ready().Messages, raftpb.MsgTimeoutNow) // lost
	}
	if leader.state == StateLeader {
		t.Fatalf("the stalled leader still leads after %d handovers that ended without a leader", timeoutNows)
	}
	if timeoutNows != 1 {
		t.Fatalf("the stalled leader sent %d MsgTimeoutNow, want one handover", timeoutNows)
	}
}

// TestANodeWithAStalledWriteDoesNotCampaign: its vote could elect it, and
// it could commit nothing.
func TestANodeWithAStalledWriteDoesNotCampaign(t *testing.T) {
	c, rd := stalledLeader(t, false)
	leader := c.nodes[1]
	leader.TickN(30) // steps down
	if err := leader.Campaign(); !errors.Is(err, ErrStorageStalled) {
		t.Fatalf("Campaign with a stalled write = %v, want ErrStorageStalled", err)
	}
	term := leader.term
	leader.TickN(10 * leader.settings.electionTimeout)
	if leader.state != StateFollower || leader.term != term {
		t.Fatalf("a node with a stalled write campaigned: %v at term %d", leader.state, leader.term)
	}
	must(t, c.st[1].Append(rd.Entries)) // the write completes at last
	leader.Advance()
	must(t, leader.Campaign())
}

// TestAFollowerAckingASnapshotThePastLogOutgrewGetsANewer: the follower
// installs the snapshot and acknowledges it, but the leader compacted its
// log past that snapshot while it travelled. Without ReportSnapshot, the
// acknowledgement itself must move the follower on to a newer snapshot
// (found by the simulator: the follower stayed in StateSnapshot, its
// Match at the pending snapshot, so no resend was ever due).
func TestAFollowerAckingASnapshotThePastLogOutgrewGetsANewer(t *testing.T) {
	c := laggingBehindASnapshot(t, func(cfg *Config) { cfg.DisableCheckQuorum = true })
	leader := c.nodes[1]
	leader.bcastHeartbeat()
	var ack raftpb.Message
	for round := 0; round < 10 && ack.Type != raftpb.MsgAppResp; round++ {
		for _, m := range append(append(c.drain(1), c.drain(2)...), c.drain(3)...) {
			if m.From == 3 && m.Type == raftpb.MsgAppResp && !m.Reject && m.Index > 1 {
				ack = m // held back until the leader compacted further
				continue
			}
			c.stepChecked(m)
		}
	}
	if ack.Type != raftpb.MsgAppResp {
		t.Fatal("node 3 never acknowledged the snapshot")
	}
	follower := c.nodes[3]
	delete(c.nodes, 3)
	for i := 0; i < 3; i++ {
		if _, _, err := leader.Propose([]byte(fmt.Sprintf("later%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	c.stabilize()
	applied := leader.raftLog.applied
	cs := leader.trk.ConfState()
	_, err := c.st[1].CreateSnapshot(applied, &cs, []byte("newer"))
	must(t, err)
	must(t, c.st[1].Compact(applied))
	c.nodes[3] = follower
	c.stepChecked(ack)
	newer := 0
	for round := 0; round < 20 && follower.raftLog.firstIndex() <= applied; round++ {
		leader.Tick()
		leader.bcastHeartbeat()
		for _, id := range []uint64{1, 2, 3} {
			for _, m := range c.drain(id) {
				if m.Type == raftpb.MsgSnap && m.To == 3 && m.Snapshot.Metadata.Index == applied {
					newer++
				}
				c.stepChecked(m)
			}
		}
	}
	if newer == 0 {
		t.Fatalf("the leader never sent node 3 the snapshot at %d after it acknowledged the one at %d (progress %v)",
			applied, ack.Index, leader.trk.Progress(3))
	}
	if got := follower.raftLog.firstIndex(); got != applied+1 {
		t.Fatalf("node 3's log starts at %d, want %d", got, applied+1)
	}
}
