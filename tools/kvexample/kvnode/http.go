package kvnode

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// MaxValueBytes bounds the body of a PUT.
const MaxValueBytes = 1 << 20

// answerSlack is how much longer an HTTP handler waits than the loop's
// deadline, so that the loop's own timeout answer normally arrives first.
const answerSlack = 500 * time.Millisecond

// KVResult is the JSON body of a successful request on /kv/: for a write,
// the index of its entry (usable as min_index of a local read); for a
// read, the value and the applied index it was read at.
type KVResult struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
	Found bool   `json:"found"`
	Index uint64 `json:"index"`
}

// MemberRequest is the JSON body of POST /members: a node to add as a
// learner, with its addresses.
type MemberRequest struct {
	ID   uint64 `json:"id"`
	Raft string `json:"raft"`
	HTTP string `json:"http"`
}

// TransferRequest is the JSON body of POST /leader.
type TransferRequest struct {
	ID uint64 `json:"id"`
}

// handler routes the HTTP API.
func (n *Node) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /kv/{key...}", n.handlePut)
	mux.HandleFunc("DELETE /kv/{key...}", n.handleDelete)
	mux.HandleFunc("GET /kv/{key...}", n.handleGet)
	mux.HandleFunc("POST /members", n.adminOnly(n.handleAddMember))
	mux.HandleFunc("POST /members/{id}/promote", n.adminOnly(n.handlePromote))
	mux.HandleFunc("DELETE /members/{id}", n.adminOnly(n.handleRemoveMember))
	mux.HandleFunc("POST /leader", n.adminOnly(n.handleTransfer))
	mux.HandleFunc("GET /status", n.handleStatus)
	n.handleObservability(mux) // health.go: /metrics, /healthz, /readyz
	n.registerPprof(mux)
	return jsonFallbacks(mux)
}

// do hands a request to the event loop and waits for its answer.
func (n *Node) do(req *http.Request, r *request) response {
	r.reply = make(chan response, 1)
	r.deadline = time.Now().Add(n.cfg.RequestTimeout)
	return awaitLoop(req, n.reqs, r, r.reply, n.loopDone, n.cfg.RequestTimeout, "node")
}

// awaitLoop hands r to an event loop through reqs, without waiting for
// room (a full queue answers busy), and waits for the answer on reply,
// for at most timeout plus answerSlack, or until the client goes away or
// the loop stops (loopDone). what names the server in the answers.
func awaitLoop[R any](req *http.Request, reqs chan<- R, r R, reply <-chan response, loopDone <-chan struct{}, timeout time.Duration, what string) response {
	select {
	case <-loopDone:
		return response{err: &Error{Code: CodeStopped, Message: "the " + what + " is stopped"}}
	case reqs <- r:
	default:
		return response{err: &Error{Code: CodeBusy, Message: "too many requests waiting"}}
	}
	timer := time.NewTimer(timeout + answerSlack)
	defer timer.Stop()
	select {
	case res := <-reply:
		return res
	case <-timer.C:
		return response{err: &Error{Code: CodeTimeout, Message: "no answer in time"}}
	case <-req.Context().Done():
		return response{err: &Error{Code: CodeTimeout, Message: "the client went away"}}
	case <-loopDone:
		return response{err: &Error{Code: CodeStopped, Message: "the " + what + " stopped"}}
	}
}

func (n *Node) handlePut(w http.ResponseWriter, req *http.Request) {
	key := req.PathValue("key")
	value, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxValueBytes))
	if err != nil {
		writeError(w, &Error{Code: CodeBadRequest, Message: "reading the value: " + err.Error()})
		return
	}
	n.write(w, req, &request{kind: reqPut, key: key, value: value})
}

func (n *Node) handleDelete(w http.ResponseWriter, req *http.Request) {
	n.write(w, req, &request{kind: reqDelete, key: req.PathValue("key")})
}

func (n *Node) write(w http.ResponseWriter, req *http.Request, r *request) {
	if e := n.cfg.checkKey(r.key); e != nil {
		writeError(w, e)
		return
	}
	answerWrite(w, r, n.do(req, r))
}

// answerWrite writes the answer of a put or a delete.
func answerWrite(w http.ResponseWriter, r *request, res response) {
	if res.err != nil {
		writeError(w, res.err)
		return
	}
	writeJSON(w, http.StatusOK, KVResult{Key: r.key, Found: r.kind == reqPut, Index: res.index})
}

func (n *Node) handleGet(w http.ResponseWriter, req *http.Request) {
	r, e := readRequest(req, &n.cfg)
	if e != nil {
		writeError(w, e)
		return
	}
	answerRead(w, r, n.do(req, r))
}

// readRequest parses GET /kv/{key}: the key, the consistency asked for
// and the least index a local read must have applied (min_index).
func readRequest(req *http.Request, c *Config) (*request, *Error) {
	q := req.URL.Query()
	r := &request{kind: reqGet, key: req.PathValue("key"), consistency: q.Get("consistency")}
	if e := c.checkKey(r.key); e != nil {
		return nil, e
	}
	if s := q.Get("min_index"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, &Error{Code: CodeBadRequest, Message: "bad min_index"}
		}
		r.minIndex = v
	}
	return r, nil
}

// answerRead writes the answer of a read: 404 for a key not found.
func answerRead(w http.ResponseWriter, r *request, res response) {
	if res.err != nil {
		writeError(w, res.err)
		return
	}
	status := http.StatusOK
	if !res.found {
		status = http.StatusNotFound
	}
	writeJSON(w, status, KVResult{Key: r.key, Value: string(res.value), Found: res.found, Index: res.index})
}

func (n *Node) handleAddMember(w http.ResponseWriter, req *http.Request) {
	var m MemberRequest
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<16)).Decode(&m); err != nil || m.ID == 0 || m.Raft == "" {
		writeError(w, &Error{Code: CodeBadRequest, Message: `want {"id": N, "raft": "host:port", "http": "host:port"}`})
		return
	}
	r := &request{kind: reqAddLearner, member: memberContext{ID: m.ID, Member: Member{Raft: m.Raft, HTTP: m.HTTP}}}
	n.membership(w, req, r)
}

func (n *Node) handlePromote(w http.ResponseWriter, req *http.Request) {
	n.memberByID(w, req, reqPromote)
}

func (n *Node) handleRemoveMember(w http.ResponseWriter, req *http.Request) {
	n.memberByID(w, req, reqRemove)
}

func (n *Node) memberByID(w http.ResponseWriter, req *http.Request, kind reqKind) {
	if id, ok := pathMemberID(w, req); ok {
		n.membership(w, req, &request{kind: kind, member: memberContext{ID: id}})
	}
}

// pathMemberID returns the member ID of req's path ({id}), or answers
// 400 bad_request and reports false for one that is not a positive
// integer.
func pathMemberID(w http.ResponseWriter, req *http.Request) (uint64, bool) {
	id, err := strconv.ParseUint(req.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		writeError(w, &Error{Code: CodeBadRequest, Message: "bad member ID"})
		return 0, false
	}
	return id, true
}

func (n *Node) membership(w http.ResponseWriter, req *http.Request, r *request) {
	res := n.do(req, r)
	if res.err != nil {
		writeError(w, res.err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"index": res.index})
}

func (n *Node) handleTransfer(w http.ResponseWriter, req *http.Request) {
	var t TransferRequest
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<16)).Decode(&t); err != nil || t.ID == 0 {
		writeError(w, &Error{Code: CodeBadRequest, Message: `want {"id": N}`})
		return
	}
	res := n.do(req, &request{kind: reqTransfer, target: t.ID})
	if res.err != nil {
		writeError(w, res.err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"leader": t.ID})
}

func (n *Node) handleStatus(w http.ResponseWriter, req *http.Request) {
	res := n.do(req, &request{kind: reqStatus})
	if res.err != nil {
		writeError(w, res.err)
		return
	}
	writeJSON(w, http.StatusOK, res.status)
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.Code == CodeBusy || e.Code == CodeNotLeader {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, httpStatus(e.Code), e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"code":%q,"message":%q}`, CodeInternal, err.Error()), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
