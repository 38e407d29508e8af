package core

import (
	"bytes"
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// forwardedRead is a read a non-leader sent on to the leader it knew
// (thesis §6.4: a follower asks the leader for the read index), awaiting
// the answer. to is the node it went to: only that node may refuse it,
// whatever role it holds by the time it answers (a leader that steps down
// refuses every read it queued, at its new term).
type forwardedRead struct {
	to       uint64
	ctx      []byte
	deadline uint64 // in ticks of this node
}

// forwardReadIndex sends a follower's read to the leader and remembers it
// until it is answered, refused or has waited an election timeout.
func (r *Raft) forwardReadIndex(m raftpb.Message) error {
	if r.lead == None {
		return fmt.Errorf("%w: read refused at term %d", ErrNoLeader, r.term)
	}
	if n := r.queuedReads().numForwarded(); n >= r.settings.maxPendingReads {
		return fmt.Errorf("%w: %d forwarded reads waiting", ErrTooManyPendingReads, n)
	}
	q := r.readQueues()
	q.forwarded = append(q.forwarded, forwardedRead{to: r.lead, ctx: m.Entries[0].Data,
		deadline: r.ticks + uint64(r.settings.electionTimeout)})
	m.To = r.lead
	r.send(&m)
	return nil
}

// handleReadIndexResp takes an answer to a read this node forwarded.
// validateByType has checked that it carries exactly one context.
//
// A grant may come only from the leader of the message's term, which is
// this node's term by now (a message of a newer term made this node a
// follower of it, an older one was dropped): a grant from another node is
// refused. A refusal may come from the node the read was forwarded to,
// whatever its role now. An answer to no read this node is waiting for
// (it waited too long, or the node restarted since) is ignored.
func (r *Raft) handleReadIndexResp(m raftpb.Message) error {
	if !m.Reject {
		if err := r.checkFromLeader(m); err != nil {
			return err
		}
	}
	ctx := m.Entries[0].Data
	i := r.findForwardedRead(m.From, ctx)
	if i < 0 {
		if r.logs(LevelDebug) {
			r.log(LevelDebug, "ignored an answer to no read forwarded there", msgAttr(m), peerAttr(m.From))
		}
		return nil
	}
	q := r.queuedReads() // not nil: it holds the read found
	q.forwarded = append(q.forwarded[:i], q.forwarded[i+1:]...)
	if m.Reject {
		q.states = append(q.states, ReadState{RequestCtx: ctx, Err: ErrReadAborted})
		return nil
	}
	q.states = append(q.states, ReadState{Index: m.Index, RequestCtx: ctx})
	return nil
}

// findForwardedRead returns the position of the oldest read with context
// ctx forwarded to node to, or -1.
func (r *Raft) findForwardedRead(to uint64, ctx []byte) int {
	if r.queuedReads() == nil {
		return -1
	}
	for i, fr := range r.queuedReads().forwarded {
		if fr.to == to && bytes.Equal(fr.ctx, ctx) {
			return i
		}
	}
	return -1
}

// expireForwardedReads releases, with ErrReadAborted, the forwarded reads
// that have waited an election timeout: their request or answer was lost,
// or the leader they went to is gone. The application learns it instead of
// waiting forever; an answer arriving later is ignored.
func (r *Raft) expireForwardedReads() {
	q := r.readQueues()
	kept := q.forwarded[:0]
	for _, fr := range q.forwarded {
		if r.ticks >= fr.deadline {
			q.states = append(q.states, ReadState{RequestCtx: fr.ctx, Err: ErrReadAborted})
			continue
		}
		kept = append(kept, fr)
	}
	clear(q.forwarded[len(kept):])
	q.forwarded = kept
}
