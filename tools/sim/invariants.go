package sim

import "github.com/tickraft/raft/raftpb"

// The library's own invariants (RawNode.CheckInvariants) are checked for a
// node after every input the simulator gives it: a tick, a message
// stepped, a transport's report, a proposal, read, conf change, transfer,
// campaign or ForgetLeader, a Ready taken, an Advance, a worker's
// acknowledgement. A broken one fails the run with ClassInvariant.

// checkInvariants checks n's invariants after the input named what.
func (s *Sim) checkInvariants(n *node, what string) {
	if s.failure != nil || !n.up() {
		return
	}
	if err := n.rn.CheckInvariants(); err != nil {
		s.failf(ClassInvariant, "node %d after %s: %v", n.id, what, err)
	}
}

// checkInvariantsAfterStep checks n's invariants after it stepped m.
func (s *Sim) checkInvariantsAfterStep(n *node, m raftpb.Message) {
	if s.failure != nil || !n.up() {
		return
	}
	if err := n.rn.CheckInvariants(); err != nil {
		s.failf(ClassInvariant, "node %d after stepping %v: %v", n.id, m, err)
	}
}
