package core

import "github.com/tickraft/raft/tracker"

// A leader that applies its own removal (or demotion to learner) steps
// down, but not at once: configurations take effect when applied, so the
// voters of the new configuration may not yet know that the change is
// committed. They would keep counting the old leader in their quorum, and
// it, with the longest log, would neither vote for them nor campaign: no
// leader could ever be elected. So the removed leader goes on replicating
// and heartbeating, refusing proposals, until a quorum of the new
// configuration reports (in the Commit of its responses) a commit index
// that covers the change, or an election timeout passes; then it steps
// down. The new voters then apply the change and elect among themselves.

// beginStepDown starts the hand-over of a leader that applied its removal.
func (r *Raft) beginStepDown() {
	r.stepDownIndex = r.raftLog.committed
	r.stepDownDeadline = r.leaderTick + uint64(r.electionTimeout)
	r.stepDownInformed = map[uint64]bool{}
	r.appendsPending = true
	r.bcastHeartbeat()
	r.logger.Infof("%x is removed from the configuration; stepping down once a quorum has commit %d", r.id, r.stepDownIndex)
}

// noteFollowerCommit records a follower's reported commit index while the
// leader hands over, and steps down once a quorum of the new configuration
// knows the change is committed.
func (r *Raft) noteFollowerCommit(from, commit uint64) {
	if r.stepDownIndex == 0 || commit < r.stepDownIndex {
		return
	}
	r.stepDownInformed[from] = true
	if r.trk.Voters.VoteResult(r.stepDownInformed) == tracker.VoteWon {
		r.becomeFollower(r.term, None)
	}
}

// stepDownTimedOut steps down a handing-over leader whose deadline passed.
func (r *Raft) stepDownTimedOut() bool {
	if r.stepDownIndex == 0 || r.leaderTick < r.stepDownDeadline {
		return false
	}
	r.becomeFollower(r.term, None)
	return true
}
