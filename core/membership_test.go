package core

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

func removeNode(id uint64) raftpb.ConfChangeV2 {
	return raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeRemoveNode, NodeID: id}}}
}

func TestLeaderThatAppliesItsOwnRemovalStepsDown(t *testing.T) {
	c := electedCluster(t, 0)
	if _, err := c.nodes[1].ApplyConfChange(removeNode(1)); err != nil {
		t.Fatal(err)
	}
	if c.nodes[1].state != StateFollower {
		t.Fatalf("removed leader is %v, want follower", c.nodes[1].state)
	}
	if err := c.nodes[1].Campaign(); !errors.Is(err, ErrNotAMember) {
		t.Fatalf("removed node campaigning = %v, want ErrNotAMember", err)
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

func TestConfChangeRefusedByMembershipMathIsRefusedAtProposal(t *testing.T) {
	c := electedCluster(t, 0)
	two := raftpb.ConfChangeV2{Transition: raftpb.ConfChangeTransitionAuto}
	leave := two // leaving a joint configuration we are not in
	if _, _, err := c.nodes[1].ProposeConfChange(leave); !errors.Is(err, ErrProposalDropped) {
		t.Fatalf("leave-joint outside joint = %v, want ErrProposalDropped", err)
	}
	if last := c.nodes[1].raftLog.lastIndex(); last != 1 {
		t.Fatalf("a refused change reached the log (last index %d)", last)
	}
}
