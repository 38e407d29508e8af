package core

import (
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// The chunked snapshot transfer, leader's side: the hook "this follower
// needs a snapshot". Instead of a MsgSnap the leader offers the snapshot
// (MsgSnapOffer): its metadata, chunk count and size, and the sources the
// follower may fetch it from; the follower fetches the chunks itself.

// offerSnapshot starts a chunked snapshot transfer to a follower. It
// reports whether it offered.
func (r *Raft) offerSnapshot(to uint64, pr *tracker.Progress, snap raftpb.Snapshot) bool {
	m, ok := r.snapshotOffer(to, snap)
	if !ok {
		return false
	}
	pr.BecomeSnapshot(snap.Metadata.Index)
	r.send(&m)
	r.leader.snapshotSent(to, r.ticks)
	return true
}

// reofferSnapshot repeats the offer to a follower still waiting for a
// snapshot, with the leader's latest snapshot and its current sources: an
// offer may have been lost, or the receiver may have run out of sources.
// It repeats it at most once per SnapshotRetryTicks (2*ElectionTick when
// that is negative: nothing else repeats a lost offer), as a whole
// snapshot is resent, not at every heartbeat answer: a transfer under way needs no
// new offer, and each one costs a read of the storage's snapshot. A newer
// snapshot, which the log's compaction past the one pending announces,
// is offered at once: it supersedes the transfer of the older one, which
// the leader may no longer serve.
func (r *Raft) reofferSnapshot(to uint64, pr *tracker.Progress) {
	superseded := r.raftLog.firstIndex() > pr.PendingSnapshot+1
	due := r.retryDue(to, r.settings.offerRetryTicks)
	if !superseded && !due {
		return
	}
	snap, err := r.raftLog.snapshot()
	if err != nil || snap.IsEmpty() || (!due && snap.Metadata.Index <= pr.PendingSnapshot) {
		return
	}
	m, ok := r.snapshotOffer(to, snap)
	if !ok {
		return
	}
	if snap.Metadata.Index > pr.PendingSnapshot {
		pr.BecomeSnapshot(snap.Metadata.Index)
	}
	r.send(&m)
	r.leader.snapshotSent(to, r.ticks)
}

// snapshotOffer builds the MsgSnapOffer of snap for a follower.
func (r *Raft) snapshotOffer(to uint64, snap raftpb.Snapshot) (raftpb.Message, bool) {
	size := r.settings.chunks.size
	bytes := r.snapshotBytes(snap)
	count := max(1, (bytes+size-1)/size)
	if count > MaxSnapshotChunks {
		r.log(LevelError, "cannot offer a snapshot in more than MaxSnapshotChunks chunks: raise SnapshotChunkSize",
			Attr{"bytes", bytes}, Attr{"chunks", count})
		return raftpb.Message{}, false
	}
	return raftpb.SnapshotOffer{
		To: to, Snapshot: snap.Metadata, Chunks: count, Size: size,
		Sources: r.snapshotSources(to, snap.Metadata.Index),
	}.Message(), true
}

// snapshotBytes is the size of snap's data: what the Storage reports
// (SnapshotSizer) when it keeps the data out of memory, else the data
// held.
func (r *Raft) snapshotBytes(snap raftpb.Snapshot) uint64 {
	if sz, ok := r.raftLog.storage.(SnapshotSizer); ok && snap.Data == nil {
		meta, n, err := sz.SnapshotSize()
		if err == nil && meta.Index == snap.Metadata.Index && meta.Term == snap.Metadata.Term {
			return n
		}
	}
	return uint64(len(snap.Data))
}

// snapshotSources lists who can serve the snapshot at index: the leader,
// then, when every member snapshots at the same indexes
// (Config.SnapshotInterval) and index is one of them, the recently active
// followers whose log reaches it, in ID order. A follower that turns out
// not to hold it refuses, and the receiver drops it.
func (r *Raft) snapshotSources(to, index uint64) []uint64 {
	ids := []uint64{r.id}
	if r.settings.chunks.interval == 0 || index%r.settings.chunks.interval != 0 {
		return ids
	}
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		if id != r.id && id != to && pr.RecentActive && pr.Match >= index && len(ids) < raftpb.MaxSnapshotSources {
			ids = append(ids, id)
		}
	})
	return ids
}
