package raft_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// addLearnerTwoAndNodeZero is a batch of two changes, one of which names
// node 0: the ID that means "no node" (raft.None).
var addLearnerTwoAndNodeZero = raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{
	{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 2},
	{Type: raftpb.ConfChangeAddNode, NodeID: 0},
}}

// TestConfChangeNamingNodeZeroIsRefusedWhole states tickraft's node-0 rule,
// where etcd raft differs (MIGRATING.md): a conf change with an item naming
// node 0 is refused whole with ErrInvalidNodeID, both when proposed (the
// leader appends nothing) and when applied (the configuration is
// unchanged: the batch's other items are not applied either). etcd raft
// skips such an item and applies the rest.
func TestConfChangeNamingNodeZeroIsRefusedWhole(t *testing.T) {
	rn, st := singleNode(t, nil)
	before, _ := st.LastIndex()
	_, _, err := rn.ProposeConfChange(addLearnerTwoAndNodeZero)
	if !errors.Is(err, raft.ErrProposalDropped) || !errors.Is(err, raft.ErrInvalidNodeID) {
		t.Fatalf("proposing a change naming node 0 = %v, want ErrProposalDropped wrapping ErrInvalidNodeID", err)
	}
	persistAll(t, rn, st)
	if after, _ := st.LastIndex(); after != before {
		t.Fatalf("last index %d -> %d: the refused change was appended", before, after)
	}

	// Applying it, as a node must when such an entry was committed by a
	// leader that did not check it, changes nothing either.
	for _, cc := range []raftpb.ConfChangeI{
		addLearnerTwoAndNodeZero,
		raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeID: 0},
	} {
		cs, err := rn.ApplyConfChange(cc)
		if !errors.Is(err, raft.ErrInvalidNodeID) {
			t.Fatalf("ApplyConfChange(%v) = %v, %v; want ErrInvalidNodeID", cc, cs, err)
		}
		got := rn.Status().Config
		if !slices.Equal([]uint64(got.Voters[0]), []uint64{1}) || len(got.Learners) != 0 {
			t.Fatalf("after a refused ApplyConfChange(%v) the configuration is %v, want voters (1) alone", cc, got)
		}
	}

	// The port of etcd's behaviour: leave the item out instead of zeroing
	// its node ID, and the rest applies.
	rest := raftpb.ConfChangeV2{Changes: addLearnerTwoAndNodeZero.Changes[:1]}
	cs, err := rn.ApplyConfChange(rest)
	if err != nil || !slices.Equal(cs.Learners, []uint64{2}) {
		t.Fatalf("ApplyConfChange(%v) = %v, %v; want learner 2 added", rest, cs, err)
	}
}
