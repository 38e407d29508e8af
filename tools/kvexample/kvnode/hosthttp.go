package kvnode

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// handler routes a host's HTTP API: the key-value endpoints of the
// single-group API, each routed to its key's group, /status, /metrics,
// /healthz, and the per-group membership and transfer endpoints under
// /groups/{g}/ (hostmembers.go).
func (h *Host) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /kv/{key...}", h.handlePut)
	mux.HandleFunc("DELETE /kv/{key...}", h.handleDelete)
	mux.HandleFunc("GET /kv/{key...}", h.handleGet)
	mux.HandleFunc("GET /status", h.handleStatus)
	mux.HandleFunc("GET /metrics", h.handleMetrics)
	mux.HandleFunc("GET /healthz", h.handleHealthz)
	h.registerGroupAdmin(mux)
	return jsonFallbacks(mux)
}

// do hands a request to the loop and waits for its answer.
func (h *Host) do(req *http.Request, r *hostRequest) response {
	r.reply = make(chan response, 1)
	r.deadline = time.Now().Add(h.cfg.RequestTimeout)
	return awaitLoop(req, h.reqs, r, r.reply, h.loopDone, h.cfg.RequestTimeout, "host")
}

// route returns the request for key's group.
func (h *Host) route(r *request) *hostRequest {
	return &hostRequest{request: r, group: GroupOf(r.key, len(h.groups))}
}

func (h *Host) handlePut(w http.ResponseWriter, req *http.Request) {
	value, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxValueBytes))
	if err != nil {
		writeError(w, &Error{Code: CodeBadRequest, Message: "reading the value: " + err.Error()})
		return
	}
	h.write(w, req, &request{kind: reqPut, key: req.PathValue("key"), value: value})
}

func (h *Host) handleDelete(w http.ResponseWriter, req *http.Request) {
	h.write(w, req, &request{kind: reqDelete, key: req.PathValue("key")})
}

func (h *Host) write(w http.ResponseWriter, req *http.Request, r *request) {
	if e := h.cfg.checkKey(r.key); e != nil {
		writeError(w, e)
		return
	}
	answerWrite(w, r, h.do(req, h.route(r)))
}

func (h *Host) handleGet(w http.ResponseWriter, req *http.Request) {
	r, e := readRequest(req, &h.cfg)
	if e != nil {
		writeError(w, e)
		return
	}
	answerRead(w, r, h.do(req, h.route(r)))
}

// handleHealthz answers 200 while the loop runs.
func (h *Host) handleHealthz(w http.ResponseWriter, req *http.Request) {
	select {
	case <-h.loopDone:
		writeJSON(w, http.StatusServiceUnavailable, Health{Reason: "the event loop has stopped"})
	default:
		writeJSON(w, http.StatusOK, Health{OK: true})
	}
}

// handleMetrics answers GET /metrics: the host's totals, then the state
// of each group labelled group="N". It asks the loop for the groups'
// state (unlike a single node's /metrics, which reads a copy).
func (h *Host) handleMetrics(w http.ResponseWriter, req *http.Request) {
	r := &hostRequest{request: &request{kind: reqStatus}}
	res := h.do(req, r)
	if res.err != nil {
		writeError(w, res.err)
		return
	}
	st := r.status
	var p promWriter
	p.single("kvexample_groups", "gauge", "Groups held by this process.", float64(st.Hosted))
	p.single("kvexample_groups_leading", "gauge", "Groups this process leads.", float64(st.Leading))
	p.single("kvexample_groups_quiesced", "gauge", "Groups whose replica here sleeps.", float64(st.Quiesced))
	p.single("kvexample_groups_awake", "gauge", "Groups the loop ticks at every tick.", float64(st.Awake))
	p.single("kvexample_keys", "gauge", "Keys held, summed over the groups.", float64(st.Keys))
	p.single("kvexample_host_rounds_total", "counter", "Rounds of the loop that handed out a Ready.", float64(st.Rounds))
	p.single("kvexample_host_readys_total", "counter", "Readys handed out, all groups.", float64(st.Readys))
	p.single("kvexample_wal_syncs_total", "counter", "Fsyncs of the log.", float64(st.Syncs))
	p.single("kvexample_host_messages_dropped_total", "counter", "Received messages dropped before any group took them (another process's, a local type, a group not held here).", float64(h.counters.wrongGroup.Load()))
	p.single("kvexample_raft_messages_refused_total", "counter", "Peer messages a group's node refused with a typed error (nothing changed).", float64(h.counters.refused.Load()))
	p.single("kvexample_host_peer_down_reports_total", "counter", "Groups told their leader's process is unreachable (ReportPeerDown).", float64(h.counters.peerDownReports.Load()))
	p.single("kvexample_host_removed_notices_total", "counter", "Notices sent to processes removed from a group that still sent to it.", float64(h.counters.removedNotices.Load()))
	tr := h.TransportStats()
	p.single("kvexample_transport_frames_sent_total", "counter", "Frames written to the sockets.", float64(tr.FramesSent))
	p.single("kvexample_transport_frames_received_total", "counter", "Frames read from the sockets.", float64(tr.FramesReceived))
	families := []struct {
		name, help string
		val        func(GroupStatus) float64
	}{
		{"kvexample_group_term", "The group's term.", func(g GroupStatus) float64 { return float64(g.Term) }},
		{"kvexample_group_commit_index", "The group's commit index.", func(g GroupStatus) float64 { return float64(g.Commit) }},
		{"kvexample_group_applied_index", "The group's applied index.", func(g GroupStatus) float64 { return float64(g.Applied) }},
		{"kvexample_group_leader_id", "The group's leader (0: none known).", func(g GroupStatus) float64 { return float64(g.Leader) }},
		{"kvexample_group_keys", "The group's keys.", func(g GroupStatus) float64 { return float64(g.Keys) }},
		{"kvexample_group_quiesced", "1 while the group's replica here sleeps.", func(g GroupStatus) float64 { return b2f(g.Quiesced) }},
	}
	for _, f := range families {
		p.family(f.name, "gauge", f.help)
		for _, g := range st.PerGroup {
			p.sample(f.name, f.val(g), label{"group", strconv.FormatUint(g.Group, 10)})
		}
	}
	w.Header().Set("Content-Type", promContentType)
	w.Write(p.b.Bytes())
}
