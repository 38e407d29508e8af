package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// TestTransferCompletesOnlyTowardATargetHoldingTheLastIndex: the leader
// tells the target to campaign (MsgTimeoutNow) only once the target holds
// the leader's last index, not merely its commit index (thesis §3.10: the
// target's log must be as up to date as the leader's, or the election it
// starts may fail, or a log with an uncommitted tail may lose it). Here
// the leader has an uncommitted tail of two entries that the target
// lacks, sent one per append; every MsgTimeoutNow is judged, as it
// leaves, against the target's disk.
func TestTransferCompletesOnlyTowardATargetHoldingTheLastIndex(t *testing.T) {
	s := newRuleNet(t, 3, false, func(cfg *Config) { cfg.MaxSizePerMsg = 1 })
	s.elect(1)
	s.propose(1, "committed")
	s.deliver(anyMsg)
	s.propose(1, "tail-1")
	last := s.propose(1, "tail-2")
	s.flushAll()
	if hs := s.hardState(1); hs.Commit != last-2 || s.diskLastIndex(3) != last-2 || s.diskLastIndex(1) != last {
		t.Fatalf("want commit %d held by the target and a tail to %d on the leader: leader %v, target's last %d",
			last-2, last, hs, s.diskLastIndex(3))
	}
	timeoutNows := 0
	s.onSend = func(m raftpb.Message) {
		if m.Type != raftpb.MsgTimeoutNow {
			return
		}
		timeoutNows++
		held, err := s.disk[m.To].Term(last)
		want, _ := s.disk[m.From].Term(last)
		if err != nil || held != want {
			t.Fatalf("the leader sent %v while the target's log ends at %d (leader's last index %d, commit %d)",
				m, s.diskLastIndex(m.To), last, s.hardState(m.From).Commit)
		}
	}
	must(t, s.nodes[1].TransferLeader(3))
	s.flushAll()
	if timeoutNows != 0 {
		t.Fatal("MsgTimeoutNow left at once, toward a target lacking the tail")
	}
	// The target catches up one append at a time, first to one entry
	// short of the leader's last; node 2 hears nothing.
	carriesLast := func(m raftpb.Message) bool {
		return m.Type == raftpb.MsgApp && len(m.Entries) > 0 && m.Entries[len(m.Entries)-1].Index >= last
	}
	s.deliver(and(among(1, 3), not(carriesLast)))
	if s.diskLastIndex(3) != last-1 {
		t.Fatalf("the target's log ends at %d, want %d", s.diskLastIndex(3), last-1)
	}
	if timeoutNows != 0 {
		t.Fatal("MsgTimeoutNow left toward a target one entry short of the leader's last index")
	}
	s.deliver(among(1, 3))
	if timeoutNows != 1 {
		t.Fatalf("%d MsgTimeoutNow sent once the target caught up, want 1", timeoutNows)
	}
	if st := s.nodes[3].state; st != StateLeader {
		t.Fatalf("the target is %v, want leader", st)
	}
}
