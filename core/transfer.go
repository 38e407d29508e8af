package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// TransferLeader asks the leader to hand leadership to transferee (thesis
// §3.10). On a follower the request is forwarded to the leader. It is
// refused with an error for this node itself, a learner, or a node that
// is not a member. While a transfer runs the leader refuses proposals; the
// transfer is abandoned after an election timeout, or when the target is
// removed or reported unreachable.
func (r *Raft) TransferLeader(transferee uint64) error {
	r.wake(true)
	return r.step(&raftpb.Message{Type: raftpb.MsgTransferLeader, From: transferee})
}

// handleTransferLeader starts a transfer on the leader: bring the target
// up to date, then tell it to campaign at once.
func (r *Raft) handleTransferLeader(m raftpb.Message) error {
	target := m.From
	pr := r.trk.Progress(target)
	switch {
	case target == r.id:
		return fmt.Errorf("%w: %d is already the leader", ErrTransferRefused, target)
	case pr == nil:
		return fmt.Errorf("%w: %d is not a member", ErrTransferRefused, target)
	case pr.IsLearner:
		return fmt.Errorf("%w: %d is a learner", ErrTransferRefused, target)
	case r.leader.transferee == target:
		return nil // already under way
	}
	if r.leader.transferee != None {
		r.log(LevelInfo, "abandoned a leadership transfer for another", peerAttr(r.leader.transferee), Attr{"target", target})
	}
	r.leader.startTransfer(target)
	// The transfer must finish within an election timeout (thesis §3.10).
	r.clock.restartElection()
	if pr.Match < r.raftLog.lastIndex() && pr.State == tracker.StateReplicate {
		// Find out at once whether appends to the target were lost.
		r.sendWindowProbe(target, pr)
	}
	r.maybeFinishTransfer(target, pr)
	return nil
}

// maybeFinishTransfer tells the transferee to campaign once its log is as
// up to date as the leader's; until then it keeps sending it entries.
func (r *Raft) maybeFinishTransfer(id uint64, pr *tracker.Progress) {
	if id != r.leader.transferee {
		return
	}
	if pr.Match == r.raftLog.lastIndex() {
		// The target must learn the commit index first: a committed but
		// unapplied conf change keeps a node from campaigning.
		r.sendAppends(id, pr)
		r.send(&raftpb.Message{To: id, Type: raftpb.MsgTimeoutNow})
		r.leader.revokeLease()
		return
	}
	r.appendsPending = true
}

// abortLeaderTransfer abandons a transfer in progress.
func (r *Raft) abortLeaderTransfer(why string) {
	if r.transferee() == None {
		return
	}
	r.log(LevelInfo, "abandoned a leadership transfer", peerAttr(r.leader.transferee), Attr{"why", why})
	r.leader.endTransfer()
}

// forwardTransferLeader forwards a transfer request to the leader.
func (r *Raft) forwardTransferLeader(m raftpb.Message) error {
	if r.lead == None {
		return fmt.Errorf("%w: %w at term %d", ErrTransferRefused, ErrNoLeader, r.term)
	}
	if m.From == r.id && r.state == StateFollower {
		// A transfer to this follower: ask the leader for it.
		r.send(&raftpb.Message{To: r.lead, Type: raftpb.MsgTransferLeader})
		return nil
	}
	return fmt.Errorf("%w: only the leader (%d) transfers leadership", ErrNotLeader, r.lead)
}
