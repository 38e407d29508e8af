package kvnode

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"

	raft "github.com/tickraft/raft"
)

// This file holds a Host's per-group membership API: the admin endpoints
// under /groups/{g}/, answered by the group's leader, and their work in
// the loop.

// GroupMemberRequest is the JSON body of POST /groups/{g}/members on a
// host: the process to add to the group as a learner.
type GroupMemberRequest struct {
	ID uint64 `json:"id"`
}

// GroupTransferRequest is the JSON body of POST /groups/{g}/transfer on a
// host: the process to hand the group's leadership to.
type GroupTransferRequest struct {
	To uint64 `json:"to"`
}

// registerGroupAdmin serves the per-group membership endpoints on mux,
// behind the admin guard.
func (h *Host) registerGroupAdmin(mux *http.ServeMux) {
	mux.HandleFunc("POST /groups/{g}/members", adminGuard(&h.cfg, h.handleGroupAdd))
	mux.HandleFunc("POST /groups/{g}/members/{id}/promote", adminGuard(&h.cfg, h.handleGroupPromote))
	mux.HandleFunc("DELETE /groups/{g}/members/{id}", adminGuard(&h.cfg, h.handleGroupRemove))
	mux.HandleFunc("POST /groups/{g}/transfer", adminGuard(&h.cfg, h.handleGroupTransfer))
}

// pathGroup returns the group {g} of req's path, or the error of a group
// outside the layout.
func (h *Host) pathGroup(req *http.Request) (uint64, *Error) {
	g, err := strconv.ParseUint(req.PathValue("g"), 10, 64)
	if err != nil || g == 0 || g > uint64(len(h.groups)) {
		return 0, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("bad group %q: the groups are 1 to %d", req.PathValue("g"), len(h.groups))}
	}
	return g, nil
}

func (h *Host) handleGroupAdd(w http.ResponseWriter, req *http.Request) {
	var m GroupMemberRequest
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<16)).Decode(&m); err != nil || m.ID == 0 {
		writeError(w, &Error{Code: CodeBadRequest, Message: `want {"id": N}`})
		return
	}
	h.groupMembership(w, req, reqAddLearner, m.ID)
}

func (h *Host) handleGroupPromote(w http.ResponseWriter, req *http.Request) {
	h.groupMemberByID(w, req, reqPromote)
}

func (h *Host) handleGroupRemove(w http.ResponseWriter, req *http.Request) {
	h.groupMemberByID(w, req, reqRemove)
}

func (h *Host) groupMemberByID(w http.ResponseWriter, req *http.Request, kind reqKind) {
	if id, ok := pathMemberID(w, req); ok {
		h.groupMembership(w, req, kind, id)
	}
}

// groupMembership hands a membership request about process id in the
// path's group to the loop and writes its answer: the index of the
// applied change.
func (h *Host) groupMembership(w http.ResponseWriter, req *http.Request, kind reqKind, id uint64) {
	g, e := h.pathGroup(req)
	if e != nil {
		writeError(w, e)
		return
	}
	res := h.do(req, &hostRequest{request: &request{kind: kind, member: memberContext{ID: id}}, group: g})
	if res.err != nil {
		writeError(w, res.err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"index": res.index})
}

func (h *Host) handleGroupTransfer(w http.ResponseWriter, req *http.Request) {
	g, e := h.pathGroup(req)
	if e != nil {
		writeError(w, e)
		return
	}
	var t GroupTransferRequest
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<16)).Decode(&t); err != nil || t.To == 0 {
		writeError(w, &Error{Code: CodeBadRequest, Message: `want {"to": N}`})
		return
	}
	res := h.do(req, &hostRequest{request: &request{kind: reqTransfer, target: t.To}, group: g})
	if res.err != nil {
		writeError(w, res.err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"leader": t.To})
}

// unknownProcess is the error of a request naming a process that is not
// one of the cluster's (this one or one of Peers): the transport could
// not reach it, so it can hold no replica.
func (h *Host) unknownProcess(id uint64) *Error {
	return &Error{Code: CodeBadRequest, Message: fmt.Sprintf("process %d is not one of the cluster's processes (-peers); only they can hold a replica", id)}
}

// proposeGroupConfChange proposes a membership change of g on its leader,
// checked against g's applied configuration with the rules of the
// single-group server (checkMemberChange). The leader itself cannot be
// removed: its leadership must be transferred first. The answer waits for
// the change's apply.
func (h *Host) proposeGroupConfChange(g *group, r *request) {
	id := r.member.ID
	if !h.isProcess(id) {
		r.fail(h.unknownProcess(id))
		return
	}
	if g.rn.BasicStatus().RaftState != raft.StateLeader {
		r.fail(h.notLeader(g))
		return
	}
	where := fmt.Sprintf("group %d", g.id)
	if e := checkMemberChange(r.kind, id, g.confState, where, fmt.Sprintf("POST /groups/%d/members", g.id)); e != nil {
		r.fail(e)
		return
	}
	if r.kind == reqRemove && id == h.cfg.ID {
		r.fail(&Error{Code: CodeLeaderRemoval, Message: fmt.Sprintf(
			"process %d leads group %d: hand its leadership to another voter first (POST /groups/%d/transfer)", id, g.id, g.id)})
		return
	}
	index, term, err := g.loop.ProposeConfChange(memberChange(r.kind, id))
	if err != nil {
		r.fail(h.errorFor(g, err))
		return
	}
	h.writes[writeKey{g.id, index}] = &pendingWrite{term: term, req: r}
}

// transferGroup asks g's leader to hand leadership to r.target; the
// request is answered once the target leads g (checkTransfers).
func (h *Host) transferGroup(g *group, hr *hostRequest) {
	r := hr.request
	if !h.isProcess(r.target) {
		r.fail(h.unknownProcess(r.target))
		return
	}
	st := g.rn.BasicStatus()
	switch {
	case st.Lead == r.target:
		r.answer(response{})
		return
	case st.RaftState != raft.StateLeader:
		r.fail(h.notLeader(g))
		return
	case !slices.Contains(g.confState.Voters, r.target):
		r.fail(&Error{Code: CodeBadRequest, Message: fmt.Sprintf("process %d is not a voter of group %d", r.target, g.id)})
		return
	}
	if err := g.rn.TransferLeader(r.target); err != nil {
		r.fail(h.errorFor(g, err))
		return
	}
	h.transfers = append(h.transfers, hr)
}

// checkTransfers answers the transfers whose target now leads its group.
func (h *Host) checkTransfers() {
	h.transfers = slices.DeleteFunc(h.transfers, func(hr *hostRequest) bool {
		g := h.group(hr.group)
		if g == nil || g.rn.BasicStatus().Lead != hr.target {
			return false
		}
		hr.answer(response{})
		return true
	})
}

// AddGroupLearner adds process id to group g of a multi-group cluster as
// a learner (POST /groups/{g}/members at g's leader).
func (c *Client) AddGroupLearner(ctx context.Context, g, id uint64) error {
	body, _ := json.Marshal(GroupMemberRequest{ID: id})
	return c.toLeader(ctx, g, http.MethodPost, fmt.Sprintf("/groups/%d/members", g), body, nil)
}

// PromoteGroupMember makes learner id of group g a voter.
func (c *Client) PromoteGroupMember(ctx context.Context, g, id uint64) error {
	return c.toLeader(ctx, g, http.MethodPost, fmt.Sprintf("/groups/%d/members/%d/promote", g, id), nil, nil)
}

// RemoveGroupMember removes process id from group g.
func (c *Client) RemoveGroupMember(ctx context.Context, g, id uint64) error {
	return c.toLeader(ctx, g, http.MethodDelete, fmt.Sprintf("/groups/%d/members/%d", g, id), nil, nil)
}

// TransferGroupLeader hands the leadership of group g to process id and
// returns once id leads g.
func (c *Client) TransferGroupLeader(ctx context.Context, g, id uint64) error {
	body, _ := json.Marshal(GroupTransferRequest{To: id})
	return c.toLeader(ctx, g, http.MethodPost, fmt.Sprintf("/groups/%d/transfer", g), body, nil)
}
