package kvnode

import (
	"fmt"
	"slices"

	"github.com/tickraft/raft/raftpb"
)

// checkMembershipChange returns the error of a membership request that
// does not fit the configuration this node has applied (the leader's, as
// it checks on the leader): add only a node that is not a member, promote
// only a learner, remove only a member. A change the library would accept
// can still be wrong for the cluster: promoting an ID never added makes a
// voter with no address, which counts in every quorum and never answers.
func (n *Node) checkMembershipChange(r *request) *Error {
	return checkMemberChange(r.kind, r.member.ID, n.confState, "this cluster", "POST /members")
}

// checkMemberChange returns the error of a membership request of kind
// about node id that does not fit configuration cs, that of where (the
// cluster, or a group), to which addHow adds a learner.
func checkMemberChange(kind reqKind, id uint64, cs raftpb.ConfState, where, addHow string) *Error {
	voter := slices.Contains(cs.Voters, id) || slices.Contains(cs.VotersOutgoing, id)
	learner := slices.Contains(cs.Learners, id) || slices.Contains(cs.LearnersNext, id)
	switch {
	case kind == reqAddLearner && (voter || learner):
		return &Error{Code: CodeAlreadyMember, Message: fmt.Sprintf("node %d is already a member; remove it first to add it again", id)}
	case kind == reqPromote && voter:
		return &Error{Code: CodeNotLearner, Message: fmt.Sprintf("node %d is already a voter", id)}
	case kind == reqPromote && !learner:
		return &Error{Code: CodeUnknownMember, Message: fmt.Sprintf("node %d is not a learner of %s: add it with %s first", id, where, addHow)}
	case kind == reqRemove && !voter && !learner:
		return &Error{Code: CodeUnknownMember, Message: fmt.Sprintf("node %d is not a member of %s", id, where)}
	}
	return nil
}
