package core

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

func removeNode(id uint64) raftpb.ConfChangeV2 {
	return raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeRemoveNode, NodeID: id}}}
}

// TestRemovedLeaderStepsDownAndTheRestElect: the leader that applies its
// own removal steps down; the others apply the change and elect a leader
// among themselves.
func TestRemovedLeaderStepsDownAndTheRestElect(t *testing.T) {
	c := electedCluster(t, 1)
	leader := c.nodes[1]
	if _, _, err := leader.ProposeConfChange(removeNode(1)); err != nil {
		t.Fatal(err)
	}
	c.stabilize()
	if leader.state != StateFollower {
		t.Fatalf("removed leader is %v, want follower", leader.state)
	}
	if err := leader.Campaign(); !errors.Is(err, ErrNotAMember) {
		t.Fatalf("removed node campaigning = %v, want ErrNotAMember", err)
	}
	for _, id := range []uint64{2, 3} {
		if got := c.nodes[id].trk.Voters.String(); got != "(2 3)" {
			t.Fatalf("node %d's voters %s, want (2 3)", id, got)
		}
	}
	// The new configuration elects a leader of its own.
	delete(c.nodes, 1)
	for i := 0; i < 4*c.nodes[2].settings.electionTimeout && c.nodes[2].state != StateLeader && c.nodes[3].state != StateLeader; i++ {
		c.nodes[2].Tick()
		c.nodes[3].Tick()
		c.stabilize()
	}
	if c.nodes[2].state != StateLeader && c.nodes[3].state != StateLeader {
		t.Fatal("the new configuration elected no leader")
	}
}

func TestKeepLeaderAfterRemovalKeepsTheOldBehaviour(t *testing.T) {
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1}})
	r, err := NewRaft(&Config{ID: 1, Storage: st, KeepLeaderAfterRemoval: true})
	if err != nil {
		t.Fatal(err)
	}
	must(t, r.Campaign())
	for i := 0; i < 3 && r.HasReady(); i++ { // pre-vote round, then vote round
		r.Ready()
		r.Advance()
	}
	if r.state != StateLeader {
		t.Fatalf("single node is %v", r.state)
	}
	add := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddNode, NodeID: 2}}}
	if _, err := r.ApplyConfChange(add); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplyConfChange(removeNode(1)); err != nil {
		t.Fatal(err)
	}
	if r.state != StateLeader {
		t.Fatalf("with KeepLeaderAfterRemoval the removed leader is %v, want leader", r.state)
	}
}

func TestUnknownTransitionIsRefusedNotGuessed(t *testing.T) {
	c := electedCluster(t, 0)
	cc := raftpb.ConfChangeV2{Transition: 7, Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 4}}}
	if _, err := c.nodes[1].ApplyConfChange(cc); !errors.Is(err, ErrUnknownTransition) {
		t.Fatalf("ApplyConfChange with transition 7 = %v", err)
	}
	if _, _, err := c.nodes[1].ProposeConfChange(cc); !errors.Is(err, ErrUnknownTransition) {
		t.Fatalf("ProposeConfChange with transition 7 = %v", err)
	}
}

func TestConfChangeRefusedByMembershipMathIsRefusedAtProposal(t *testing.T) {
	c := electedCluster(t, 0)
	leave := raftpb.ConfChangeV2{Transition: raftpb.ConfChangeTransitionAuto} // leaving a joint configuration we are not in
	if _, _, err := c.nodes[1].ProposeConfChange(leave); !errors.Is(err, ErrProposalDropped) {
		t.Fatalf("leave-joint outside joint = %v, want ErrProposalDropped", err)
	}
	if last := c.nodes[1].raftLog.lastIndex(); last != 1 {
		t.Fatalf("a refused change reached the log (last index %d)", last)
	}
}

// TestCandidateLearnsCommitFromAVoteRejection: a voter that rejects a
// candidate reports its commit index; a candidate holding that same entry
// adopts it (Log Matching), and a forged or foreign claim is ignored.
func TestCandidateLearnsCommitFromAVoteRejection(t *testing.T) {
	// A node holding 1/1..1/3 that has heard only index 1 committed.
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	must(t, st.Append(ents(1, 1, 1, 1)))
	must(t, st.SetHardState(raftpb.HardState{Term: 1, Commit: 1}))
	f, err := NewRaft(&Config{ID: 2, Storage: st})
	must(t, err)
	must(t, f.Campaign())
	if f.state != StatePreCandidate {
		t.Fatalf("node is %v, want a pre-candidate", f.state)
	}
	reject := raftpb.Message{Type: raftpb.MsgPreVoteResp, From: 1, To: 2, Term: f.term + 1, Reject: true, Index: 3, LogTerm: 9}
	must(t, f.Step(reject))
	must(t, f.CheckInvariants())
	if f.raftLog.committed != 1 {
		t.Fatal("a commit claim whose term does not match our entry was adopted")
	}
	reject.LogTerm = 1
	must(t, f.Step(reject))
	must(t, f.CheckInvariants())
	if f.raftLog.committed != 3 {
		t.Fatalf("commit %d after a matching claim, want 3", f.raftLog.committed)
	}
}

// TestCandidateRemovedDuringItsElectionNeverLeads: a candidate that
// applies its own removal while its votes are still coming in abandons the
// candidacy instead of winning an election it may not win.
func TestCandidateRemovedDuringItsElectionNeverLeads(t *testing.T) {
	c := newTestClusterWith(t, 3, func(cfg *Config) { cfg.DisablePreVote = true })
	cand := c.nodes[1]
	must(t, cand.Campaign())
	if cand.state != StateCandidate {
		t.Fatalf("node 1 is %v", cand.state)
	}
	if _, err := cand.ApplyConfChange(removeNode(1)); err != nil {
		t.Fatal(err)
	}
	c.stabilize()
	if cand.state == StateLeader {
		t.Fatal("a removed candidate became leader")
	}
}

// TestForwardedConfChangeIsCheckedLikeALocalOne: the membership math and
// the one-at-a-time rule apply to a conf change a follower forwards, not
// only to ProposeConfChange on the leader (found by FuzzStepNeverPanics:
// a forwarded "add node 0" reached the log and failed at apply).
func TestForwardedConfChangeIsCheckedLikeALocalOne(t *testing.T) {
	c := electedCluster(t, 0)
	leader := c.nodes[1]
	last := leader.raftLog.lastIndex()
	addZero := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddNode, NodeID: 0}}}
	addFour := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 4}}}
	for _, tc := range []struct {
		name string
		ents []raftpb.Entry
		want error
	}{
		{"refused by the membership math", []raftpb.Entry{confChangeEntry(addZero)}, ErrProposalDropped},
		{"undecodable", []raftpb.Entry{{Type: raftpb.EntryConfChangeV2, Data: []byte{0xff}}}, ErrInvalidConfChange},
		{"two in one batch", []raftpb.Entry{confChangeEntry(addFour), confChangeEntry(addFour)}, ErrPendingConfChange},
	} {
		err := leader.Step(raftpb.Message{Type: raftpb.MsgProp, From: 2, To: 1, Entries: tc.ents})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Step = %v, want %v", tc.name, err, tc.want)
		}
	}
	if leader.raftLog.lastIndex() != last {
		t.Fatalf("a refused conf change reached the log (last %d, was %d)", leader.raftLog.lastIndex(), last)
	}
}

// TestARestartPastAnAppliedConfChangeKeepsIt: a node restarting with
// Config.Applied past a conf change that no snapshot covers must count
// the change in its membership: the application applied it, and it is
// not handed out again.
func TestARestartPastAnAppliedConfChangeKeepsIt(t *testing.T) {
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	add4 := raftpb.ConfChange{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 4}
	must(t, st.Append([]raftpb.Entry{{Term: 1, Index: 1}, {Term: 1, Index: 2, Type: raftpb.EntryConfChange, Data: add4.Marshal()},
		{Term: 1, Index: 3}}))
	must(t, st.SetHardState(raftpb.HardState{Term: 1, Vote: 1, Commit: 3}))
	for applied, want := range map[uint64]string{1: "voters=(1 2 3)", 2: "voters=(1 2 3) learners=(4)", 3: "voters=(1 2 3) learners=(4)"} {
		r, err := NewRaft(&Config{ID: 1, Storage: st, Applied: applied})
		must(t, err)
		if got := r.trk.Config.String(); got != want {
			t.Fatalf("restart with Applied %d: membership %s, want %s", applied, got, want)
		}
	}
}

// TestARestartDoesNotReapplyConfChangesTheSnapshotHolds: a storage may
// keep entries before its snapshot (a snapshot taken without compacting
// the log up to it). Their conf changes are already in the snapshot's
// ConfState; applying them again at boot moved a joint configuration back
// out of joint and in again, with the wrong outgoing half (found by the
// simulator, seed 22000149: the leader then counted a quorum that did not
// include a majority of the outgoing voters).
func TestARestartDoesNotReapplyConfChangesTheSnapshotHolds(t *testing.T) {
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{2, 3, 5}})
	joint := raftpb.ConfChangeV2{Transition: raftpb.ConfChangeTransitionJointExplicit, Changes: []raftpb.ConfChangeSingle{
		{Type: raftpb.ConfChangeAddNode, NodeID: 4}, {Type: raftpb.ConfChangeRemoveNode, NodeID: 3}}}
	leave := raftpb.ConfChangeV2{}
	must(t, st.Append([]raftpb.Entry{
		{Term: 1, Index: 1, Type: raftpb.EntryConfChangeV2, Data: leave.Marshal()},
		{Term: 1, Index: 2, Type: raftpb.EntryConfChangeV2, Data: joint.Marshal()},
		{Term: 1, Index: 3}, {Term: 1, Index: 4},
	}))
	cs := raftpb.ConfState{Voters: []uint64{2, 4, 5}, VotersOutgoing: []uint64{2, 3, 5}}
	if _, err := st.CreateSnapshot(3, &cs, nil); err != nil {
		t.Fatal(err)
	}
	must(t, st.SetHardState(raftpb.HardState{Term: 1, Commit: 4}))
	for _, applied := range []uint64{3, 4} {
		r, err := NewRaft(&Config{ID: 5, Storage: st, Applied: applied})
		must(t, err)
		if got, want := r.trk.Config.String(), "voters=(2 4 5)&&(2 3 5)"; got != want {
			t.Fatalf("restart with Applied %d over a snapshot at 3 and a log from 1: membership %s, want %s", applied, got, want)
		}
	}
}
