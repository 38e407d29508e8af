package sim

import (
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

// checkAckDurable judges, from the disk model alone, that a message that
// answers for durable state leaves only once that state is durable: an
// acknowledgement of entries (MsgAppResp) only up to an index the
// sender's disk has held, a granted vote (MsgVoteResp) only once the
// sender's disk holds that vote in that term, or a later term (thesis §3.8: a server
// persists before it answers). The disk model records what it made
// durable; the library's own bookkeeping is not consulted.
func (s *Sim) checkAckDurable(m raftpb.Message) {
	n := s.node(m.From)
	if n == nil || m.Reject {
		return
	}
	switch m.Type {
	case raftpb.MsgAppResp:
		if m.Index > n.disk.highIndex {
			s.failf(Class(checker.Durability), "node %d acknowledged index %d; its disk never held more than %d: %v",
				n.id, m.Index, n.disk.highIndex, m)
		}
	case raftpb.MsgVoteResp:
		// A durable later term also keeps the node from voting again in
		// m.Term.
		if n.disk.votes[m.Term] != m.To && n.disk.highTerm <= m.Term {
			s.failf(Class(checker.Durability), "node %d granted a vote to %d at term %d with no such vote durable", n.id, m.To, m.Term)
		}
	}
}
