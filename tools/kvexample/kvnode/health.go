package kvnode

import (
	"fmt"
	"net/http"

	raft "github.com/tickraft/raft"
)

// Health is the JSON body of GET /healthz and GET /readyz: whether the
// node is healthy (or ready), and why not.
type Health struct {
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
	// Leader, Applied and StartCommit are what /readyz judged: the leader
	// known, the applied index, and the commit index first seen with a
	// known leader since the process started.
	Leader      uint64 `json:"leader,omitempty"`
	Applied     uint64 `json:"applied,omitempty"`
	StartCommit uint64 `json:"start_commit,omitempty"`
}

// handleObservability registers the endpoints that answer without
// waiting for the event loop: GET /metrics (metrics.go), GET /healthz and
// GET /readyz.
func (n *Node) handleObservability(mux *http.ServeMux) {
	mux.HandleFunc("GET /metrics", n.handleMetrics)
	mux.HandleFunc("GET /healthz", n.handleHealthz)
	mux.HandleFunc("GET /readyz", n.handleReadyz)
}

// handleHealthz answers 200 while the process serves HTTP and its event
// loop runs; 503 once the loop has stopped (the process is about to exit).
func (n *Node) handleHealthz(w http.ResponseWriter, req *http.Request) {
	select {
	case <-n.loopDone:
		writeJSON(w, http.StatusServiceUnavailable, Health{Reason: "the event loop has stopped"})
	default:
		writeJSON(w, http.StatusOK, Health{OK: true})
	}
}

// handleReadyz answers 200 when the node knows a leader and has applied
// at least the commit index it first saw with a known leader since it
// started (it has caught up with the cluster as of its start), 503 with
// the reason otherwise. It reads what the loop last published (at most a
// tick old).
func (n *Node) handleReadyz(w http.ResponseWriter, req *http.Request) {
	h := readiness(n.metrics.gauges.Load(), n.loopDone)
	status := http.StatusOK
	if !h.OK {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, h)
}

// readiness judges the published gauges g.
func readiness(g *loopGauges, loopDone <-chan struct{}) Health {
	select {
	case <-loopDone:
		return Health{Reason: "the event loop has stopped"}
	default:
	}
	switch {
	case g == nil:
		return Health{Reason: "the event loop has not started"}
	case g.Lead == raft.None || !g.SawLeader:
		return Health{Reason: "no leader is known", Applied: g.Applied}
	}
	h := Health{Leader: g.Lead, Applied: g.Applied, StartCommit: g.StartCommit}
	if g.Applied < g.StartCommit {
		h.Reason = fmt.Sprintf("catching up: applied %d of the %d committed at start", g.Applied, g.StartCommit)
		return h
	}
	h.OK = true
	return h
}
