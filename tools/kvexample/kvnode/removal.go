package kvnode

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tickraft/raft/raftpb"
)

// ErrRemoved is wrapped by the error that stops a node which applied its
// own removal from the configuration: it is no longer a member, and a
// removed node that stayed up would campaign or serve stale reads for
// nothing. The command exits with its own status for it.
var ErrRemoved = errors.New("kvnode: this node was removed from the cluster")

// noteOwnRemoval records the index of a conf change that removed this
// node, once the node has applied it and is in none of cs's sets.
func (n *Node) noteOwnRemoval(index uint64, changes []raftpb.ConfChangeSingle, cs raftpb.ConfState) {
	self := n.cfg.ID
	for _, set := range [][]uint64{cs.Voters, cs.Learners, cs.VotersOutgoing, cs.LearnersNext} {
		if slices.Contains(set, self) {
			return
		}
	}
	for _, c := range changes {
		if c.Type == raftpb.ConfChangeRemoveNode && c.NodeID == self {
			n.removedAt = index
			return
		}
	}
}

// removedErr returns the error that stops a node that applied its own
// removal, or nil.
func (n *Node) removedErr() error {
	if n.removedAt == 0 {
		return nil
	}
	return fmt.Errorf("%w: it applied its removal at index %d", ErrRemoved, n.removedAt)
}
