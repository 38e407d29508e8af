package kvnode

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// This file holds the node's metrics and GET /metrics. Counters are
// atomics, updated where the event happens (the loop, the disk worker, the
// WAL's fsync); the Raft state the loop owns is copied by the loop into a
// loopGauges value it publishes through an atomic pointer at every tick
// and role change, so the HTTP handler reads it without touching the
// loop's state and without waiting for the loop.

// refusalReasons names the library's typed errors as the reason label of
// a refused proposal or read. A refusal by the server itself, before it
// asks the library (a write on a follower), uses the library's error for
// the same cause.
var refusalReasons = []struct {
	err    error
	reason string
}{
	{raft.ErrNotLeader, "not_leader"},
	{raft.ErrNoLeader, "no_leader"},
	{raft.ErrProposalDropped, "proposal_dropped"},
	{raft.ErrUncommittedTailFull, "uncommitted_tail_full"},
	{raft.ErrPendingConfChange, "pending_conf_change"},
	{raft.ErrTransferInProgress, "transfer_in_progress"},
	{raft.ErrInvalidConfChange, "invalid_conf_change"},
	{raft.ErrUnknownTransition, "unknown_transition"},
	{raft.ErrTooManyPendingReads, "too_many_pending_reads"},
	{raft.ErrReadAborted, "read_aborted"},
	{raft.ErrReadLagging, "read_lagging"},
	{raft.ErrRecovering, "recovering"},
	{raft.ErrStorageStalled, "storage_stalled"},
}

// Reasons the library has no error for.
const (
	// reasonOverwritten: a proposal a new leader overwrote before it
	// committed.
	reasonOverwritten = "overwritten"
	reasonOther       = "other"
)

// reasonOf returns the reason label of a refusal.
func reasonOf(err error) string {
	for _, r := range refusalReasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return reasonOther
}

// counterVec is a set of counters by one label value, all known in
// advance so that every one is exposed, at zero, from the start.
type counterVec struct {
	names []string
	vals  []atomic.Uint64
}

func newRefusalCounters() *counterVec {
	v := &counterVec{}
	for _, r := range refusalReasons {
		v.names = append(v.names, r.reason)
	}
	v.names = append(v.names, reasonOverwritten, reasonOther)
	v.vals = make([]atomic.Uint64, len(v.names))
	return v
}

// inc adds one to the counter of name (reasonOther's if name is unknown).
func (v *counterVec) inc(name string) {
	i := slices.Index(v.names, name)
	if i < 0 {
		i = slices.Index(v.names, reasonOther)
	}
	v.vals[i].Add(1)
}

// metrics are a node's counters, histograms and published gauges.
type metrics struct {
	proposalsRefused, readsRefused *counterVec
	leaderChanges                  atomic.Uint64
	readyLatency, fsyncLatency     *histogram
	snapshotsSent                  atomic.Uint64 // MsgSnap sent to followers
	chunksServed, chunksSaved      atomic.Uint64
	installs                       atomic.Uint64
	messagesRefused                atomic.Uint64 // peer messages Step refused
	gauges                         atomic.Pointer[loopGauges]

	// lastLead is the leader the loop last saw; only the loop touches it.
	lastLead uint64
	// startCommit is the first commit index the loop saw once a leader
	// was known since start; only the loop touches it (it publishes it).
	startCommit uint64
	sawLeader   bool
}

func newMetrics() *metrics {
	return &metrics{
		proposalsRefused: newRefusalCounters(), readsRefused: newRefusalCounters(),
		readyLatency: newHistogram(latencyBounds), fsyncLatency: newHistogram(latencyBounds),
	}
}

// loopGauges are the loop's state as of its last publication.
type loopGauges struct {
	Term, Commit, Applied, Lead uint64
	State                       raft.StateType
	// StartCommit is the commit index first seen with a known leader
	// (valid when SawLeader).
	StartCommit uint64
	SawLeader   bool
	// The library's bounds in use (raft.Status).
	UncommittedBytes   uint64
	UncommittedEntries int
	ApplyingBytes      uint64
	PendingReads       int
	LocalReads         int
	ForwardedReads     int
	InflightBytes      map[uint64]uint64 // by follower, on the leader
	InflightMsgs       map[uint64]int
}

// publishMetrics copies the loop's state for the HTTP handlers; the loop
// calls it.
func (n *Node) publishMetrics() {
	rs := n.rn.Status()
	m := n.metrics
	if rs.Lead != raft.None && !m.sawLeader {
		m.sawLeader, m.startCommit = true, rs.Commit
	}
	g := &loopGauges{
		Term: rs.Term, Commit: rs.Commit, Applied: n.applied, Lead: rs.Lead, State: rs.RaftState,
		StartCommit: m.startCommit, SawLeader: m.sawLeader,
		UncommittedBytes: rs.UncommittedBytes, UncommittedEntries: rs.UncommittedEntries,
		ApplyingBytes: rs.ApplyingBytes, PendingReads: rs.PendingReads, LocalReads: rs.LocalReads,
		ForwardedReads: rs.ForwardedReads,
	}
	if len(rs.Progress) > 0 {
		g.InflightBytes = make(map[uint64]uint64, len(rs.Progress))
		g.InflightMsgs = make(map[uint64]int, len(rs.Progress))
		for id, pr := range rs.Progress {
			if id == rs.ID || pr.Inflights == nil {
				continue
			}
			g.InflightBytes[id] = pr.Inflights.Bytes()
			g.InflightMsgs[id] = pr.Inflights.Count()
		}
	}
	m.gauges.Store(g)
}

// noteLeader counts a change to a new known leader; the loop calls it on
// every soft state.
func (n *Node) noteLeader(lead uint64) {
	m := n.metrics
	if lead != raft.None && lead != m.lastLead {
		if m.lastLead != raft.None { // the first leader seen is no change
			m.leaderChanges.Add(1)
		}
		m.lastLead = lead
	}
	n.publishMetrics()
}

// countSent counts the snapshots among messages sent to peers.
func (m *metrics) countSent(msgs []raftpb.Message) {
	for i := range msgs {
		if msgs[i].Type == raftpb.MsgSnap {
			m.snapshotsSent.Add(1)
		}
	}
}

// handleMetrics answers GET /metrics without waiting for the loop.
func (n *Node) handleMetrics(w http.ResponseWriter, req *http.Request) {
	var pw promWriter
	n.writeRaftMetrics(&pw)
	n.writeIOMetrics(&pw)
	w.Header().Set("Content-Type", promContentType)
	w.Write(pw.b.Bytes())
}

// writeRaftMetrics writes the Raft state, refusals, bounds and the Ready
// loop's latency.
func (n *Node) writeRaftMetrics(pw *promWriter) {
	m := n.metrics
	g := m.gauges.Load()
	if g == nil {
		g = &loopGauges{}
	}
	pw.single("kvexample_raft_term", "gauge", "The node's current term.", float64(g.Term))
	pw.single("kvexample_raft_commit_index", "gauge", "The highest log index known committed.", float64(g.Commit))
	pw.single("kvexample_raft_applied_index", "gauge", "The highest log index applied to the state machine.", float64(g.Applied))
	pw.single("kvexample_raft_leader_id", "gauge", "The ID of the leader this node knows of (0: none).", float64(g.Lead))
	pw.family("kvexample_raft_state", "gauge", "1 for the node's role, 0 for the others.")
	for _, st := range []raft.StateType{raft.StateFollower, raft.StatePreCandidate, raft.StateCandidate, raft.StateLeader} {
		pw.sample("kvexample_raft_state", b2f(g.State == st), label{"state", st.String()})
	}
	pw.single("kvexample_raft_leader_changes_total", "counter", "Changes of the known leader to another node since start (the first leader seen after start excluded).", float64(m.leaderChanges.Load()))
	writeRefusals(pw, "kvexample_proposals_refused_total", "Writes refused or overwritten, by the library's reason.", m.proposalsRefused)
	writeRefusals(pw, "kvexample_reads_refused_total", "Reads refused or aborted, by the library's reason.", m.readsRefused)
	pw.single("kvexample_raft_uncommitted_bytes", "gauge", "The leader's uncommitted tail in payload bytes (MaxUncommittedEntriesSize).", float64(g.UncommittedBytes))
	pw.single("kvexample_raft_uncommitted_entries", "gauge", "The leader's uncommitted tail in entries (MaxUncommittedEntries).", float64(g.UncommittedEntries))
	pw.single("kvexample_raft_applying_bytes", "gauge", "Committed payload handed out to apply and not yet applied.", float64(g.ApplyingBytes))
	pw.single("kvexample_raft_pending_reads", "gauge", "Reads waiting on the leader (MaxPendingReads).", float64(g.PendingReads))
	pw.single("kvexample_raft_local_reads", "gauge", "Local reads waiting for the applied index.", float64(g.LocalReads))
	pw.single("kvexample_raft_forwarded_reads", "gauge", "Reads sent on to the leader, waiting for its answer.", float64(g.ForwardedReads))
	writeByPeer(pw, "kvexample_raft_inflight_bytes", "gauge", "Bytes of appends in flight to each follower, on the leader (MaxInflightBytes).", g.InflightBytes)
	writeByPeer(pw, "kvexample_raft_inflight_messages", "gauge", "Appends in flight to each follower, on the leader (MaxInflightMsgs).", g.InflightMsgs)
	pw.histogram("kvexample_ready_duration_seconds", "Time to handle one Ready in the event loop.", m.readyLatency)
}

// writeIOMetrics writes the disk, snapshot and transport metrics.
func (n *Node) writeIOMetrics(pw *promWriter) {
	m := n.metrics
	pw.histogram("kvexample_wal_fsync_duration_seconds", "Time of each fsync of the write-ahead log.", m.fsyncLatency)
	pw.single("kvexample_wal_writes_total", "counter", "Writes of Readys saved to the write-ahead log (several may share one fsync).", float64(n.disk.writes.Load()))
	u := n.disk.wal.Usage()
	pw.single("kvexample_wal_bytes", "gauge", "Bytes of the write-ahead log's segments on disk.", float64(u.Bytes))
	pw.single("kvexample_wal_segments", "gauge", "Segment files of the write-ahead log.", float64(u.Segments))
	pw.single("kvexample_raft_messages_refused_total", "counter", "Peer messages the node refused with a typed error (nothing changed).", float64(m.messagesRefused.Load()))
	pw.single("kvexample_snapshots_sent_total", "counter", "Snapshot messages sent to followers (each starts a transfer).", float64(m.snapshotsSent.Load()))
	pw.single("kvexample_snapshots_installed_total", "counter", "Snapshots received from the leader and installed.", float64(m.installs.Load()))
	pw.single("kvexample_snapshot_chunks_served_total", "counter", "Snapshot chunks served to fetching members.", float64(m.chunksServed.Load()))
	pw.single("kvexample_snapshot_chunks_saved_total", "counter", "Snapshot chunks received and saved.", float64(m.chunksSaved.Load()))
	ps := n.tr.PeerStats()
	ids := make([]uint64, 0, len(ps))
	for id := range ps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, f := range transportFamilies {
		pw.family(f.name, "counter", f.help)
		for _, id := range ids {
			pw.sample(f.name, float64(f.get(ps[id])), label{"peer", strconv.FormatUint(id, 10)})
		}
	}
}

// writeRefusals writes a counter family by reason.
func writeRefusals(pw *promWriter, name, help string, v *counterVec) {
	pw.family(name, "counter", help)
	for i, r := range v.names {
		pw.sample(name, float64(v.vals[i].Load()), label{"reason", r})
	}
}

// writeByPeer writes a gauge family by peer ID, in ID order.
func writeByPeer[V uint64 | int](pw *promWriter, name, typ, help string, vals map[uint64]V) {
	pw.family(name, typ, help)
	ids := make([]uint64, 0, len(vals))
	for id := range vals {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		pw.sample(name, float64(vals[id]), label{"peer", strconv.FormatUint(id, 10)})
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// refuseProposal answers a write the server refuses before proposing it
// (this node does not lead) and counts it under the library's reason for
// the same cause.
func (n *Node) refuseProposal(r *request, e *Error) {
	reason := reasonOf(raft.ErrNotLeader)
	if e.LeaderID == raft.None {
		reason = reasonOf(raft.ErrNoLeader)
	}
	n.metrics.proposalsRefused.inc(reason)
	r.fail(e)
}
