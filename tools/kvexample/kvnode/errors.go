package kvnode

import (
	"errors"
	"net/http"
	"sync"

	raft "github.com/tickraft/raft"
)

// The codes of the errors the HTTP API answers with.
const (
	// CodeNotLeader: only the leader does this; Error.Leader is the
	// leader's HTTP address when this node knows it. Retry there. It is
	// answered with 503 Service Unavailable and a Retry-After header, so
	// that a plain HTTP client that does not read the body backs off; a
	// redirect is not used because a write must not be replayed blindly
	// by a client library that follows redirects.
	CodeNotLeader = "not_leader"
	// CodeBusy: a bound is reached or the leader is changing; retry later.
	CodeBusy = "busy"
	// CodeTimeout: no answer in time. A write's outcome is then unknown: it
	// may yet be applied.
	CodeTimeout = "timeout"
	// CodeBadRequest: the request is wrong; do not retry it.
	CodeBadRequest = "bad_request"
	// CodeStopped: the node is stopping or stopped.
	CodeStopped = "stopped"
	// CodeInternal: anything else.
	CodeInternal = "internal"

	// CodeUnauthorized: an admin endpoint was called without the admin
	// token, or with a wrong one (401).
	CodeUnauthorized = "unauthorized"
	// CodeForbidden: an admin endpoint was called on a node that has no
	// admin token configured and was not started with InsecureAdmin (403).
	CodeForbidden = "forbidden"
	// CodeNotFound: no such route (404).
	CodeNotFound = "not_found"
	// CodeMethodNotAllowed: the route exists for other methods; the Allow
	// header lists them (405).
	CodeMethodNotAllowed = "method_not_allowed"
	// CodeUnknownMember: promote or remove named a node that is not a
	// member (404); promote of a node that is not a learner.
	CodeUnknownMember = "unknown_member"
	// CodeAlreadyMember: add named a node that is already a member (409).
	CodeAlreadyMember = "already_member"
	// CodeNotLearner: promote named a member that is already a voter (409).
	CodeNotLearner = "not_learner"
	// CodeLeaderRemoval: a multi-group host was asked to remove a group's
	// leader from the group; hand its leadership to another voter first
	// (409).
	CodeLeaderRemoval = "leader_removal"
	// CodeKeyTooLarge: the key exceeds Config.MaxKeyBytes (400).
	CodeKeyTooLarge = "key_too_large"
)

// Error is the JSON body of every failed request of the HTTP API.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Leader is the HTTP address of the leader this node knows of, and
	// LeaderID its ID, for CodeNotLeader (and sometimes CodeTimeout).
	Leader   string `json:"leader,omitempty"`
	LeaderID uint64 `json:"leader_id,omitempty"`
}

// Error returns "code: message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// httpStatus is the HTTP status of an error code.
func httpStatus(code string) int {
	switch code {
	case CodeNotLeader, CodeBusy, CodeStopped:
		return http.StatusServiceUnavailable
	case CodeTimeout:
		return http.StatusGatewayTimeout
	case CodeBadRequest, CodeKeyTooLarge:
		return http.StatusBadRequest
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound, CodeUnknownMember:
		return http.StatusNotFound
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeAlreadyMember, CodeNotLearner, CodeLeaderRemoval:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// retryable reports whether a request that failed with code may succeed
// if sent again, here or at another node.
func retryable(code string) bool {
	switch code {
	case CodeNotLeader, CodeBusy, CodeTimeout, CodeStopped, CodeInternal:
		return true
	}
	return false
}

// codeFor maps a refusal of the Raft node to an API error code.
func codeFor(err error) string {
	switch {
	case errors.Is(err, raft.ErrNoLeader), errors.Is(err, raft.ErrNotLeader):
		return CodeNotLeader
	case errors.Is(err, raft.ErrReadLagging):
		return CodeTimeout
	case errors.Is(err, raft.ErrTransferRefused), errors.Is(err, raft.ErrInvalidConfChange),
		errors.Is(err, raft.ErrUnknownTransition):
		return CodeBadRequest
	case errors.Is(err, raft.ErrTransferInProgress), errors.Is(err, raft.ErrUncommittedTailFull),
		errors.Is(err, raft.ErrPendingConfChange), errors.Is(err, raft.ErrTooManyPendingReads),
		errors.Is(err, raft.ErrReadAborted), errors.Is(err, raft.ErrProposalDropped):
		return CodeBusy
	}
	return CodeInternal
}

// errorFor is the API error of a refusal of the Raft node.
func (n *Node) errorFor(err error) *Error {
	e := &Error{Code: codeFor(err), Message: err.Error()}
	lead := n.rn.BasicStatus().Lead
	var lagging *raft.LaggingError
	if errors.As(err, &lagging) {
		lead = lagging.Leader
	}
	if e.Code == CodeNotLeader || e.Code == CodeTimeout {
		e.LeaderID, e.Leader = lead, n.httpAddr(lead)
	}
	return e
}

// notLeader is the error of a request only the leader may handle.
func (n *Node) notLeader() *Error {
	lead := n.rn.BasicStatus().Lead
	e := &Error{Code: CodeNotLeader, Message: "this node is not the leader", LeaderID: lead, Leader: n.httpAddr(lead)}
	if lead == raft.None {
		e.Message = "no leader is known"
	}
	return e
}

// stopCause records, for other goroutines, the error that stopped an
// event loop on its own (Node.Err, Host.Err).
type stopCause struct {
	mu  sync.Mutex
	err error
}

func (c *stopCause) set(err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
}

func (c *stopCause) get() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
