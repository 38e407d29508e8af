package kvnode

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// The kinds of client requests the event loop handles.
type reqKind int

const (
	reqPut reqKind = iota
	reqDelete
	reqGet
	reqAddLearner
	reqPromote
	reqRemove
	reqTransfer
	reqStatus
)

// The read consistencies of GET /kv/{key}?consistency=...
const (
	// ConsistencyLinearizable (the default, also ""): a ReadIndex round
	// (thesis §6.4): the leader confirms with a quorum's heartbeats that it
	// still leads, and the node answers once it has applied the leader's
	// commit index as of the request. Followers serve it too.
	ConsistencyLinearizable = "linearizable"
	// ConsistencyLease: the same ReadIndex request; with -lease-reads the
	// leader answers it from its lease without a heartbeat round (thesis
	// §6.4.1), which assumes bounded clock drift. Without -lease-reads it
	// is linearizable. The library decides per node, not per read: with
	// -lease-reads the default reads use the lease too.
	ConsistencyLease = "lease"
	// ConsistencyLocal: answered by this node as soon as it has applied
	// min_index (e.g. the index a write returned), without asking the
	// leader: read-your-writes and monotonic, not linearizable. It times
	// out after an election timeout if the node lags.
	ConsistencyLocal = "local"
)

// request is a client request on its way to the event loop; the loop
// answers it on reply, exactly once, and never blocks doing so.
type request struct {
	kind        reqKind
	key         string
	value       []byte
	consistency string
	minIndex    uint64
	member      memberContext // reqAddLearner, reqPromote, reqRemove (ID only)
	target      uint64        // reqTransfer
	deadline    time.Time
	reply       chan response // capacity 1
}

// response is the loop's answer to a request.
type response struct {
	err    *Error
	index  uint64
	value  []byte
	found  bool
	status *Status
}

func (r *request) answer(res response) { r.reply <- res }

func (r *request) fail(e *Error) { r.reply <- response{err: e} }

// pendingWrite is a proposal waiting for its entry to be applied.
type pendingWrite struct {
	term uint64
	req  *request
}

// waitingRead is a read whose index is known, waiting for the apply.
type waitingRead struct {
	index uint64
	req   *request
}

// handle starts a request's work, after the ticks elapsed before it was
// taken (a lease read must not be judged on a clock older than the
// request).
func (n *Node) handle(r *request) {
	n.catchUpClock()
	switch r.kind {
	case reqPut, reqDelete:
		n.propose(r)
	case reqGet:
		n.read(r)
	case reqAddLearner, reqPromote, reqRemove:
		n.proposeConfChange(r)
	case reqTransfer:
		n.transfer(r)
	case reqStatus:
		st := n.status()
		r.answer(response{status: &st})
	}
}

// propose proposes a write on the leader; its answer waits for the apply.
func (n *Node) propose(r *request) {
	if n.rn.BasicStatus().RaftState != raft.StateLeader {
		n.refuseProposal(r, n.notLeader())
		return
	}
	op := opPut
	if r.kind == reqDelete {
		op = opDelete
	}
	index, term, err := n.rn.Propose(encodeCommand(op, r.key, r.value))
	if err != nil {
		n.metrics.proposalsRefused.inc(reasonOf(err))
		r.fail(n.errorFor(err))
		return
	}
	n.writes[index] = &pendingWrite{term: term, req: r}
}

// proposeConfChange proposes a membership change on the leader.
func (n *Node) proposeConfChange(r *request) {
	if n.rn.BasicStatus().RaftState != raft.StateLeader {
		r.fail(n.notLeader())
		return
	}
	if e := n.checkMembershipChange(r); e != nil {
		r.fail(e)
		return
	}
	id := r.member.ID
	cc := memberChange(r.kind, id)
	if r.kind == reqPromote {
		r.member.Member = Member{Raft: n.raftAddr(id), HTTP: n.httpAddr(id)}
	}
	if r.member.Raft != "" {
		cc.Context, _ = json.Marshal(r.member)
	}
	index, term, err := n.rn.ProposeConfChange(cc)
	if err != nil {
		r.fail(n.errorFor(err))
		return
	}
	n.writes[index] = &pendingWrite{term: term, req: r}
}

// answerWrite answers the write proposed here at index, now applied with
// term: it succeeded if its term is the one it was proposed with;
// otherwise a new leader overwrote it and it was never applied.
func (n *Node) answerWrite(index, term uint64) {
	w := n.writes[index]
	if w == nil {
		return
	}
	delete(n.writes, index)
	if w.term == term {
		w.req.answer(response{index: index})
		return
	}
	n.metrics.proposalsRefused.inc(reasonOverwritten)
	e := n.notLeader()
	e.Message = fmt.Sprintf("the proposal at index %d was overwritten by a new leader; it was not applied", index)
	w.req.fail(e)
}

// abandonWrites answers the writes at or below index when a snapshot
// replaced the state: whether they made it into the snapshot is unknown.
func (n *Node) abandonWrites(index uint64) {
	for i, w := range n.writes {
		if i <= index {
			delete(n.writes, i)
			w.req.fail(&Error{Code: CodeTimeout, Message: "a snapshot replaced the state; the outcome of the write is unknown"})
		}
	}
}

// read asks the node for a read index (or a local read).
func (n *Node) read(r *request) {
	n.nextCtx++
	ctx := binary.BigEndian.AppendUint64(nil, n.nextCtx)
	var err error
	switch r.consistency {
	case "", ConsistencyLinearizable, ConsistencyLease:
		err = n.rn.ReadIndex(ctx)
	case ConsistencyLocal:
		err = n.rn.ReadLocal(ctx, r.minIndex)
	default:
		r.fail(&Error{Code: CodeBadRequest, Message: fmt.Sprintf("unknown consistency %q", r.consistency)})
		return
	}
	if err != nil {
		n.metrics.readsRefused.inc(reasonOf(err))
		r.fail(n.errorFor(err))
		return
	}
	n.reads[string(ctx)] = r
}

// onReadStates matches released reads to their requests.
func (n *Node) onReadStates(rss []raft.ReadState) {
	for _, rs := range rss {
		r := n.reads[string(rs.RequestCtx)]
		if r == nil {
			continue // answered by its deadline already
		}
		delete(n.reads, string(rs.RequestCtx))
		if rs.Err != nil {
			n.metrics.readsRefused.inc(reasonOf(rs.Err))
			r.fail(n.errorFor(rs.Err))
			continue
		}
		n.waiting = append(n.waiting, waitingRead{index: rs.Index, req: r})
	}
}

// serveReads answers the reads whose index is applied.
func (n *Node) serveReads() {
	n.waiting = slices.DeleteFunc(n.waiting, func(w waitingRead) bool {
		if w.index > n.applied {
			return false
		}
		v, ok := n.sm.kv[w.req.key]
		w.req.answer(response{index: n.applied, value: v, found: ok})
		return true
	})
}

// transfer asks for a leadership transfer; it is answered when the target
// leads.
func (n *Node) transfer(r *request) {
	st := n.rn.BasicStatus()
	switch {
	case st.Lead == r.target:
		r.answer(response{})
		return
	case st.RaftState != raft.StateLeader && r.target != n.cfg.ID:
		r.fail(n.notLeader())
		return
	}
	if err := n.rn.TransferLeader(r.target); err != nil {
		r.fail(n.errorFor(err))
		return
	}
	n.transfers = append(n.transfers, r)
}

// checkTransfers answers the transfers whose target now leads.
func (n *Node) checkTransfers(lead uint64) {
	n.transfers = slices.DeleteFunc(n.transfers, func(r *request) bool {
		if r.target != lead {
			return false
		}
		r.answer(response{})
		return true
	})
}

// expire answers the requests past their deadline with a timeout, so that
// nothing waits in the loop's maps forever.
func (n *Node) expire(now time.Time) {
	timeout := func(r *request) bool {
		if now.Before(r.deadline) {
			return false
		}
		r.fail(&Error{Code: CodeTimeout, Message: "no answer in time"})
		return true
	}
	for i, w := range n.writes {
		if timeout(w.req) {
			delete(n.writes, i)
		}
	}
	for ctx, r := range n.reads {
		if timeout(r) {
			delete(n.reads, ctx)
		}
	}
	n.waiting = slices.DeleteFunc(n.waiting, func(w waitingRead) bool { return timeout(w.req) })
	n.transfers = slices.DeleteFunc(n.transfers, timeout)
}

// memberChange returns the conf change of a membership request of kind
// (add a learner, promote, remove) for node id.
func memberChange(kind reqKind, id uint64) raftpb.ConfChangeV2 {
	cc := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{NodeID: id}}}
	switch kind {
	case reqAddLearner:
		cc.Changes[0].Type = raftpb.ConfChangeAddLearnerNode
	case reqPromote:
		cc.Changes[0].Type = raftpb.ConfChangeAddNode
	case reqRemove:
		cc.Changes[0].Type = raftpb.ConfChangeRemoveNode
	}
	return cc
}
