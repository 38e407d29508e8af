package core

import (
	"fmt"

	"github.com/tickraft/raft/tracker"
)

// CheckInvariants checks the whole state of the node and returns the first
// broken invariant. Tests, property runs and the simulator (tools/sim)
// call it, through RawNode.CheckInvariants, after every input they give a
// node; a non-nil answer is a bug in the library. It reads only the node's
// own state, never Storage, and costs O(peers): the sub-states keep what
// it needs (the log its last index, the leader its term's first index).
func (r *Raft) CheckInvariants() error {
	if err := r.raftLog.checkInvariants(); err != nil {
		return fmt.Errorf("invariant: log: %w", err)
	}
	switch {
	case r.state == StateLeader && r.lead != r.id:
		return fmt.Errorf("invariant: leader %d names %d as leader", r.id, r.lead)
	case r.state == StateCandidate && r.vote != r.id:
		return fmt.Errorf("invariant: candidate %d voted for %d", r.id, r.vote)
	}
	if err := r.trk.CheckInvariants(); err != nil {
		return fmt.Errorf("invariant: tracker: %w", err)
	}
	if r.voter != r.trk.Voters.Contains(r.id) {
		return fmt.Errorf("invariant: node %d counts itself a voter: %v, its configuration says otherwise", r.id, r.voter)
	}
	if err := r.checkChunkInvariants(); err != nil {
		return err
	}
	if err := r.checkReadInvariants(); err != nil {
		return err
	}
	if err := r.checkQuiescenceInvariants(); err != nil {
		return err
	}
	if r.state == StateLeader {
		return r.checkLeaderInvariants()
	}
	return r.checkNonLeaderInvariants()
}

// checkReadInvariants: every read queue within MaxPendingReads.
func (r *Raft) checkReadInvariants() error {
	limit := r.settings.maxPendingReads
	switch {
	case r.readOnly.Len() > limit:
		return fmt.Errorf("invariant: %d reads wait on the leader, bound %d", r.readOnly.Len(), limit)
	case r.queuedReads().numLocal() > limit:
		return fmt.Errorf("invariant: %d local reads wait, bound %d", r.queuedReads().numLocal(), limit)
	case r.queuedReads().numForwarded() > limit:
		return fmt.Errorf("invariant: %d forwarded reads wait, bound %d", r.queuedReads().numForwarded(), limit)
	}
	return nil
}

// checkNonLeaderInvariants: only a leader holds leader state: no read
// round, no transfer, no windows of appends, no uncommitted tail.
func (r *Raft) checkNonLeaderInvariants() error {
	switch {
	case r.readOnly.Len() > 0:
		return fmt.Errorf("invariant: %v %d holds %d reads of a leader", r.state, r.id, r.readOnly.Len())
	case r.leader != nil:
		return fmt.Errorf("invariant: %v %d holds a leader's state", r.state, r.id)
	case r.trk.Tracking():
		return fmt.Errorf("invariant: %v %d holds its peers' Progress", r.state, r.id)
	}
	var err error
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		if err == nil && pr.Inflights != nil {
			err = fmt.Errorf("invariant: %v %d holds a window of appends to %d", r.state, r.id, id)
		}
	})
	return err
}

// checkLeaderInvariants: the pending conf change and the transfer's
// target exist, no follower has acknowledged beyond the leader's log,
// every member but the leader has a window (the leader none), and the
// uncommitted tail is counted exactly.
func (r *Raft) checkLeaderInvariants() error {
	var err error
	last := r.raftLog.lastIndex()
	switch {
	case r.leader == nil:
		return fmt.Errorf("invariant: leader %d holds no leader's state", r.id)
	case !r.trk.Tracking():
		return fmt.Errorf("invariant: leader %d holds no Progress of its peers", r.id)
	case r.leader.pendingConfIndex > last:
		return fmt.Errorf("invariant: pending conf change at %d beyond the last index %d", r.leader.pendingConfIndex, last)
	case r.leader.transferee != None && r.trk.Progress(r.leader.transferee) == nil:
		return fmt.Errorf("invariant: transferring leadership to %d, not a member", r.leader.transferee)
	}
	if p := r.settings.windows; p != nil && p.empty.Count() != 0 {
		return fmt.Errorf("invariant: the window the leaders of a GroupCache share holds %d appends", p.empty.Count())
	}
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		switch {
		case err != nil:
		case pr.Match > last:
			err = fmt.Errorf("invariant: %d acknowledged %d beyond the leader's last index %d", id, pr.Match, last)
		case id != r.id && pr.Inflights == nil:
			err = fmt.Errorf("invariant: the leader has no window of appends for %d", id)
		case id == r.id && pr.Inflights != nil:
			err = fmt.Errorf("invariant: the leader %d holds a window of appends to itself", id)
		}
	})
	if err != nil {
		return err
	}
	return r.checkUncommittedTail()
}

// checkUncommittedTail: the leader's uncommitted count is exactly the
// entries of its term not yet handed out to apply, those after both its
// term's start and the applying index, and an empty tail holds no bytes.
// It reads no entry: O(1).
func (r *Raft) checkUncommittedTail() error {
	last, after := r.raftLog.lastIndex(), max(r.leader.termStart-1, r.raftLog.applying)
	n := 0
	if last > after {
		n = int(last - after)
	}
	switch {
	case n != r.leader.uncommitted.entries:
		return fmt.Errorf("invariant: uncommitted tail holds %d entries of term %d after %d, counted %d",
			n, r.term, after, r.leader.uncommitted.entries)
	case n == 0 && r.leader.uncommitted.size != 0:
		return fmt.Errorf("invariant: empty uncommitted tail counted as %d bytes", r.leader.uncommitted.size)
	}
	return nil
}
