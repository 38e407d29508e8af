package sim

import (
	"cmp"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
)

// The oracles of the bounded read queues and of the entries handed out to
// apply, from what the simulator gave a node and what its Readys and
// messages handed back:
//
//   - Reads waiting on a leader (Config.MaxPendingReads): the reads the
//     simulator asked of the node while it led (ReadIndex returned nil), and
//     the MsgReadIndex the network delivered to it while it led (Step
//     returned nil), not yet answered by a ReadState of its Readys or an
//     MsgReadIndexResp it sent. The simulator sees what a node answered only
//     when a Ready hands it out, so the count is judged once a Ready's
//     messages are sent, and whenever the node has no Ready to hand out:
//     it is then exactly the library's queue.
//   - Local reads waiting for the applied index (the same bound): the
//     ReadLocal calls that returned nil, not yet answered by a ReadState.
//   - Reads a non-leader forwarded to its leader (the same bound): the
//     ReadIndex calls that returned nil on a node that did not lead, and
//     the MsgReadIndex it stepped without error from a peer, not yet
//     answered by a ReadState (the answer, a refusal, or the expiry).
//   - Committed payload handed out to apply and not yet applied
//     (Config.MaxCommittedSizePerReady): the entries of the Ready being
//     applied (synchronous loop), or of every MsgStorageApply queued on
//     the apply worker and not yet acknowledged (asynchronous mode). Bound:
//     MaxCommittedSizePerReady plus one entry, since a handout that
//     reaches the bound takes its entry whole.
//
// A crash forgets them all with the node's memory.

// readsWatch counts a node's reads by their context.
type readsWatch struct {
	pending, forwarded map[string]int
	local              map[string]bool
}

// readQueued records a read queued on n while it leads.
func (s *Sim) readQueued(n *node, ctx []byte) {
	if n.readsOracle.pending == nil {
		n.readsOracle.pending = map[string]int{}
	}
	n.readsOracle.pending[string(ctx)]++
}

// readForwarded records a read n forwarded to its leader.
func (s *Sim) readForwarded(n *node, ctx []byte) {
	if n.readsOracle.forwarded == nil {
		n.readsOracle.forwarded = map[string]int{}
	}
	n.readsOracle.forwarded[string(ctx)]++
}

// localReadQueued records a local read n accepted.
func (s *Sim) localReadQueued(n *node, ctx []byte) {
	if n.readsOracle.local == nil {
		n.readsOracle.local = map[string]bool{}
	}
	n.readsOracle.local[string(ctx)] = true
}

// readAnswered records an MsgReadIndexResp n sent: a read of its queue
// answered or refused.
func (s *Sim) readAnswered(n *node, m raftpb.Message) {
	if len(m.Entries) == 1 {
		release(n.readsOracle.pending, m.Entries[0].Data)
	}
}

// release forgets one read of ctx in counts, and reports whether there
// was one.
func release(counts map[string]int, ctx []byte) bool {
	k := counts[string(ctx)]
	switch {
	case k > 1:
		counts[string(ctx)] = k - 1
	case k == 1:
		delete(counts, string(ctx))
	}
	return k > 0
}

// sawReadStates takes the ReadStates of a Ready of n.
func (s *Sim) sawReadStates(n *node, states []raft.ReadState) {
	r := &n.readsOracle
	for _, rs := range states {
		switch ctx := rs.RequestCtx; {
		case r.local[string(ctx)]:
			delete(r.local, string(ctx))
		case release(r.pending, ctx):
		default:
			release(r.forwarded, ctx)
		}
	}
}

// readyDone checks what the oracles judge once a Ready of n is handed out
// and its messages sent: the read queues against MaxPendingReads, and the
// streams of a leader (see leaderWatch.readyDone).
func (s *Sim) readyDone(n *node) {
	if n.lead != nil {
		n.lead.readyDone()
	}
	s.checkReads(n)
}

// checkReads checks n's read queues against MaxPendingReads: exact once a
// Ready is handed out, or while n has no Ready to hand out.
func (s *Sim) checkReads(n *node) {
	r := &n.readsOracle
	pending, forwarded := 0, 0
	for _, k := range r.pending {
		pending += k
	}
	for _, k := range r.forwarded {
		forwarded += k
	}
	bound := cmp.Or(s.opts.Bounds.MaxPendingReads, core.DefaultMaxPendingReads)
	switch {
	case pending > bound:
		s.failf(ClassOracle, "node %d holds %d reads asked of it as leader and not answered, bound %d", n.id, pending, bound)
	case len(r.local) > bound:
		s.failf(ClassOracle, "node %d holds %d local reads not answered, bound %d", n.id, len(r.local), bound)
	case forwarded > bound:
		s.failf(ClassOracle, "node %d holds %d reads it forwarded to its leader and has not answered, bound %d", n.id, forwarded, bound)
	}
}

// sawApplyHandout records committed entries handed out to n's application
// and checks the payload not yet applied against MaxCommittedSizePerReady.
func (s *Sim) sawApplyHandout(n *node, ents []raftpb.Entry) {
	for i := range ents {
		n.applyingBytes += uint64(len(ents[i].Data))
	}
	s.stats.PeakApplyingBytes = max(s.stats.PeakApplyingBytes, n.applyingBytes)
	bound := cmp.Or(s.opts.Bounds.MaxCommittedSizePerReady, core.DefaultMaxCommittedSizePerReady)
	if n.applyingBytes > bound+s.oracle.largest {
		s.failf(ClassOracle, "node %d handed out %d bytes of committed entries not yet applied, bound %d + one entry of up to %d",
			n.id, n.applyingBytes, bound, s.oracle.largest)
	}
}

// sawApplied records that n's application applied ents.
func (n *node) sawApplied(ents []raftpb.Entry) {
	for i := range ents {
		n.applyingBytes -= uint64(len(ents[i].Data))
	}
}
