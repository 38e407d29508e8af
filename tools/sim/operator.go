package sim

import (
	"errors"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
)

// digits hands out small numbers drawn once as one large one.
type digits int

// next returns a number in [0, n) and drops it from d.
func (d *digits) next(n int) int {
	v := int(*d) % n
	*d /= digits(n)
	return v
}

// proposer returns the node an operator acts through: the leader three
// times in four, otherwise (or when there is none) any running node.
func (s *Sim) proposer(d *digits) *node {
	up := s.callable()
	if len(up) == 0 {
		return nil
	}
	leaderFirst, other := d.next(4) > 0, d.next(len(up))
	if lead := s.leader(); lead != nil && leaderFirst {
		return lead
	}
	return up[other]
}

// leader returns a leader of the highest term that can take a call (see
// callable), or nil.
func (s *Sim) leader() *node {
	var lead *node
	var term uint64
	for _, n := range s.callable() {
		if st := n.rn.BasicStatus(); st.RaftState == raft.StateLeader && st.Term >= term {
			lead, term = n, st.Term
		}
	}
	return lead
}

// The single changes a conf change draws from.
var changeTypes = [...]raftpb.ConfChangeType{
	raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode, raftpb.ConfChangeRemoveNode,
}

// drawChange draws one change: its type, and a target that the proposer's
// configuration makes meaningful half of the time, any node otherwise.
func (s *Sim) drawChange(n *node, d *digits) raftpb.ConfChangeSingle {
	typ := changeTypes[d.next(len(changeTypes))]
	var from []uint64
	switch typ {
	case raftpb.ConfChangeAddNode: // add a voter, or promote a learner
		from = n.conf.Learners
	case raftpb.ConfChangeAddLearnerNode: // demote a voter, or add a learner
		from = n.conf.Voters
	case raftpb.ConfChangeRemoveNode:
		from = append(append([]uint64(nil), n.conf.Voters...), n.conf.Learners...)
	}
	meaningful, k, other := d.next(2) == 0, d.next(16), d.next(len(s.nodes))
	if meaningful && len(from) > 0 {
		return raftpb.ConfChangeSingle{Type: typ, NodeID: from[k%len(from)]}
	}
	return raftpb.ConfChangeSingle{Type: typ, NodeID: uint64(1 + other)}
}

// drawConfChange draws a conf change in one of the forms: v1, v2 simple,
// joint left automatically, joint left explicitly, or an explicit leave.
func (s *Sim) drawConfChange(n *node, d *digits) raftpb.ConfChangeI {
	form := d.next(5)
	switch form {
	case 0:
		c := s.drawChange(n, d)
		return raftpb.ConfChange{Type: c.Type, NodeID: c.NodeID, Context: operatorContext}
	case 4:
		return raftpb.ConfChangeV2{Context: operatorContext}
	}
	cc := raftpb.ConfChangeV2{Transition: raftpb.ConfChangeTransitionAuto, Context: operatorContext}
	changes := 1
	if form > 1 {
		cc.Transition = raftpb.ConfChangeTransitionJointImplicit
		if form == 3 {
			cc.Transition = raftpb.ConfChangeTransitionJointExplicit
		}
		changes = 1 + d.next(2)
	}
	for range changes {
		cc.Changes = append(cc.Changes, s.drawChange(n, d))
	}
	return cc
}

// proposeConfChange proposes a drawn conf change through a drawn node. A
// refusal must say why with ErrProposalDropped. While a node recovers
// from a lost log it changes nothing, as an operator waits for it: it
// does not vote, and a smaller configuration could be left without a
// quorum of nodes that lost nothing.
func (s *Sim) proposeConfChange(pick, arg int) {
	if s.anyRecovering() {
		return
	}
	d := digits(pick)
	n := s.proposer(&d)
	if n == nil {
		return
	}
	a := digits(arg)
	cc := s.drawConfChange(n, &a)
	s.stats.ConfProposals++
	s.payOwed(n)
	index, term, err := n.rn.ProposeConfChange(cc)
	s.checkInvariants(n, "ProposeConfChange")
	switch {
	case err != nil && !errors.Is(err, raft.ErrProposalDropped):
		s.failf(ClassRefusal, "node %d refused conf change %v without ErrProposalDropped: %v", n.id, cc, err)
		return
	case err != nil:
		s.faultEvent(FaultConfChange, n.id, "node %d: %v refused: %v", n.id, cc, err)
	case index == 0:
		s.faultEvent(FaultConfChange, n.id, "node %d: %v forwarded", n.id, cc)
	default:
		s.stats.ConfAccepted++
		s.faultEvent(FaultConfChange, n.id, "node %d: %v at %d/%d", n.id, cc, term, index)
	}
}

// transferLeader asks for a leadership transfer: on the leader to a drawn
// node, on a follower to itself.
func (s *Sim) transferLeader(pick, arg int) {
	d := digits(pick)
	n := s.proposer(&d)
	if n == nil {
		return
	}
	target := n.id
	if n.rn.BasicStatus().RaftState == raft.StateLeader {
		target = uint64(1 + arg%len(s.nodes))
	}
	s.stats.Transfers++
	s.payOwed(n)
	err := n.rn.TransferLeader(target)
	s.checkInvariants(n, "TransferLeader")
	switch {
	case err == nil:
		s.stats.TransfersAccepted++
		if st := n.rn.BasicStatus(); st.RaftState == raft.StateLeader {
			s.transferAsked(n, st.Term, target)
		}
		s.faultEvent(FaultTransfer, n.id, "node %d to %d", n.id, target)
	case errors.Is(err, raft.ErrTransferRefused), errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrNoLeader):
		s.faultEvent(FaultTransfer, n.id, "node %d to %d refused: %v", n.id, target, err)
	default:
		s.failf(ClassRefusal, "node %d refused a transfer to %d without a documented error: %v", n.id, target, err)
	}
}

// forgetLeader makes a running follower forget its leader. Under lease
// reads a follower inside a lease it may have granted refuses with
// ErrLeasePromised (forgetting would void the lease's promise).
func (s *Sim) forgetLeader(pick, _ int) {
	up := s.callable()
	if len(up) == 0 {
		return
	}
	n := up[pick%len(up)]
	s.payOwed(n)
	if err := n.rn.ForgetLeader(); err != nil {
		if !s.opts.LeaseReads || !errors.Is(err, core.ErrLeasePromised) {
			s.failf(ClassRefusal, "node %d: ForgetLeader: %v", n.id, err)
		}
		return
	}
	s.checkInvariants(n, "ForgetLeader")
	s.faultEvent(FaultForgetLeader, n.id, "node %d", n.id)
}

// compactSome makes some running nodes snapshot their state machine at
// its applied index and compact their log up to a few entries before it.
func (s *Sim) compactSome() {
	r := s.diskRNG
	for _, n := range s.nodes {
		happens, keep := r.chance(s.opts.Workload.Compact), r.between(0, 4)
		if happens && n.up() && !n.paused() {
			s.compact(n, keep)
		}
	}
}

// compact snapshots n at its applied index and compacts its log keep
// entries short of it.
func (s *Sim) compact(n *node, keep int) {
	snap, _ := n.st.Snapshot()
	first, _ := n.st.FirstIndex()
	i := n.kv.applied
	if i <= snap.Metadata.Index {
		return
	}
	if s.chunked() {
		// The snapshot at the last interval is the one kept (see
		// chunks.go): compact below it only.
		i = snap.Metadata.Index
	} else {
		cs := n.conf
		if _, err := n.st.CreateSnapshot(i, &cs, n.kv.snapshot()); err != nil {
			s.failf(ClassRefusal, "node %d cannot snapshot at %d: %v", n.id, i, err)
			return
		}
		n.disk.writes++
	}
	s.stats.Compactions++
	to := i - min(uint64(keep), i)
	if to >= first {
		if err := n.st.Compact(to); err != nil {
			s.failf(ClassRefusal, "node %d cannot compact at %d: %v", n.id, to, err)
			return
		}
	}
	s.log.add(s.now, evCompact, n.id, i, to)
	if s.log.tracing() {
		s.log.printf(s.now, "compact %d: snapshot at %d, log compacted up to %d", n.id, i, to)
	}
}
