package core

import (
	"slices"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// joinedEmpty returns three voters led by node 1, one entry written, and
// node 4 added as a learner and started from an empty Storage, as an
// application adds a member, once the change is applied on the first
// members.
func joinedEmpty(t *testing.T) *ruleNet {
	t.Helper()
	s := newRuleNet(t, 3, false, nil)
	s.elect(1)
	s.propose(1, "a")
	s.deliver(anyMsg)
	_, _, err := s.nodes[1].ProposeConfChange(addLearner(4))
	must(t, err)
	s.deliver(anyMsg)
	s.disk[4] = NewMemoryStorage()
	s.start(4)
	return s
}

// heartbeats ticks node id through n heartbeat rounds, delivering what
// each causes.
func (s *ruleNet) heartbeats(id uint64, n int) {
	s.t.Helper()
	for i := 0; i < n; i++ {
		s.nodes[id].Tick()
		s.deliver(anyMsg)
	}
}

// diskConf returns the configuration node id's disk holds.
func (s *ruleNet) diskConf(id uint64) raftpb.ConfState {
	_, cs, err := s.disk[id].InitialState()
	must(s.t, err)
	return cs
}

// Claim: a member added with an empty Storage takes no entries before a
// snapshot has given it a configuration. The group's first configuration
// is what its first members booted with, in no entry: caught up from
// entries, the new member would apply only the changes after it, and once
// promoted hold itself as the only voter. It answers the leader's appends
// with a rejection of index 0, and nothing reaches its disk while the
// leader's storage holds no snapshot (its log was never compacted).
// Judged by what the node handed to storage and what its disk holds.
func TestAMemberAddedWithAnEmptyStorageTakesNoEntriesBeforeASnapshot(t *testing.T) {
	s := joinedEmpty(t)
	var refusals int
	s.onSend = func(m raftpb.Message) {
		if m.From == 4 && m.Type == raftpb.MsgAppResp && m.Reject && m.Index == 0 {
			refusals++
		}
	}
	s.heartbeats(1, 5)
	if n := len(s.appended[4]); n != 0 {
		t.Fatalf("node 4 wrote %d entries without a configuration: %v", n, s.appended[4])
	}
	if cs := s.diskConf(4); len(cs.Voters)+len(cs.Learners) != 0 {
		t.Fatalf("node 4's disk holds the configuration %v with no snapshot", cs)
	}
	if refusals == 0 {
		t.Fatal("node 4 never refused the leader's entries")
	}
}

// Claim: the leader answers a follower's rejection of index 0 (it holds
// no configuration) with its storage's snapshot, even though its log
// still holds every entry from index 1 (no compaction): the new member is
// caught up from the snapshot, holds the whole configuration, and once
// promoted counts the first members as voters. Judged by what node 4's
// disk holds and by a proposal that needs the others' votes.
func TestTheLeaderSendsASnapshotToAMemberThatHoldsNoConfiguration(t *testing.T) {
	s := joinedEmpty(t)
	applied := s.nodes[1].raftLog.applied
	cs := s.nodes[1].trk.ConfState()
	_, err := s.disk[1].CreateSnapshot(applied, &cs, []byte("state"))
	must(t, err)
	if first, _ := s.disk[1].FirstIndex(); first != 1 {
		t.Fatalf("the case is not set up: the leader's log starts at %d", first)
	}
	s.heartbeats(1, 3)
	snap, err := s.disk[4].Snapshot()
	must(t, err)
	if snap.Metadata.Index != applied {
		t.Fatalf("node 4 holds the snapshot %d, want the leader's %d", snap.Metadata.Index, applied)
	}
	if got := s.diskConf(4); !slices.Equal(got.Voters, []uint64{1, 2, 3}) || !slices.Equal(got.Learners, []uint64{4}) {
		t.Fatalf("node 4 holds the configuration %v, want voters 1 2 3 and learner 4", got)
	}
	promote := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddNode, NodeID: 4}}}
	_, _, err = s.nodes[1].ProposeConfChange(promote)
	must(t, err)
	s.deliver(anyMsg)
	if got := s.nodes[4].trk.ConfState(); !slices.Equal(got.Voters, []uint64{1, 2, 3, 4}) {
		t.Fatalf("node 4's configuration after its promotion: %v, want voters 1 2 3 4", got)
	}
}

// Claim: a late or duplicated rejection of index 0, arriving after the
// new member installed its snapshot and caught up, changes nothing: the
// leader does not send it a snapshot again (one below its Match, whose
// acknowledgement would never count) and goes on replicating to it.
// Judged by what node 4's disk holds after later writes.
func TestALateRefusalOfIndexZeroLeavesACaughtUpMemberReplicating(t *testing.T) {
	s := joinedEmpty(t)
	var refusal *raftpb.Message
	s.onSend = func(m raftpb.Message) {
		if refusal == nil && m.From == 4 && m.Type == raftpb.MsgAppResp && m.Reject && m.Index == 0 {
			refusal = &m
		}
	}
	applied := s.nodes[1].raftLog.applied
	cs := s.nodes[1].trk.ConfState()
	_, err := s.disk[1].CreateSnapshot(applied, &cs, []byte("state"))
	must(t, err)
	s.heartbeats(1, 3)
	s.onSend = nil
	if refusal == nil {
		t.Fatal("the case is not set up: node 4 never refused an append")
	}
	s.propose(1, "b")
	s.deliver(anyMsg)
	s.step(*refusal) // the old refusal, late
	s.deliver(anyMsg)
	s.heartbeats(1, 3)
	s.propose(1, "c")
	s.deliver(anyMsg)
	s.heartbeats(1, 3)
	if got, want := s.diskLastIndex(4), s.diskLastIndex(1); got != want {
		t.Fatalf("node 4's disk ends at %d, the leader's at %d: the late refusal left it behind", got, want)
	}
}
