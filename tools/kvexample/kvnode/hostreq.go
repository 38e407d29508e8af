package kvnode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	raft "github.com/tickraft/raft"
)

// hostRequest is a client request for a Host's loop: a request of the
// single-group API with the group its key belongs to (zero for a request
// about the whole host, such as its status).
type hostRequest struct {
	*request
	group uint64
	// status is the answer of a reqStatus, set before its reply.
	status *HostStatus
}

// writeKey names a write waiting for its entry: its group and index.
type writeKey struct{ group, index uint64 }

// hostRead is a read waiting for its read index to be applied.
type hostRead struct {
	req   *request
	group uint64
}

// handle starts a request's work on its group, after the ticks the group
// missed.
func (h *Host) handle(r *hostRequest) {
	if r.kind == reqStatus {
		st := h.status(r.group)
		r.status = &st
		r.answer(response{})
		return
	}
	g := h.group(r.group)
	if g == nil {
		r.fail(h.unhosted(r.group))
		return
	}
	h.input(g)
	switch r.kind {
	case reqPut, reqDelete:
		h.propose(g, r.request)
	case reqGet:
		h.read(g, r.request)
	case reqAddLearner, reqPromote, reqRemove:
		h.proposeGroupConfChange(g, r.request)
	case reqTransfer:
		h.transferGroup(g, r)
	default:
		r.fail(&Error{Code: CodeBadRequest, Message: "not supported with several groups"})
	}
}

// propose proposes a write to g. A follower is asked too, and refuses:
// the request wakes it if its group sleeps, so that it notices a leader
// that is gone.
func (h *Host) propose(g *group, r *request) {
	op := opPut
	if r.kind == reqDelete {
		op = opDelete
	}
	index, term, err := g.loop.Propose(encodeCommand(op, r.key, r.value))
	if err != nil {
		if g.rn.BasicStatus().RaftState != raft.StateLeader {
			r.fail(h.notLeader(g))
			return
		}
		r.fail(h.errorFor(g, err))
		return
	}
	h.writes[writeKey{g.id, index}] = &pendingWrite{term: term, req: r}
}

// answerWrite answers the write proposed here at g's index, now applied
// with term (see Node.answerWrite).
func (h *Host) answerWrite(g *group, index, term uint64) {
	k := writeKey{g.id, index}
	w := h.writes[k]
	if w == nil {
		return
	}
	delete(h.writes, k)
	if w.term == term {
		w.req.answer(response{index: index})
		return
	}
	e := h.notLeader(g)
	e.Message = fmt.Sprintf("the proposal at index %d of group %d was overwritten by a new leader; it was not applied", index, g.id)
	w.req.fail(e)
}

// abandonWrites answers the writes of group at or below index, which a
// snapshot replaced: their outcome is unknown.
func (h *Host) abandonWrites(group, index uint64) {
	for k, w := range h.writes {
		if k.group == group && k.index <= index {
			delete(h.writes, k)
			w.req.fail(&Error{Code: CodeTimeout, Message: "a snapshot replaced the state; the outcome of the write is unknown"})
		}
	}
}

// read asks g for a read index (or a local read); the group's loop hands
// it to onRead once applied.
func (h *Host) read(g *group, r *request) {
	h.nextCtx++
	ctx := binary.BigEndian.AppendUint64(nil, h.nextCtx)
	var err error
	switch r.consistency {
	case "", ConsistencyLinearizable, ConsistencyLease:
		err = g.loop.ReadIndex(ctx)
	case ConsistencyLocal:
		err = g.loop.ReadLocal(ctx, r.minIndex)
	default:
		r.fail(&Error{Code: CodeBadRequest, Message: fmt.Sprintf("unknown consistency %q", r.consistency)})
		return
	}
	if err != nil {
		r.fail(h.errorFor(g, err))
		return
	}
	h.reads[string(ctx)] = &hostRead{req: r, group: g.id}
}

// onRead answers a read of g that its loop released: the group has
// applied its index (or it failed).
func (g *group) onRead(rs raft.ReadState) {
	h := g.h
	hr := h.reads[string(rs.RequestCtx)]
	if hr == nil || hr.group != g.id {
		return // answered by its deadline already
	}
	delete(h.reads, string(rs.RequestCtx))
	if rs.Err != nil {
		hr.req.fail(h.errorFor(g, rs.Err))
		return
	}
	v, ok := g.sm.kv[hr.req.key]
	hr.req.answer(response{index: g.applied, value: v, found: ok})
}

// expire answers the requests past their deadline with a timeout.
func (h *Host) expire(now time.Time) {
	for k, w := range h.writes {
		if !now.Before(w.req.deadline) {
			delete(h.writes, k)
			w.req.fail(&Error{Code: CodeTimeout, Message: "no answer in time"})
		}
	}
	for ctx, r := range h.reads {
		if !now.Before(r.req.deadline) {
			delete(h.reads, ctx)
			r.req.fail(&Error{Code: CodeTimeout, Message: "no answer in time"})
		}
	}
	h.transfers = slices.DeleteFunc(h.transfers, func(r *hostRequest) bool {
		if now.Before(r.deadline) {
			return false
		}
		r.fail(&Error{Code: CodeTimeout, Message: "no answer in time"})
		return true
	})
}

// unhosted is the error of a request for a group with no replica here
// (or outside the layout).
func (h *Host) unhosted(group uint64) *Error {
	if group == 0 || group > uint64(len(h.groups)) {
		return &Error{Code: CodeBadRequest, Message: fmt.Sprintf("no group %d", group)}
	}
	return &Error{Code: CodeNotLeader, Message: fmt.Sprintf("this process holds no replica of group %d; ask another", group)}
}

// errorFor is the API error of a refusal of g's node, naming g's leader.
func (h *Host) errorFor(g *group, err error) *Error {
	e := &Error{Code: codeFor(err), Message: fmt.Sprintf("group %d: %v", g.id, err)}
	lead := g.rn.BasicStatus().Lead
	var lagging *raft.LaggingError
	if errors.As(err, &lagging) {
		lead = lagging.Leader
	}
	if e.Code == CodeNotLeader || e.Code == CodeTimeout {
		e.LeaderID, e.Leader = lead, h.httpAddrs[lead]
	}
	return e
}

// notLeader is the error of a write to a group this process does not
// lead: it names the leader of that group.
func (h *Host) notLeader(g *group) *Error {
	lead := g.rn.BasicStatus().Lead
	e := &Error{Code: CodeNotLeader, Message: fmt.Sprintf("this node does not lead group %d", g.id),
		LeaderID: lead, Leader: h.httpAddrs[lead]}
	if lead == raft.None {
		e.Message = fmt.Sprintf("no leader of group %d is known", g.id)
	}
	return e
}
