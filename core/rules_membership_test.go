package core

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

func addLearner(id uint64) raftpb.ConfChangeV2 {
	return raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode, NodeID: id}}}
}

// enterJointDemoting enters a joint configuration that makes voter id a
// learner and asks the leader to leave it on its own (thesis §4.3).
func enterJointDemoting(id uint64) raftpb.ConfChangeV2 {
	return raftpb.ConfChangeV2{
		Transition: raftpb.ConfChangeTransitionJointImplicit,
		Changes:    []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode, NodeID: id}},
	}
}

func isLeaveJoint(e raftpb.Entry) bool {
	if e.Type != raftpb.EntryConfChangeV2 {
		return false
	}
	cc, err := e.ConfChange()
	return err == nil && cc.AsV2().LeaveJoint()
}

// confChangesOnDisk returns the conf change entries on node id's disk.
func (s *ruleNet) confChangesOnDisk(id uint64) []raftpb.Entry {
	s.t.Helper()
	var out []raftpb.Entry
	first, _ := s.disk[id].FirstIndex()
	for lo, hi := first, s.diskLastIndex(id)+1; lo < hi; {
		ents, err := s.disk[id].Entries(lo, hi, noLimit) // may stop short: ask again
		must(s.t, err)
		for _, e := range ents {
			if e.IsConfChange() {
				out = append(out, e)
			}
		}
		lo += uint64(len(ents))
	}
	return out
}

// lastApplied is the index of the last entry node id handed out to apply.
func (s *ruleNet) lastApplied(id uint64) uint64 {
	if n := len(s.applied[id]); n > 0 {
		return s.applied[id][n-1].Index
	}
	return 0
}

// TestSecondConfChangeIsRefusedWhileOneIsUnapplied: while a conf change
// is in the log and not applied, appended or committed, the leader
// refuses another, with an error wrapping ErrPendingConfChange, whether
// proposed on the leader or forwarded by a follower, and the log gains no
// second change (thesis §4.1: one change at a time). Once the first is
// applied, the second is accepted.
func TestSecondConfChangeIsRefusedWhileOneIsUnapplied(t *testing.T) {
	s := newRuleNet(t, 3, true, nil)
	s.elect(1)
	s.deliver(anyMsg)
	leader := s.nodes[1]
	if _, _, err := leader.ProposeConfChange(addLearner(4)); err != nil {
		t.Fatal(err)
	}
	refused := func(when string) {
		t.Helper()
		if _, _, err := leader.ProposeConfChange(addLearner(5)); !errors.Is(err, ErrPendingConfChange) || !errors.Is(err, ErrProposalDropped) {
			t.Fatalf("%s: a second ProposeConfChange = %v, want ErrPendingConfChange", when, err)
		}
		fwd := raftpb.Message{Type: raftpb.MsgProp, From: 2, To: 1, Entries: []raftpb.Entry{confChangeEntry(addLearner(5))}}
		if err := leader.Step(fwd); !errors.Is(err, ErrPendingConfChange) {
			t.Fatalf("%s: a second conf change forwarded by a follower = %v, want ErrPendingConfChange", when, err)
		}
	}
	refused("appended, not committed")
	s.holdApply[1] = true
	s.deliver(anyMsg)
	if hs := s.hardState(1); hs.Commit < 2 || s.lastApplied(1) >= 2 {
		t.Fatalf("want the change committed, not applied: disk %v, applied up to %d", hs, s.lastApplied(1))
	}
	refused("committed, not applied")
	for _, id := range s.ids {
		if ccs := s.confChangesOnDisk(id); len(ccs) != 1 {
			t.Fatalf("node %d's disk holds %d conf changes, want 1: %v", id, len(ccs), ccs)
		}
	}
	s.holdApply[1] = false
	s.deliver(anyMsg)
	if _, _, err := leader.ProposeConfChange(addLearner(5)); err != nil {
		t.Fatalf("the second change once the first is applied: %v", err)
	}
}

// watchLeaves makes s judge every LeaveJoint entry as its author (the
// first node to write it: the leader that appended it) writes it: its
// log must hold no other LeaveJoint that it has not applied (the auto
// leave of thesis §4.3 is proposed exactly once). It returns the count of
// leaves authored, by term.
func watchLeaves(t *testing.T, s *ruleNet) map[uint64]int {
	seen := map[entryID]bool{}
	byTerm := map[uint64]int{}
	s.onPersist = func(id uint64, ents []raftpb.Entry) {
		for i, e := range ents {
			if !isLeaveJoint(e) || seen[idOf(&e)] {
				continue
			}
			seen[idOf(&e)] = true
			byTerm[e.Term]++
			pending := append(s.confChangesOnDisk(id), ents[:i]...)
			for _, o := range pending {
				if isLeaveJoint(o) && o.Index > s.lastApplied(id) && o.Index < e.Index {
					t.Fatalf("node %d appended a second LeaveJoint at %d (term %d) while the one at %d (term %d) is unapplied (applied %d)",
						id, e.Index, e.Term, o.Index, o.Term, s.lastApplied(id))
				}
			}
		}
	}
	return byTerm
}

// runUntilLeft ticks the leader and delivers everything, many times over,
// then checks that every node left the joint configuration.
func (s *ruleNet) runUntilLeft(leader uint64) {
	s.t.Helper()
	for i := 0; i < 3*s.nodes[leader].settings.electionTimeout; i++ {
		s.nodes[leader].Tick()
		s.deliver(anyMsg)
	}
	for _, id := range s.up() {
		if s.nodes[id].trk.Voters.IsJoint() {
			s.t.Fatalf("node %d is still in the joint configuration %v", id, s.nodes[id].trk.Voters)
		}
	}
}

// oneEntryPerReady makes every Ready hand out one committed entry, so
// that entries are applied one at a time and the leader sees each apply.
func oneEntryPerReady(cfg *Config) { cfg.MaxCommittedEntriesPerReady = 1 }

// TestAutoLeaveIsProposedExactlyOnce: the leader that entered a joint
// configuration with automatic leave appends exactly one LeaveJoint,
// however many entries it applies and ticks pass before that leave is
// applied. Entries proposed right behind the joint change are applied
// after the leave is appended: each is a chance to append another.
func TestAutoLeaveIsProposedExactlyOnce(t *testing.T) {
	s := newRuleNet(t, 3, false, oneEntryPerReady)
	byTerm := watchLeaves(t, s)
	s.elect(1)
	s.deliver(anyMsg)
	if _, _, err := s.nodes[1].ProposeConfChange(enterJointDemoting(3)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"p1", "p2", "p3"} {
		s.propose(1, p)
	}
	s.runUntilLeft(1)
	if byTerm[1] != 1 {
		t.Fatalf("the leader appended %d LeaveJoint entries, want 1", byTerm[1])
	}
}

// TestNewLeaderLeavesInheritedJointConfigurationOnce: the leader that
// entered the joint configuration crashed before its LeaveJoint reached
// anyone; the next leader, which has applied the joint configuration,
// appends the leave itself, exactly once.
func TestNewLeaderLeavesInheritedJointConfigurationOnce(t *testing.T) {
	s := newRuleNet(t, 5, false, oneEntryPerReady)
	byTerm := watchLeaves(t, s)
	s.elect(1)
	s.deliver(anyMsg)
	if _, _, err := s.nodes[1].ProposeConfChange(enterJointDemoting(5)); err != nil {
		t.Fatal(err)
	}
	// Everything is delivered but the leave; heartbeats spread the commit.
	carriesLeave := func(m raftpb.Message) bool {
		for _, e := range m.Entries {
			if isLeaveJoint(e) {
				return true
			}
		}
		return false
	}
	for i := 0; i < 3; i++ {
		s.nodes[1].Tick()
		s.deliver(not(carriesLeave))
		s.drop(carriesLeave)
	}
	if byTerm[1] != 1 {
		t.Fatalf("the first leader appended %d leaves, want 1", byTerm[1])
	}
	for _, id := range []uint64{2, 3, 4} {
		if !s.nodes[id].trk.Voters.IsJoint() || len(s.confChangesOnDisk(id)) != 1 {
			t.Fatalf("node %d: want the joint configuration applied and no leave: %v, %v",
				id, s.nodes[id].trk.Voters, s.confChangesOnDisk(id))
		}
	}
	s.crash(1)
	for _, id := range []uint64{3, 4} {
		must(t, s.nodes[id].ForgetLeader())
	}
	s.elect(2, 3, 4)
	term := s.nodes[2].term
	for _, p := range []string{"q1", "q2", "q3"} {
		s.propose(2, p)
	}
	s.runUntilLeft(2)
	if byTerm[term] != 1 {
		t.Fatalf("the new leader appended %d LeaveJoint entries, want 1", byTerm[term])
	}
}

// TestNewLeaderInheritingAnUnappliedLeaveAddsNone: the old leader
// appended its LeaveJoint, behind a proposal, and it reached a majority
// but was not committed when the leader crashed. The next leader holds
// that leave unapplied: it must append none of its own, while it applies
// the entries before the inherited leave one by one.
func TestNewLeaderInheritingAnUnappliedLeaveAddsNone(t *testing.T) {
	s := newRuleNet(t, 5, false, oneEntryPerReady)
	byTerm := watchLeaves(t, s)
	s.elect(1)
	s.deliver(anyMsg)
	if _, _, err := s.nodes[1].ProposeConfChange(enterJointDemoting(5)); err != nil {
		t.Fatal(err)
	}
	// The followers take the joint change; their acknowledgements reach
	// the leader together, and a proposal arrives before its next Ready,
	// so that the log reads: joint change, p1, leave.
	s.deliver(and(to(2, 3, 4, 5), ofType(raftpb.MsgApp)))
	s.stepQueued(and(to(1), ofType(raftpb.MsgAppResp)))
	s.propose(1, "p1")
	s.flush(1)
	if byTerm[1] != 1 || s.lastApplied(1) != 2 {
		t.Fatalf("want the leader to have applied the joint change and appended a leave: applied %d, leaves %v", s.lastApplied(1), byTerm)
	}
	// 2, 3 and 4 get p1 and the leave; their acknowledgements are lost.
	s.deliver(and(among(1, 2, 3, 4), ofType(raftpb.MsgApp)))
	s.drop(anyMsg)
	for _, id := range []uint64{2, 3, 4} {
		if last := s.diskLastIndex(id); last != 4 || !s.nodes[id].trk.Voters.IsJoint() {
			t.Fatalf("node %d: last index %d, configuration %v; want the leave at 4 and the joint configuration", id, last, s.nodes[id].trk.Voters)
		}
	}
	s.crash(1)
	for _, id := range []uint64{3, 4} {
		must(t, s.nodes[id].ForgetLeader())
	}
	s.elect(2, 3, 4)
	s.runUntilLeft(2)
	if n := byTerm[s.nodes[2].term]; n != 0 {
		t.Fatalf("the new leader appended %d LeaveJoint entries over the inherited one, want 0", n)
	}
}
