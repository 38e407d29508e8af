package core

import (
	"fmt"
	"slices"

	"github.com/tickraft/raft/raftpb"
)

// handleStorageAppendResp is the acknowledgement that entries up to
// (m.LogTerm, m.Index) and the snapshot m.Snapshot (if any) are durable.
// On the leader it counts toward the leader's own match: a leader commits
// only entries a quorum, itself included or not, has persisted.
func (r *Raft) handleStorageAppendResp(m raftpb.Message) error {
	if m.Snapshot != nil {
		r.snapshotDurable(m.Snapshot.Metadata.Index)
		r.maybeEndRecovering(m.Snapshot.Metadata.Term)
	}
	if m.Index != 0 {
		r.raftLog.stableTo(entryID{term: m.LogTerm, index: m.Index})
		if r.recovering && r.raftLog.matchTerm(entryID{term: m.LogTerm, index: m.Index}) {
			r.maybeEndRecovering(m.LogTerm)
		}
	}
	r.noteStorage(true)
	if r.state == StateLeader {
		r.updateOwnMatch()
	}
	return nil
}

// snapshotDurable records that the snapshot at index is durable. In the
// synchronous loop the application applied it in the same Ready, so it is
// applied too. In the asynchronous mode it goes to the apply worker next,
// queued behind the committed entries already there, and counts as
// applied when that worker says so.
func (r *Raft) snapshotDurable(index uint64) {
	snap := r.raftLog.unstable.snapshot
	r.raftLog.stableSnapTo(index)
	if !r.settings.asyncStorage {
		r.raftLog.appliedSnap(index)
		return
	}
	if snap != nil && snap.Metadata.Index == index {
		c := r.coldState()
		if c.snapApply == nil {
			c.snapApply = &snapshotApply{}
		}
		c.snapApply.toApply = snap
	}
}

// snapshotApply is, in the asynchronous mode, what the node knows of the
// snapshots on their way to the apply worker: toApply is a snapshot that
// is durable and waits to be handed to the worker (behind any committed
// entries already queued there); applying is the index of the latest one
// handed out and not yet applied (0: none). Committed entries wait for
// both. Raft holds it by a pointer, nil when both are empty.
type snapshotApply struct {
	toApply  *raftpb.Snapshot
	applying uint64
}

// snapToApply returns the durable snapshot that waits to be handed to the
// apply worker, or nil.
func (r *Raft) snapToApply() *raftpb.Snapshot {
	if r.snapshotsToApply() == nil {
		return nil
	}
	return r.snapshotsToApply().toApply
}

// snapshotHandedOut records that the snapshot waiting was handed to the
// apply worker.
func (r *Raft) snapshotHandedOut() {
	a := r.snapshotsToApply()
	a.toApply, a.applying = nil, a.toApply.Metadata.Index
}

// snapshotApplied records that the apply worker applied the snapshot at
// index; once nothing is on its way, the record is dropped.
func (r *Raft) snapshotApplied(index uint64) {
	a := r.snapshotsToApply()
	if a == nil {
		return
	}
	if index >= a.applying {
		a.applying = 0
	}
	if a.applying == 0 && a.toApply == nil {
		r.cold.snapApply = nil
	}
}

// updateOwnMatch raises the leader's own progress to its last durable
// entry and commits what that makes a quorum.
func (r *Raft) updateOwnMatch() {
	pr := r.trk.Progress(r.id)
	if pr == nil {
		return
	}
	if pr.MaybeUpdate(r.raftLog.stableLastIndex()) {
		r.maybeCommit()
	}
}

// handleStorageApplyResp is the acknowledgement that committed entries up
// to m.Index, totalling m.Commit payload bytes, are applied.
func (r *Raft) handleStorageApplyResp(m raftpb.Message) error {
	if m.Index > r.raftLog.committed {
		return fmt.Errorf("%w: applied %d beyond commit %d", ErrInvalidMessage, m.Index, r.raftLog.committed)
	}
	if m.Snapshot != nil {
		r.snapshotApplied(m.Index)
		r.raftLog.appliedSnap(m.Index)
		return nil
	}
	r.onApplied(m.Index, m.Commit)
	return nil
}

// onApplied records that committed entries up to index, totalling bytes
// of payload, are applied, and acts on it: a joint configuration may now
// be left, and local reads waiting for this index may be released.
func (r *Raft) onApplied(index, bytes uint64) {
	r.raftLog.appliedTo(index, bytes)
	r.maybeAutoLeave()
	if r.queuedReads().numLocal() > 0 {
		r.releaseLocalReads()
	}
}

// appliedSnap records that the snapshot at i is applied: nothing below it
// is to be handed out for applying again.
func (l *raftLog) appliedSnap(i uint64) {
	l.applied = max(l.applied, i)
	l.applying = max(l.applying, i)
	l.applyingEntsPaused = false
}

// stableLastIndex is the last index known to be durable.
func (l *raftLog) stableLastIndex() uint64 {
	if l.unstable.snapshot != nil {
		return 0 // the durable log is being replaced: claim nothing
	}
	return l.unstable.offset - 1
}

// hasUnappliedConfChanges reports whether a committed but unapplied entry
// changes the configuration. A read error counts as yes: it is the safe
// answer to "may I campaign?".
func (r *Raft) hasUnappliedConfChanges() bool {
	found := false
	err := r.raftLog.scan(r.raftLog.applied+1, r.raftLog.committed+1, 1<<20, func(ents []raftpb.Entry) (bool, error) {
		found = slices.ContainsFunc(ents, func(e raftpb.Entry) bool { return e.IsConfChange() })
		return !found, nil
	})
	return found || err != nil
}
