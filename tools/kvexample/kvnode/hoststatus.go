package kvnode

import (
	"context"
	"net/http"
	"strconv"

	raft "github.com/tickraft/raft"
)

// HostStatus is the JSON body of GET /status on a multi-group host: the
// totals over its groups, and each group's state (only the group asked
// for with ?group=N).
type HostStatus struct {
	ID uint64 `json:"id"`
	// Groups is the number of groups of the cluster's layout; Hosted
	// counts those this process holds a replica of, the only ones listed
	// and counted below.
	Groups int `json:"groups"`
	Hosted int `json:"hosted"`
	// Leading, Quiesced and Awake count the groups this process leads,
	// whose replica here sleeps, and that the loop ticks.
	Leading  int `json:"leading"`
	Quiesced int `json:"quiesced"`
	Awake    int `json:"awake"`
	// Keys and Applied are summed over the groups.
	Keys    int    `json:"keys"`
	Applied uint64 `json:"applied"`
	// Rounds counts the rounds of the loop that handed out a Ready, and
	// Readys the Readys; Syncs the fsyncs of the log.
	Rounds uint64 `json:"rounds"`
	Readys uint64 `json:"readys"`
	Syncs  uint64 `json:"syncs"`
	// PerGroup is each group's state, in group order.
	PerGroup  []GroupStatus   `json:"per_group"`
	Transport TransportStatus `json:"transport"`
}

// Group returns group g's state in st, or nil if st does not list it (the
// host holds no replica of it) or st is nil.
func (st *HostStatus) Group(g uint64) *GroupStatus {
	if st == nil {
		return nil
	}
	for i := range st.PerGroup {
		if st.PerGroup[i].Group == g {
			return &st.PerGroup[i]
		}
	}
	return nil
}

// GroupStatus is one group's state on a host.
type GroupStatus struct {
	Group      uint64 `json:"group"`
	State      string `json:"state"`
	Leader     uint64 `json:"leader"`
	LeaderHTTP string `json:"leader_http,omitempty"`
	Term       uint64 `json:"term"`
	Commit     uint64 `json:"commit"`
	Applied    uint64 `json:"applied"`
	Keys       int    `json:"keys"`
	Quiesced   bool   `json:"quiesced"`
	// Snapshot is the index of the group's latest snapshot.
	Snapshot uint64 `json:"snapshot"`
	// Voters and Learners are the group's configuration as this replica
	// applied it.
	Voters   []uint64 `json:"voters"`
	Learners []uint64 `json:"learners,omitempty"`
}

// status builds the HostStatus; only group (zero: every group) is listed.
func (h *Host) status(only uint64) HostStatus {
	st := HostStatus{ID: h.cfg.ID, Groups: len(h.groups), Hosted: h.hosted.count(), Awake: len(h.awake),
		Rounds: h.counters.rounds.Load(), Readys: h.counters.readys.Load(), Syncs: h.glog.syncs(),
		Transport: transportStatus(h.TransportStats())}
	for _, g := range h.groups {
		if g == nil {
			continue
		}
		gs := g.status(h)
		if gs.State == raft.StateLeader.String() {
			st.Leading++
		}
		if gs.Quiesced {
			st.Quiesced++
		}
		st.Keys += gs.Keys
		st.Applied += gs.Applied
		if only == 0 || only == g.id {
			st.PerGroup = append(st.PerGroup, gs)
		}
	}
	return st
}

// status returns the group's state.
func (g *group) status(h *Host) GroupStatus {
	bs := g.rn.BasicStatus()
	gs := GroupStatus{Group: g.id, State: bs.RaftState.String(), Leader: bs.Lead, LeaderHTTP: h.httpAddrs[bs.Lead],
		Term: bs.Term, Commit: bs.Commit, Applied: g.applied, Keys: len(g.sm.kv), Quiesced: bs.Quiesced,
		Voters: g.confState.Voters, Learners: g.confState.Learners}
	if snap, err := g.disk.Storage().Snapshot(); err == nil {
		gs.Snapshot = snap.Metadata.Index
	}
	return gs
}

// handleStatus answers GET /status[?group=N].
func (h *Host) handleStatus(w http.ResponseWriter, req *http.Request) {
	var only uint64
	if s := req.URL.Query().Get("group"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v == 0 || v > uint64(len(h.groups)) {
			writeError(w, &Error{Code: CodeBadRequest, Message: "bad group"})
			return
		}
		only = v
	}
	r := &hostRequest{request: &request{kind: reqStatus}, group: only}
	res := h.do(req, r)
	if res.err != nil {
		writeError(w, res.err)
		return
	}
	writeJSON(w, http.StatusOK, r.status)
}

// HostStatus returns the status of the multi-group host at addr, every
// group listed.
func (c *Client) HostStatus(ctx context.Context, addr string) (*HostStatus, error) {
	var st HostStatus
	if _, err := c.call(ctx, addr, http.MethodGet, "/status", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}
