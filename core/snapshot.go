package core

import (
	"errors"
	"fmt"

	"github.com/tickraft/raft/confchange"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// maybeSendSnapshot sends the storage's snapshot to a follower that needs
// entries the log no longer holds, or that holds no configuration
// (errNoConfiguration). A snapshot being made is retried later; any other
// storage error is logged and retried later too.
func (r *Raft) maybeSendSnapshot(to uint64, pr *tracker.Progress, cause error) bool {
	if !isCompactedErr(cause) && cause != errNoConfiguration {
		r.log(LevelError, "cannot read entries a follower needs from storage", peerAttr(to), errAttr(cause))
		return false
	}
	if !pr.RecentActive {
		if r.logs(LevelDebug) {
			r.log(LevelDebug, "not sending a snapshot to a follower not recently active", peerAttr(to))
		}
		return false
	}
	snap, err := r.raftLog.snapshot()
	if err != nil {
		if !errors.Is(err, ErrSnapshotTemporarilyUnavailable) {
			r.log(LevelError, "cannot read the snapshot a follower needs from storage", peerAttr(to), errAttr(err))
		}
		return false
	}
	if snap.IsEmpty() {
		if cause == errNoConfiguration {
			r.log(LevelWarn, "a follower holds no configuration and needs a snapshot, but the storage holds none yet: take one (CreateSnapshot and Compact)", peerAttr(to))
			return false
		}
		r.log(LevelError, "storage compacted entries a follower needs but holds no snapshot", peerAttr(to))
		return false
	}
	if r.settings.chunks.size > 0 {
		return r.offerSnapshot(to, pr, snap)
	}
	pr.BecomeSnapshot(snap.Metadata.Index)
	r.send(&raftpb.Message{To: to, Type: raftpb.MsgSnap, Snapshot: &snap})
	r.leader.snapshotSent(to, r.ticks)
	return true
}

// stillNeedsSnapshot is the hook of a follower still waiting for a
// snapshot that answers a heartbeat: a chunked transfer's offer is
// repeated, a whole snapshot is sent again when it is overdue.
func (r *Raft) stillNeedsSnapshot(to uint64, pr *tracker.Progress) {
	if r.settings.chunks.size > 0 {
		r.reofferSnapshot(to, pr)
		return
	}
	r.maybeResendSnapshot(to, pr)
}

// maybeResendSnapshot sends a whole snapshot again to a follower that
// answers heartbeats but has not acknowledged the snapshot sent to it
// SnapshotRetryTicks ago: the MsgSnap or its answer was lost, and the
// application did not report it (ReportSnapshot). The wait between two
// sends keeps a large snapshot from going back to back.
func (r *Raft) maybeResendSnapshot(to uint64, pr *tracker.Progress) {
	if pr.Match >= pr.PendingSnapshot || !r.snapshotRetryDue(to) {
		return
	}
	r.log(LevelInfo, "sending a snapshot again: the last one was not acknowledged", peerAttr(to),
		Attr{"snap_index", pr.PendingSnapshot})
	r.maybeSendSnapshot(to, pr, ErrCompacted)
}

// snapshotRetryDue reports whether a snapshot (whole, or a chunked
// transfer's offer) may go to a follower again: SnapshotRetryTicks have
// passed since the last one, and resending is on.
func (r *Raft) snapshotRetryDue(to uint64) bool {
	return r.retryDue(to, r.settings.snapshotRetryTicks)
}

// retryDue reports whether a snapshot or an offer sent to follower to is
// as old as every ticks (0: never).
func (r *Raft) retryDue(to, every uint64) bool {
	if every == 0 {
		return false
	}
	sent, ok := r.leader.snapSentAt[to]
	return !ok || r.ticks-sent >= every
}

// handleSnapshot is the follower's side of InstallSnapshot (§7). A
// snapshot this node is already installing (handed out to be written, not
// yet durable) is ignored: the answer goes once it is durable.
func (r *Raft) handleSnapshot(m raftpb.Message) error {
	if u := r.raftLog.unstable.snapshot; u != nil && u.Metadata.Index == m.Snapshot.Metadata.Index &&
		u.Metadata.Term == m.Snapshot.Metadata.Term {
		if r.logs(LevelDebug) {
			r.log(LevelDebug, "ignored the snapshot being installed", peerAttr(m.From), Attr{"snap_index", u.Metadata.Index})
		}
		return nil
	}
	r.installSnapshot(m.From, *m.Snapshot)
	return nil
}

// installSnapshot restores s, whether it came whole or in chunks, and
// tells the leader where this node's log now ends: past the snapshot if
// it was installed, at the commit index otherwise.
func (r *Raft) installSnapshot(leader uint64, s raftpb.Snapshot) {
	index := r.raftLog.committed
	if r.restore(s) {
		index = r.raftLog.lastIndex()
	}
	r.send(&raftpb.Message{To: leader, Type: raftpb.MsgAppResp, Index: index})
}

// logCovers reports whether the log already holds the snapshot meta
// describes: its index is committed, or the log holds its last entry,
// which is then committed (Log Matching, §5.3). Either way there is
// nothing to install.
func (r *Raft) logCovers(meta raftpb.SnapshotMetadata) bool {
	if meta.Index <= r.raftLog.committed {
		return true
	}
	id := entryID{term: meta.Term, index: meta.Index}
	if !r.raftLog.matchTerm(id) {
		return false
	}
	r.raftLog.commitTo(id.index)
	return true
}

// restore installs a snapshot newer than the commit index, and reports
// whether it did. A snapshot whose last entry the log already holds only
// moves the commit index (the log after it is kept, §7).
func (r *Raft) restore(s raftpb.Snapshot) bool {
	if r.logCovers(s.Metadata) {
		return false
	}
	if r.state != StateFollower {
		panic("invariant: only a follower installs a snapshot")
	}
	cfg, prs, err := restoredConfig(r.settings, s.Metadata.ConfState, s.Metadata.Index)
	if err != nil {
		panic("invariant: a snapshot's configuration was validated: " + err.Error())
	}
	// The snapshot replaces every entry past the commit index: an
	// acknowledgement still queued for such an entry would claim one this
	// node will never write (see dropAcksFrom).
	r.dropAcksFrom(r.raftLog.committed + 1)
	r.raftLog.restore(s)
	r.switchToConfig(cfg, prs)
	r.log(LevelInfo, "restored a snapshot", Attr{"snap_term", s.Metadata.Term}, Attr{"snap_index", s.Metadata.Index})
	return true
}

// anyWindowBounds are the settings restoredConfig is given to validate a
// configuration: the windows' bounds do not decide whether one is valid.
// It is only read.
var anyWindowBounds = settings{maxInflight: 1}

// restoredConfig builds, without changing anything, the configuration and
// progress of a ConfState on a fresh tracker, the windows of its members
// bounded as s says.
func restoredConfig(s *settings, cs raftpb.ConfState, lastIndex uint64) (tracker.Config, tracker.ProgressMap, error) {
	return confchange.Restore(confchange.Changer{Tracker: tracker.MakeProgressTracker(), LastIndex: lastIndex,
		MaxInflight: s.maxInflight, MaxInflightBytes: s.maxInflightBytes}, cs)
}

// handleSnapStatus is the report that a snapshot send finished (or
// failed): probe again, after the next heartbeat answer.
func (r *Raft) handleSnapStatus(m raftpb.Message, pr *tracker.Progress) {
	if pr.State != tracker.StateSnapshot {
		return
	}
	if m.Reject {
		pr.PendingSnapshot = 0
	}
	pr.BecomeProbe()
	// Wait for a heartbeat answer before probing: the snapshot may still
	// be in transit or in the follower's hands.
	pr.MsgAppFlowPaused = true
}

// validateSnapshot rejects a snapshot whose metadata cannot be right.
func validateSnapshot(trk tracker.ProgressTracker, m raftpb.Message) error {
	s := m.Snapshot
	switch {
	case s == nil:
		return fmt.Errorf("%w: MsgSnap without a snapshot", ErrInvalidMessage)
	case s.Metadata.Index == 0 || s.Metadata.Term == 0:
		return fmt.Errorf("%w: snapshot at %d/%d", ErrInvalidMessage, s.Metadata.Term, s.Metadata.Index)
	case s.Metadata.Term > m.Term:
		return fmt.Errorf("%w: snapshot term %d beyond message term %d", ErrInvalidMessage, s.Metadata.Term, m.Term)
	case len(s.Metadata.ConfState.Voters) == 0:
		return fmt.Errorf("%w: snapshot configuration has no voters", ErrInvalidMessage)
	}
	if _, _, err := restoredConfig(&anyWindowBounds, s.Metadata.ConfState, s.Metadata.Index); err != nil {
		return fmt.Errorf("%w: snapshot configuration: %w", ErrInvalidMessage, err)
	}
	return nil
}
