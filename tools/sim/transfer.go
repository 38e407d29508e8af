package sim

import "github.com/tickraft/raft/raftpb"

// Leadership transfers (thesis §3.10), judged from the wire:
//
//   - Safety of the handover: a leader sends MsgTimeoutNow only to a target
//     whose log holds the leader's last index. The target's log is judged
//     from the accepting MsgAppResp answers the network delivered to the
//     leader in its term (their highest index; an answer is sent only once
//     its entries are durable, and within the term nothing truncates them),
//     the leader's last index from the entries of its term its Readys
//     handed out before the Ready that carries the message (entries of that
//     same Ready may have been appended after the message was made). A MsgTimeoutNow to a target lagging by
//     this measure fails the run (ClassTransfer): its election would lose
//     the leader's uncommitted tail, or fail.
//   - Liveness: a transfer a leader accepted (TransferLeader returned nil,
//     or it stepped a MsgTransferLeader without error) ends when a later
//     term elects a leader: the target (completed) or another node. One that
//     sees no new leader within three election timeouts ended without one.
//     Faults explain most of those, so they are counted and reported, not
//     failed.

// transfer is a leadership transfer a leader accepted.
type transfer struct {
	from, term, target uint64
	deadline           uint64 // tick
}

// transferAsked records a transfer accepted by leader n of term.
func (s *Sim) transferAsked(n *node, term, target uint64) {
	if target == n.id {
		return
	}
	s.transfers = append(s.transfers, transfer{from: n.id, term: term, target: target,
		deadline: s.Tick() + 3*uint64(s.opts.ElectionTick)})
}

// transferSent checks a MsgTimeoutNow leader n sends to target.
func (s *Sim) transferSent(n *node, l *leaderWatch, target uint64) {
	s.stats.TransfersHandedOver++
	last := l.lastIndexBefore()
	var ack uint64
	if w := l.followers[target]; w != nil {
		ack = w.ack
	}
	if ack < last {
		s.failf(ClassTransfer, "leader %d of term %d sent MsgTimeoutNow to %d, which acknowledged index %d, not the leader's last index %d",
			n.id, l.term, target, ack, last)
	}
}

// transferElected resolves the transfers a new leader of term ends.
func (s *Sim) transferElected(id, term uint64) {
	kept := s.transfers[:0]
	for _, t := range s.transfers {
		switch {
		case term <= t.term:
			kept = append(kept, t)
		case id == t.target:
			s.stats.TransfersCompleted++
		default:
			s.stats.TransfersOtherLeader++
		}
	}
	s.transfers = kept
}

// transfersTimedOut counts the transfers that saw no new leader in time.
func (s *Sim) transfersTimedOut() {
	kept := s.transfers[:0]
	for _, t := range s.transfers {
		if s.Tick() >= t.deadline {
			s.stats.TransfersNoLeader++
			s.log.add(s.now, evFault, t.from, uint64(raftpb.MsgTimeoutNow), t.target)
			if s.log.tracing() {
				s.log.printf(s.now, "transfer from %d (term %d) to %d ended without a new leader", t.from, t.term, t.target)
			}
			continue
		}
		kept = append(kept, t)
	}
	s.transfers = kept
}
