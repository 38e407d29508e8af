package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// campaignTransfer is the context of a MsgVote sent because the leader
// asked this node to take over (leadership transfer): voters grant it even
// while they still hear from the old leader.
const campaignTransfer = "CampaignTransfer"

// Tick advances the node's logical clock by one tick: TickN(1).
func (r *Raft) Tick() { r.TickN(1) }

// TickN advances the node's logical clock by n ticks at once, with the
// timer effect of n calls to Tick and the same cost whatever n is: at most
// one heartbeat broadcast, one CheckQuorum decision and one campaign. A
// tick is a unit of the application's monotonic clock, and every tick
// that has elapsed must reach the node before any other input is stepped:
// a process that was paused calls TickN with the ticks it missed before it
// steps the messages that waited meanwhile, so that a lease or a timer is
// never judged on a stale clock. n <= 0 does nothing.
func (r *Raft) TickN(n int) {
	if n <= 0 {
		return
	}
	r.ticks += uint64(n)
	r.out.onTick(n, r.settings.electionTimeout)
	r.raftLog.unstable.arraysOnTick(n, r.settings.electionTimeout)
	r.ready.dropSpareSelf()
	if r.quiesce.asleep {
		r.tickQuiesced(n)
		return
	}
	if r.queuedReads().numLocal() > 0 {
		r.releaseLocalReads()
	}
	if r.queuedReads().numForwarded() > 0 {
		r.expireForwardedReads()
	}
	if r.chunkFetch() != nil {
		r.tickChunks()
	}
	if r.state == StateLeader {
		r.leaderTick += uint64(n)
		r.tickHeartbeat(n)
		if r.state == StateLeader {
			r.checkStorageStall()
		}
		return
	}
	r.tickElection(n)
}

// tickElection is the follower's and candidate's clock: campaign when the
// randomized election timeout passes with no word from a leader (§5.2).
func (r *Raft) tickElection(n int) {
	r.clock.advanceElection(n)
	if r.clock.pastElectionTimeout() && r.promotable() {
		r.clock.restartElection()
		r.hup(false)
	}
}

// tickHeartbeat is the leader's clock: heartbeats every heartbeatTimeout,
// and a quorum check every electionTimeout.
func (r *Raft) tickHeartbeat(n int) {
	r.clock.advanceElection(n)
	r.leader.heartbeat.advance(n)
	if r.clock.electionTimeoutPassed(r.settings.electionTimeout) {
		r.clock.restartElection()
		r.abortLeaderTransfer("it did not finish within an election timeout")
		if r.settings.checkQuorum {
			if n >= r.settings.electionTimeout {
				// Whatever was heard came before these n ticks: longer
				// ago than an election timeout.
				r.forgetRecentActivity()
			}
			r.checkQuorumActive()
		}
		if r.state != StateLeader {
			return
		}
	}
	if r.leader.heartbeat.due(r.settings.heartbeatTimeout) {
		r.leader.heartbeat.restart()
		if !r.proposeQuiescence() {
			r.bcastHeartbeat()
		}
	}
}

// checkQuorumActive steps the leader down when a quorum has not been heard
// from within the last election timeout, so that a partitioned leader stops
// claiming leadership (thesis §6.2).
func (r *Raft) checkQuorumActive() {
	if pr := r.trk.Progress(r.id); pr != nil {
		pr.RecentActive = true
	}
	if !r.trk.QuorumActive() {
		r.log(LevelWarn, "stepped down: no quorum heard from within an election timeout")
		r.becomeFollower(r.term, None)
	}
	r.forgetRecentActivity()
}

// forgetRecentActivity starts a new CheckQuorum window: no follower has
// been heard from in it yet.
func (r *Raft) forgetRecentActivity() {
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		if id != r.id {
			pr.RecentActive = false
		}
	})
}

// Campaign starts an election (with a pre-vote first unless disabled).
// Under LeaseReads a follower inside a lease it may have granted refuses
// with ErrLeasePromised.
func (r *Raft) Campaign() error {
	r.wake(false)
	if err := r.checkLeasePromise(); err != nil {
		return err
	}
	return r.hup(false)
}

// checkLeasePromise refuses, under LeaseReads, what would let this node
// vote for or as another candidate while a lease it may have helped grant
// runs: it heard from its leader within the election timeout, or
// restarted within one.
func (r *Raft) checkLeasePromise() error {
	if !r.settings.leaseReads || r.state != StateFollower {
		return nil
	}
	if (r.lead != None && r.clock.elapsed() < r.settings.electionTimeout) || r.restartQuiet() {
		return fmt.Errorf("%w: leader %d heard from %d ticks ago, election timeout %d", ErrLeasePromised,
			r.lead, r.clock.elapsed(), r.settings.electionTimeout)
	}
	return nil
}

// hup starts an election if the node may stand. transfer marks an election
// the old leader asked for.
func (r *Raft) hup(transfer bool) error {
	if r.state == StateLeader {
		return nil
	}
	if err := r.canCampaign(); err != nil {
		r.log(LevelWarn, "cannot campaign", errAttr(err))
		return err
	}
	if r.settings.preVote && !transfer {
		r.campaign(raftpb.MsgPreVote, false)
	} else {
		r.campaign(raftpb.MsgVote, transfer)
	}
	return nil
}

// canCampaign refuses an election to learners, non-members, and nodes that
// have committed but unapplied conf changes (they might not be voters).
func (r *Raft) canCampaign() error {
	if err := r.standingError(); err != nil {
		return err
	}
	if err := r.storageStallError(); err != nil {
		return err
	}
	if r.raftLog.applied < r.raftLog.committed && r.hasUnappliedConfChanges() {
		return ErrPendingConfChange
	}
	return nil
}

// standingError is the cheap part of canCampaign: a learner, a non-member
// or a node with a snapshot to apply (its configuration is about to
// change) may not stand.
func (r *Raft) standingError() error {
	switch {
	case r.recovering:
		return ErrRecovering
	case !r.voter && !r.trk.IsMember(r.id):
		return ErrNotAMember
	case !r.voter:
		return ErrLearnerCannotCampaign
	case r.raftLog.hasNextOrInProgressSnapshot():
		return ErrPendingConfChange
	}
	return nil
}

// campaign asks every voter for a vote of type t (MsgPreVote or MsgVote).
// The node's own vote counts only once it is durable.
func (r *Raft) campaign(t raftpb.MessageType, transfer bool) {
	var term uint64
	if t == raftpb.MsgPreVote {
		r.becomePreCandidate()
		term = r.term + 1 // a pre-vote asks for the next term without taking it
	} else {
		r.becomeCandidate()
		term = r.term
	}
	var ctx []byte
	if transfer {
		ctx = []byte(campaignTransfer)
	}
	last := r.raftLog.lastEntryID()
	for _, id := range r.trk.Voters.IDs() {
		if id == r.id {
			// The self-vote goes through storage like any other vote, so
			// that it counts only once durable.
			r.send(&raftpb.Message{To: r.id, Term: term, Type: raftpb.VoteRespType(t)})
			continue
		}
		r.send(&raftpb.Message{To: id, Term: term, Type: t, Index: last.index, LogTerm: last.term, Context: ctx})
	}
}

// poll records a vote and acts on the tally: win, lose or wait.
func (r *Raft) poll(from uint64, granted bool) {
	r.trk.RecordVote(from, granted)
	_, _, res := r.trk.TallyVotes()
	switch res {
	case tracker.VoteWon:
		if r.state == StatePreCandidate {
			r.campaign(raftpb.MsgVote, false)
			return
		}
		r.becomeLeader()
	case tracker.VoteLost:
		// §5.2: a candidate that loses returns to follower in its term.
		r.becomeFollower(r.term, None)
	}
}

// handleVoteRequest answers a MsgVote or MsgPreVote whose term is not stale.
func (r *Raft) handleVoteRequest(m raftpb.Message) {
	if r.grantVote(m) {
		r.send(&raftpb.Message{To: m.From, Term: m.Term, Type: raftpb.VoteRespType(m.Type)})
		if m.Type == raftpb.MsgVote {
			// One vote per term, persisted before the response leaves.
			r.clock.restartElection()
			r.vote = m.From
		}
		return
	}
	// A rejection carries our term; a node that never left term 0 rejects
	// in the candidate's term, which counts as a "no" there.
	term := r.term
	if term == 0 {
		term = m.Term
	}
	// The rejection carries our commit index and its entry's term, so that
	// a candidate that holds that entry learns it is committed (see
	// learnCommitFromRejection).
	commitTerm, _ := r.raftLog.term(r.raftLog.committed)
	r.send(&raftpb.Message{To: m.From, Term: term, Type: raftpb.VoteRespType(m.Type), Reject: true,
		Index: r.raftLog.committed, LogTerm: commitTerm})
}

// learnCommitFromRejection adopts the commit index a voter reported in its
// rejection when this node holds the same entry (same index and term): by
// Log Matching the logs agree up to it, and the voter knows it committed.
// Only leaders otherwise spread the commit index; without this, a group
// whose old leader stepped down could be left with voters that never learn
// that a conf change is committed, never apply it, and so keep needing a
// vote that the old leader (a learner now, with a longer log) refuses.
func (r *Raft) learnCommitFromRejection(m raftpb.Message) {
	if !m.Reject || m.Index <= r.raftLog.committed || m.Index > r.raftLog.lastIndex() {
		return
	}
	if r.raftLog.matchTerm(entryID{term: m.LogTerm, index: m.Index}) {
		r.raftLog.commitTo(m.Index)
	}
}

// grantVote is the vote rule: this node has not voted for another in this
// term (a pre-vote for a later term does not count as a vote), and the
// candidate's log is at least as up to date as ours (§5.4.1).
func (r *Raft) grantVote(m raftpb.Message) bool {
	if r.recovering {
		return false // it may have acknowledged entries it lost
	}
	canVote := r.vote == m.From ||
		(r.vote == None && r.lead == None) ||
		(m.Type == raftpb.MsgPreVote && m.Term > r.term)
	return canVote && r.raftLog.isUpToDate(entryID{term: m.LogTerm, index: m.Index})
}

// inLease reports whether this node heard from a live leader within the
// election timeout: then it refuses to be disrupted by vote requests
// (leader stickiness, thesis §4.2.3).
func (r *Raft) inLease(m raftpb.Message) bool {
	force := string(m.Context) == campaignTransfer
	if !r.settings.checkQuorum || force {
		return false
	}
	return (r.lead != None && r.clock.elapsed() < r.settings.electionTimeout) || r.restartQuiet()
}

// restartQuiet reports whether a node that restarted under LeaseReads is
// still within its first election timeout: before the crash it may have
// answered the heartbeat round that anchors a leader's lease, and it
// forgot that leader, so it must not help elect another before the lease
// has run out (found by the simulator: a stale lease read otherwise).
func (r *Raft) restartQuiet() bool {
	return r.settings.leaseReads && r.restarted && r.ticks < uint64(r.settings.electionTimeout)
}

// handleVoteResponse counts a vote for this node's (pre-)candidacy.
func (r *Raft) handleVoteResponse(m raftpb.Message) {
	want := raftpb.MsgVoteResp
	if r.state == StatePreCandidate {
		want = raftpb.MsgPreVoteResp
	}
	switch {
	case m.Type != want:
		if r.logs(LevelDebug) {
			r.log(LevelDebug, "ignored an answer to another round", msgAttr(m), peerAttr(m.From), Attr{"state", r.state})
		}
		return
	case !r.trk.Voters.Contains(m.From):
		if r.logs(LevelDebug) {
			r.log(LevelDebug, "ignored a vote from a node that is not a voter", msgAttr(m), peerAttr(m.From))
		}
		return
	}
	r.poll(m.From, !m.Reject)
}

// ForgetLeader makes a follower forget its leader, so that it may grant a
// vote at once instead of waiting out the election timeout (useful when
// the application knows the leader is gone).
func (r *Raft) ForgetLeader() error {
	r.wake(false)
	if r.state != StateFollower {
		return nil
	}
	if err := r.checkLeasePromise(); err != nil {
		return err
	}
	r.lead = None
	return nil
}
