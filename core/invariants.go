package core

import (
	"fmt"

	"github.com/tickraft/raft/tracker"
)

// CheckInvariants checks the whole state of the node and returns the first
// broken invariant. Tests, property runs and the simulator call it after
// every input; a non-nil answer is a bug in the library.
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
	if r.state == StateLeader {
		return r.checkLeaderInvariants()
	}
	return nil
}

// checkLeaderInvariants: no follower has acknowledged beyond the leader's
// log, and the uncommitted-size accounting stays within its bound.
func (r *Raft) checkLeaderInvariants() error {
	var err error
	last := r.raftLog.lastIndex()
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		if err == nil && pr.Match > last {
			err = fmt.Errorf("invariant: %d acknowledged %d beyond the leader's last index %d", id, pr.Match, last)
		}
	})
	return err
}
