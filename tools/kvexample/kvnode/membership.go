package kvnode

import (
	"fmt"
	"slices"
)

// checkMembershipChange returns the error of a membership request that
// does not fit the configuration this node has applied (the leader's, as
// it checks on the leader): add only a node that is not a member, promote
// only a learner, remove only a member. A change the library would accept
// can still be wrong for the cluster: promoting an ID never added makes a
// voter with no address, which counts in every quorum and never answers.
func (n *Node) checkMembershipChange(r *request) *Error {
	id := r.member.ID
	cs := n.confState
	voter := slices.Contains(cs.Voters, id) || slices.Contains(cs.VotersOutgoing, id)
	learner := slices.Contains(cs.Learners, id) || slices.Contains(cs.LearnersNext, id)
	switch {
	case r.kind == reqAddLearner && (voter || learner):
		return &Error{Code: CodeAlreadyMember, Message: fmt.Sprintf("node %d is already a member; remove it first to add it again", id)}
	case r.kind == reqPromote && voter:
		return &Error{Code: CodeNotLearner, Message: fmt.Sprintf("node %d is already a voter", id)}
	case r.kind == reqPromote && !learner:
		return &Error{Code: CodeUnknownMember, Message: fmt.Sprintf("node %d is not a learner of this cluster: add it with POST /members first", id)}
	case r.kind == reqRemove && !voter && !learner:
		return &Error{Code: CodeUnknownMember, Message: fmt.Sprintf("node %d is not a member of this cluster", id)}
	}
	return nil
}
