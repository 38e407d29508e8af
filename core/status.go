package core

import (
	"github.com/tickraft/raft/tracker"
)

// Status is a full view of a node: its basic status, and on the leader the
// configuration and a copy of each peer's progress.
type Status struct {
	BasicStatus
	Config   tracker.Config
	Progress map[uint64]tracker.Progress
	// Use of each bound, so an application can watch them (each follower's
	// inflight messages and bytes are in its Progress.Inflights).
	// UncommittedBytes and UncommittedEntries: the leader's tail of entries
	// appended and not yet handed out to apply (MaxUncommittedEntriesSize,
	// MaxUncommittedEntries); an entry leaves it when a Ready hands it out
	// as committed, so a slow apply keeps it full (a conservative bound).
	UncommittedBytes   uint64
	UncommittedEntries int
	// ApplyingBytes: committed payload handed out to apply and not yet
	// applied (MaxCommittedSizePerReady).
	ApplyingBytes uint64
	// PendingReads: reads waiting on the leader; LocalReads: local reads
	// waiting for the applied index; ForwardedReads: reads this node sent
	// on to the leader, waiting for its answer (MaxPendingReads each).
	PendingReads   int
	LocalReads     int
	ForwardedReads int
	// Fetch is this node's chunked snapshot transfer in progress, as a
	// receiver; nil when there is none.
	Fetch *SnapshotFetch
}

// SnapshotFetch is the progress of a chunked snapshot transfer
// (Config.SnapshotChunkSize) on its receiver.
type SnapshotFetch struct {
	// Index and Term name the snapshot being fetched.
	Index, Term uint64
	// Chunks is the number of chunks; Saved how many are durable; Inflight
	// how many are asked for or being saved.
	Chunks, Saved uint64
	Inflight      int
	// Sources are the members that may still serve chunks, in the order
	// the leader named them.
	Sources []uint64
}

// Status returns a copy of the node's state; it allocates, unlike
// BasicStatus.
func (r *Raft) Status() Status {
	s := Status{BasicStatus: r.BasicStatus(), Config: r.trk.Config.Clone(),
		ApplyingBytes: r.raftLog.applyingEntsSize, PendingReads: r.readOnly.Len(), LocalReads: r.queuedReads().numLocal(),
		ForwardedReads: r.queuedReads().numForwarded()}
	if r.chunkFetch() != nil {
		s.Fetch = r.chunkFetch().status()
	}
	if r.state != StateLeader {
		return s
	}
	s.UncommittedBytes = r.leader.uncommitted.size
	s.UncommittedEntries = r.leader.uncommitted.entries
	s.Progress = make(map[uint64]tracker.Progress, r.trk.Len())
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		p := *pr
		p.Inflights = pr.Inflights.Clone()
		s.Progress[id] = p
	})
	return s
}
