package kvnode

import "slices"

// Status is the JSON body of GET /status: the node's Raft state, its
// configuration with the members' addresses, each follower's progress when
// it leads, and its counters.
type Status struct {
	ID    uint64 `json:"id"`
	State string `json:"state"`
	// Leader is the leader's ID (0: none known), LeaderHTTP its address.
	Leader         uint64 `json:"leader"`
	LeaderHTTP     string `json:"leader_http,omitempty"`
	LeadTransferee uint64 `json:"lead_transferee,omitempty"`
	Term           uint64 `json:"term"`
	Vote           uint64 `json:"vote"`
	Commit         uint64 `json:"commit"`
	// Applied is the index the state machine has applied.
	Applied uint64 `json:"applied"`
	Keys    int    `json:"keys"`
	// Mode is "async" or "sync": the storage loop in use.
	Mode string `json:"mode"`

	Voters         []uint64          `json:"voters"`
	Learners       []uint64          `json:"learners,omitempty"`
	VotersOutgoing []uint64          `json:"voters_outgoing,omitempty"`
	Members        map[uint64]Member `json:"members"`
	// Progress is each member's replication progress, on the leader only.
	Progress map[uint64]Progress `json:"progress,omitempty"`

	// Snapshot is the latest snapshot in storage; FirstIndex the first
	// entry the log still holds.
	Snapshot   SnapshotRef `json:"snapshot"`
	FirstIndex uint64      `json:"first_index"`
	// Fetch is this node's chunked snapshot transfer in progress, and
	// SnapshotsInstalled counts the snapshots it installed since it
	// started.
	Fetch              *FetchStatus `json:"fetch,omitempty"`
	SnapshotsInstalled int          `json:"snapshots_installed"`
	// WALTruncatedBytes is the torn tail the log's recovery cut at start.
	WALTruncatedBytes int64           `json:"wal_truncated_bytes"`
	Transport         TransportStatus `json:"transport"`
}

// Progress is a follower's replication progress as the leader sees it.
type Progress struct {
	Match        uint64 `json:"match"`
	Next         uint64 `json:"next"`
	State        string `json:"state"`
	RecentActive bool   `json:"recent_active"`
	IsLearner    bool   `json:"is_learner,omitempty"`
}

// SnapshotRef names a snapshot.
type SnapshotRef struct {
	Index uint64 `json:"index"`
	Term  uint64 `json:"term"`
}

// status builds the Status; the loop calls it.
func (n *Node) status() Status {
	rs := n.rn.Status()
	st := Status{
		ID: rs.ID, State: rs.RaftState.String(), Leader: rs.Lead, LeaderHTTP: n.httpAddr(rs.Lead),
		LeadTransferee: rs.LeadTransferee, Term: rs.Term, Vote: rs.Vote, Commit: rs.Commit,
		Applied: n.applied, Keys: len(n.sm.kv), Mode: "async", Fetch: fetchStatus(rs.Fetch),
		Voters:            slices.Clone(n.confState.Voters),
		Learners:          slices.Clone(n.confState.Learners),
		VotersOutgoing:    slices.Clone(n.confState.VotersOutgoing),
		Members:           map[uint64]Member{},
		WALTruncatedBytes: n.truncatedBytes, SnapshotsInstalled: n.installs,
		Transport: transportStatus(n.tr.Stats()),
	}
	if n.cfg.Sync {
		st.Mode = "sync"
	}
	for _, set := range [][]uint64{st.Voters, st.Learners, st.VotersOutgoing} {
		for _, id := range set {
			m := n.member(id)
			if id == n.cfg.ID {
				m = Member{Raft: n.RaftAddr(), HTTP: n.HTTPAddr()}
			}
			st.Members[id] = m
		}
	}
	if snap, err := n.storage.Snapshot(); err == nil {
		st.Snapshot = SnapshotRef{Index: snap.Metadata.Index, Term: snap.Metadata.Term}
	}
	st.FirstIndex, _ = n.storage.FirstIndex()
	if len(rs.Progress) > 0 {
		st.Progress = make(map[uint64]Progress, len(rs.Progress))
		for id, pr := range rs.Progress {
			st.Progress[id] = Progress{Match: pr.Match, Next: pr.Next, State: pr.State.String(),
				RecentActive: pr.RecentActive, IsLearner: pr.IsLearner}
		}
	}
	return st
}
