package core

import (
	"errors"
	"fmt"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/readonly"
)

// ReadState is a released read: once the application has applied up to
// Index, it may serve the read identified by RequestCtx. Err is set when
// the read could not be served: ErrReadAborted (leadership was lost while
// it waited) or an error wrapping ErrReadLagging (a local read whose
// minimum index was not applied in time).
type ReadState struct {
	Index      uint64
	RequestCtx []byte
	Err        error
}

// Errors of reads.
var (
	// ErrTooManyPendingReads: the bounded read queue is full; retry later.
	ErrTooManyPendingReads = readonly.ErrTooManyPendingReads
	// ErrReadAborted: the read will not be answered: the leader lost
	// leadership while it waited, or refused a forwarded read (transfer
	// in progress, queue full), or a forwarded read had no answer within
	// an election timeout (the request or its answer was lost).
	ErrReadAborted = errors.New("raft: read aborted")
	// ErrReadLagging: this node had not applied the read's minimum index
	// within the allowed ticks; LaggingError says which leader to try.
	ErrReadLagging = errors.New("raft: read lagging")
)

// LaggingError is the error of a local read that timed out.
type LaggingError struct {
	Want, Applied, Leader uint64
}

// Error says what the node had applied and which leader it knows of.
func (e *LaggingError) Error() string {
	return fmt.Sprintf("%v: applied %d, want %d; leader is %d", ErrReadLagging, e.Applied, e.Want, e.Leader)
}

// Unwrap returns ErrReadLagging.
func (e *LaggingError) Unwrap() error { return ErrReadLagging }

// localRead is a monotonic read waiting for the applied index.
type localRead struct {
	ctx      []byte
	minIndex uint64
	deadline uint64 // in ticks of this node
}

// ReadIndex asks for a linearizable read (thesis §6.4). On the leader the
// read index is the commit index, released once a heartbeat round started
// after the request is answered by a quorum (or at once while a lease
// holds, with LeaseReads); a follower forwards the request to the leader
// and receives the answer as its own ReadState. The read is served by the
// application once it has applied up to ReadState.Index. Refusals: no
// leader, a leadership transfer in progress, the queue full.
func (r *Raft) ReadIndex(ctx []byte) error {
	r.wake(true)
	return r.step(&raftpb.Message{Type: raftpb.MsgReadIndex, From: r.id, Entries: []raftpb.Entry{{Data: ctx}}})
}

// handleReadIndex queues or answers a read on the leader.
func (r *Raft) handleReadIndex(m raftpb.Message) error {
	ctx := m.Entries[0].Data
	var err error
	switch {
	case r.leader.transferee != None:
		err = fmt.Errorf("%w to %d: reads refused", ErrTransferInProgress, r.leader.transferee)
	case r.committedInTerm() && r.leaseHolds():
		r.answerRead(m.From, r.raftLog.committed, ctx)
		return nil
	default:
		err = r.readOnly.Add(readonly.Request{Ctx: ctx, From: m.From})
	}
	if err != nil {
		r.refuseForwardedRead(m.From, ctx)
	}
	return err
}

// refuseForwardedRead tells a follower that the read it forwarded will not
// be answered, so that its application learns it instead of waiting.
func (r *Raft) refuseForwardedRead(to uint64, ctx []byte) {
	if to != r.id && to != None {
		r.send(&raftpb.Message{To: to, Type: raftpb.MsgReadIndexResp, Reject: true, Entries: []raftpb.Entry{{Data: ctx}}})
	}
}

// committedInTerm reports whether the leader has committed an entry of its
// own term: before that its commit index may be behind the group's, so it
// holds reads (thesis §6.4, step 1).
func (r *Raft) committedInTerm() bool {
	if r.ownTermEntry(r.raftLog.committed) {
		return true
	}
	t, err := r.raftLog.term(r.raftLog.committed)
	return err == nil && t == r.term
}

// leaseHolds reports whether the leader's lease is valid: a quorum
// answered heartbeats sent less than ElectionTick - drift ticks ago, no
// transfer is running, and no MsgTimeoutNow was sent in this term (its
// target's election bypasses the followers' stickiness, whenever it
// arrives).
func (r *Raft) leaseHolds() bool {
	if !r.settings.leaseReads || r.leader == nil || r.leader.transferee != None || r.leader.leaseRevoked || r.leaseFenced() {
		return false
	}
	anchor := r.readOnly.QuorumTick(r.trk.Voters)
	// 0: no quorum has answered; MaxUint64: no voters at all.
	return anchor > 0 && anchor <= r.leaderTick && r.leaderTick-anchor < uint64(r.settings.leaseTicks)
}

// leaseTicks is how many of the leader's ticks a lease lasts from the tick
// its heartbeat round was sent in: ElectionTick - drift - 1.
//
// Why that is safe (thesis §6.4.1). Let τ be the leader's tick interval
// and τf a follower's. The leader sends the round at or after its tick T
// and serves lease reads while its tick count is below T + lease, so
// before the real time of its tick T + lease: at most lease·τ after the
// send. A follower takes the heartbeat after it was sent and resets its
// election clock then, part-way through one of its ticks; the first of
// its ticks that follows may come at once, so it counts ElectionTick
// ticks, and stops being sticky (refuses no vote), no earlier than
// (ElectionTick-1)·τf after the heartbeat arrived. The lease ends first
// when lease·τ <= (ElectionTick-1)·τf, that is, with lease = ElectionTick -
// 1 - drift, when the follower's clock runs fast by at most drift ticks
// in ElectionTick-1 of the leader's: the whole drift allowance, with the
// rounding of the part-tick paid for by the - 1. Ticks missed while a
// process is paused must reach it (TickN) before it steps anything, or
// none of this holds.
func leaseTicks(electionTick, drift int) int { return electionTick - drift - 1 }

// answerRead releases a read to the local application or to the follower
// that forwarded it.
func (r *Raft) answerRead(to, index uint64, ctx []byte) {
	if to == r.id || to == None {
		r.queueReadState(ReadState{Index: index, RequestCtx: ctx})
		return
	}
	r.send(&raftpb.Message{To: to, Type: raftpb.MsgReadIndexResp, Index: index, Entries: []raftpb.Entry{{Data: ctx}}})
}

// flushReads starts one heartbeat round for every read waiting since the
// last round: all reads of one loop iteration share a round.
func (r *Raft) flushReads() {
	if !r.readsWouldFlush() {
		return
	}
	r.readOnly.StartRound(r.raftLog.committed)
	r.bcastHeartbeat() // carries the new round, and acks it for the leader
	r.releaseReads()
}

// readsWouldFlush reports whether flushReads would start a round: reads
// wait on a leader that has committed an entry of its term (§6.4).
func (r *Raft) readsWouldFlush() bool {
	return r.state == StateLeader && r.readOnly.NeedsRound() && r.committedInTerm()
}

// releaseReads answers the reads whose round a quorum confirmed.
func (r *Raft) releaseReads() {
	r.readOnly.Release(r.trk.Voters, func(req readonly.Request) { r.answerRead(req.From, req.Index, req.Ctx) })
}

// ackRound records a follower's answer to a heartbeat and releases what it
// confirms.
func (r *Raft) ackRound(from uint64, ctx []byte) {
	c, ok := raftpb.DecodeHeartbeatContext(ctx)
	if !ok {
		return
	}
	// Room for every member's answer at once, when the first comes: not
	// at the election, so that a leader no one answered holds none.
	r.readOnly.ExpectPeers(r.trk.Len())
	r.readOnly.Ack(from, c.Round, c.Tick)
	r.releaseReads()
}

// abortReads fails every read waiting on a leader that steps down.
func (r *Raft) abortReads() {
	for _, req := range r.readOnly.Drain() {
		if req.From == r.id {
			r.queueReadState(ReadState{RequestCtx: req.Ctx, Err: ErrReadAborted})
			continue
		}
		r.refuseForwardedRead(req.From, req.Ctx)
	}
	r.readOnly.Reset()
}

// ReadLocal asks for a monotonic read on this node, at or after minIndex
// (an index the client has already seen, e.g. of its own last write): it
// is released as a ReadState as soon as the applied index reaches
// minIndex, without contacting the leader. It is not linearizable: it
// gives read-your-writes and monotonic reads. If the node has not applied
// minIndex within an election timeout, the read is released with a
// *LaggingError naming the leader this node knows of.
func (r *Raft) ReadLocal(ctx []byte, minIndex uint64) error {
	r.wake(true)
	if n := r.queuedReads().numLocal(); n >= r.settings.maxPendingReads {
		return fmt.Errorf("%w: %d local reads waiting", ErrTooManyPendingReads, n)
	}
	q := r.readQueues()
	q.local = append(q.local, localRead{ctx: ctx, minIndex: minIndex, deadline: r.ticks + uint64(r.settings.electionTimeout)})
	r.releaseLocalReads()
	return nil
}

// releaseLocalReads releases local reads whose minimum index is applied,
// and fails those past their deadline.
func (r *Raft) releaseLocalReads() {
	q := r.readQueues()
	kept := q.local[:0]
	for _, lr := range q.local {
		switch {
		case lr.minIndex <= r.raftLog.applied:
			q.states = append(q.states, ReadState{Index: r.raftLog.applied, RequestCtx: lr.ctx})
		case r.ticks >= lr.deadline:
			q.states = append(q.states, ReadState{RequestCtx: lr.ctx,
				Err: &LaggingError{Want: lr.minIndex, Applied: r.raftLog.applied, Leader: r.lead}})
		default:
			kept = append(kept, lr)
		}
	}
	q.local = kept
}

// readQueues are a node's reads that wait: the ReadStates released for
// the next Ready, the local reads waiting for the applied index, and the
// reads forwarded to the leader waiting for its answer (each bounded by
// MaxPendingReads). A node allocates them at its first read: most nodes of
// a process with many idle groups never serve one. A nil *readQueues is
// empty.
type readQueues struct {
	states    []ReadState
	local     []localRead
	forwarded []forwardedRead
}

// readQueues returns the node's queues of reads, allocated on first use.
func (r *Raft) readQueues() *readQueues {
	c := r.coldState()
	if c.reads == nil {
		c.reads = &readQueues{}
	}
	return c.reads
}

// queueReadState releases rs in the next Ready.
func (r *Raft) queueReadState(rs ReadState) {
	q := r.readQueues()
	q.states = append(q.states, rs)
}

// numStates returns the number of ReadStates released for the next Ready.
func (q *readQueues) numStates() int {
	if q == nil {
		return 0
	}
	return len(q.states)
}

// numLocal returns the number of local reads waiting.
func (q *readQueues) numLocal() int {
	if q == nil {
		return 0
	}
	return len(q.local)
}

// numForwarded returns the number of forwarded reads waiting.
func (q *readQueues) numForwarded() int {
	if q == nil {
		return 0
	}
	return len(q.forwarded)
}

// takeStates returns the ReadStates released for the next Ready and
// empties that queue.
func (q *readQueues) takeStates() []ReadState {
	if q == nil {
		return nil
	}
	states := q.states
	q.states = nil
	return states
}
