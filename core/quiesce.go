package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// quiescence is a node's part in the sleep of an idle group
// (Config.Quiesce): its leader stops sending heartbeats, its followers
// stop expecting them, and a tick costs a sleeping node a few additions. A process that runs thousands
// of groups, most of them idle, then pays only for the busy ones.
//
// # The protocol
//
// At a heartbeat, instead of heartbeats, the leader sends every other
// member a MsgQuiesce carrying its last entry (index and term) and its
// commit index, once the group is idle (groupIdle): everything in its log
// committed in its term and applied, every member acknowledged the last
// index and was sent the commit index, nothing under way (no read, no
// transfer, no joint configuration, no snapshot), and an election
// timeout has passed since it became leader, woke or was refused. A
// follower whose last entry and commit index equal the message's goes to
// sleep and answers MsgQuiesceResp; one that differs, or has work of its
// own under way, stays awake and answers with a rejection carrying its
// own. The leader sleeps when every member accepted the same request and
// it is still idle at the same point; meanwhile it sends no heartbeats
// (they would wake the members that accepted). A rejection, or a request
// not fully answered within quiesceAnswerTicks, makes it stay awake,
// heartbeat again and try again an election timeout later. Heartbeats
// wake any follower that slept meanwhile.
//
// Any request of the application (a proposal, a read, a conf change
// proposed or applied, a transfer, a campaign, ForgetLeader,
// ReportPeerDown, a transport report) and any message from a peer wakes a
// node, except the quiescence
// messages themselves and its own storage workers' acknowledgements. A
// follower that wakes tells its leader with a rejecting MsgQuiesceResp,
// which wakes the leader; a leader that wakes sends heartbeats at once,
// which wake its followers. So a group sleeps and wakes as a whole.
//
// # Why it is safe
//
// Quiescence changes nothing that is persisted and sends nothing Raft
// does not already allow to be lost: it withholds heartbeats and stops
// election timers. The safety of Raft (Election Safety, Log Matching,
// Leader Completeness, State Machine Safety; §5.2-§5.4) holds under any
// loss and delay of messages and any timing, so a sleeping group keeps
// it: to those properties it is a group whose heartbeats are lost and
// whose clocks are slow. What does depend on time is argued here.
//
// Leases (thesis §6.4.1, leaseTicks). A lease read is safe because a
// follower that answered the heartbeats anchoring the lease refuses to
// vote for another until it has counted ElectionTick of its own ticks
// since it last heard from the leader, while the leader stops using the
// lease leaseTicks of its own ticks after it sent them. A sleeping node
// keeps both counts: it counts every tick (or its host, which may skip
// it, hands it the elapsed ticks with TickN when it wakes, before anything
// else, the rule for a paused process). MsgQuiesce is a leader message,
// so a follower restarts its stickiness on it: later than the anchoring
// round, which only lengthens it. A sleeping follower never campaigns by
// itself; ReportPeerDown, the one way it does, refuses inside
// ElectionTick of the last leader message it took, the same window the
// stickiness rule keeps for votes, so the lease has run out before it
// can help elect anyone. A follower woken by a request of its
// application restarts its election timer: a longer stickiness, the safe
// direction. On top of that, a leader that wakes answers no lease read
// until a quorum has answered the heartbeat round it starts at its wake
// (leaseFenced): its lease rests on answers given after the wake,
// whatever its host did with the ticks while it slept. A ReadIndex read
// already waits for a round started after it arrived (§6.4).
//
// Every member, at the leader's point. A follower's Match on the leader
// says what it acknowledged, not that its log ends there (it may hold an
// uncommitted tail of an older term beyond it) nor that it learned the
// commit index. The follower checks both itself: with the same last
// entry (index and term) its log equals the leader's (Log Matching,
// §5.3), and with the same commit index it knows every entry is
// committed. Then no entry waits to be replicated, no commit index waits
// to be spread and no acknowledgement is owed: nothing the group would
// send heartbeats or appends for. Every member must accept, not a
// quorum: a member that did not is awake, expects heartbeats, and would
// time out and disrupt the group with an election, and one that lags
// would stay behind for as long as the group sleeps.
//
// Liveness. A sleeping follower does not time out, so a leader that
// fails while the group sleeps is noticed only by the application, which
// reports it with ReportPeerDown (its transport's failure detector, a
// connection lost); that follower campaigns once outside the window
// above, and the others, woken by its vote requests, answer as usual.
// The half-asleep states end by themselves: a follower asleep under a
// leader that stayed awake is woken by the next heartbeat; a follower
// woken under a sleeping leader wakes it with its rejection, or, if that
// is lost, times out and campaigns, which is an ordinary election.
//
// CheckQuorum (thesis §6.2). A sleeping leader checks no quorum, and
// when it wakes its check starts over: it forgets which members it heard
// from and restarts its election timer, so a long sleep is not mistaken
// for a lost quorum, and a quorum lost during it is found one election
// timeout after the wake.
//
// Only this file assigns the fields of quiescence and of quiesceLead.
type quiescence struct {
	// on is Config.Quiesce.
	on bool
	// asleep is set while this node sleeps.
	asleep bool
}

// quiesceLead is a leader's part in the sleep of its group, held in its
// leaderState (what only a leader asks for, no other node holds), so that
// a follower's Raft carries two bytes of quiescence.
type quiesceLead struct {
	// req is the request to sleep in flight, nil when there is none.
	req *quiesceRequest
	// nextTry is the leader tick before which the leader does not ask to
	// sleep.
	nextTry uint64
	// wakeRound is the read round the leader started when it woke; until
	// a quorum has answered it, the lease does not hold (0: none).
	wakeRound uint64
}

// quiesceRequest is a leader's MsgQuiesce in flight: sent at its last
// entry point with commit index commit, to be answered by every member by
// leader tick deadline; acked are the members that accepted it.
type quiesceRequest struct {
	point            entryID
	commit, deadline uint64
	acked            []uint64
}

// reset forgets the sleep: a new term or role begins. A leader's requests
// and fence are in its leaderState, which a new leadership starts afresh
// (newQuiesceLead).
func (q *quiescence) reset() { q.asleep = false }

// newQuiesceLead is the quiescence of a leader that begins at leader tick
// now: it waits an election timeout of wait ticks before it asks to
// sleep.
func newQuiesceLead(now uint64, wait int) quiesceLead {
	return quiesceLead{nextTry: now + uint64(wait)}
}

// startAttempt records a MsgQuiesce sent at point with commit index
// commit, to be answered by leader tick deadline.
func (q *quiesceLead) startAttempt(point entryID, commit, deadline uint64) {
	q.req = &quiesceRequest{point: point, commit: commit, deadline: deadline}
}

// endAttempt forgets the request in flight.
func (q *quiesceLead) endAttempt() { q.req = nil }

// attempting reports whether a request to sleep is in flight.
func (q *quiesceLead) attempting() bool { return q.req != nil }

// retryAt abandons the request in flight, if any, and puts off the next
// until leader tick at.
func (q *quiesceLead) retryAt(at uint64) {
	q.endAttempt()
	q.nextTry = at
}

// ack records that id accepted the request and returns how many members
// have.
func (q *quiesceLead) ack(id uint64) int {
	for _, a := range q.req.acked {
		if a == id {
			return len(q.req.acked)
		}
	}
	q.req.acked = append(q.req.acked, id)
	return len(q.req.acked)
}

// sleep puts the node to sleep.
func (q *quiescence) sleep() { q.asleep = true }

// awaken records that the node is awake.
func (q *quiescence) awaken() { q.asleep = false }

// fence records the round a waking leader started.
func (q *quiesceLead) fence(round uint64) { q.wakeRound = round }

// unfence records that a quorum answered the round of the wake.
func (q *quiesceLead) unfence() { q.wakeRound = 0 }

// Quiesced reports whether the node sleeps (Config.Quiesce).
func (r *Raft) Quiesced() bool { return r.quiesce.asleep }

// tickQuiesced is the rest of a sleeping node's tick, after what every
// tick does (TickN): it counts, so that leases, stickiness and the
// leader's heartbeat rounds are judged on time when it wakes, and does
// nothing else: no message, no allocation.
func (r *Raft) tickQuiesced(n int) {
	if r.state == StateLeader {
		r.leaderTick += uint64(n)
		r.clock.advanceElection(n)
		r.leader.heartbeat.advance(n)
		return
	}
	r.clock.advanceElection(n)
}

// wake is called by every request of the application: a sleeping node
// wakes, and a leader abandons a request to sleep. restartTimer makes a
// waking follower restart its election timer, so that it does not
// campaign at its next tick because it slept long (a proposal or a read
// is no sign of a failed leader); Campaign, ForgetLeader and
// ReportPeerDown keep it.
func (r *Raft) wake(restartTimer bool) {
	if l := r.leader; l != nil && l.quiesce.attempting() {
		l.quiesce.retryAt(r.leaderTick + uint64(r.settings.electionTimeout))
	}
	q := &r.quiesce
	if !q.asleep {
		return
	}
	q.awaken()
	if r.state == StateLeader {
		r.wakeLeader()
		return
	}
	if restartTimer {
		r.clock.restartElection()
	}
	r.tellLeaderAwake()
}

// wakeOnMessage wakes a sleeping node for a message from a peer, of type
// t (a rejection if reject), unless it is a quiescence message (handled
// by its own rule) or an acknowledgement of the node's own storage
// workers.
func (r *Raft) wakeOnMessage(t raftpb.MessageType, reject bool) {
	if !r.quiesce.asleep {
		return
	}
	switch {
	case t == raftpb.MsgQuiesce, t == raftpb.MsgQuiesceResp && !reject, raftpb.IsLocalMsg(t):
		return
	}
	r.wake(false)
}

// wakeLeader starts a woken leader's rounds afresh: CheckQuorum counts
// from now (thesis §6.2), and a heartbeat round goes out at once, which
// wakes the followers and which a quorum must answer before a lease read
// is served again (§6.4.1).
func (r *Raft) wakeLeader() {
	r.log(LevelInfo, "woke up")
	r.clock.restartElection()
	r.forgetRecentActivity()
	r.leader.quiesce.fence(r.readOnly.StartRound(r.raftLog.committed))
	r.leader.quiesce.retryAt(r.leaderTick + uint64(r.settings.electionTimeout))
	r.leader.heartbeat.restart()
	r.bcastHeartbeat()
}

// tellLeaderAwake tells a woken follower's leader, with a rejecting
// MsgQuiesceResp, which wakes it if it sleeps.
func (r *Raft) tellLeaderAwake() {
	if r.lead == None {
		return
	}
	last := r.raftLog.lastEntryID()
	r.send(&raftpb.Message{To: r.lead, Type: raftpb.MsgQuiesceResp, Reject: true,
		Index: last.index, LogTerm: last.term, Commit: r.raftLog.committed})
}

// leaseFenced reports whether a woken leader still waits for a quorum to
// answer the round it started at its wake: until then its lease does not
// hold.
func (r *Raft) leaseFenced() bool {
	w := r.leader.quiesce.wakeRound
	if w == 0 {
		return false
	}
	if r.readOnly.QuorumRound(r.trk.Voters) < w {
		return true
	}
	r.leader.quiesce.unfence()
	return false
}

// proposeQuiescence is the leader's heartbeat when quiescence is on: if
// the group is idle it asks every member to sleep instead of sending
// heartbeats, and reports whether it did, or still waits for the answers
// (heartbeats would wake the members that accepted).
func (r *Raft) proposeQuiescence() bool {
	q := &r.leader.quiesce
	switch {
	case !r.quiesce.on:
		return false
	case q.attempting() && r.leaderTick < q.req.deadline:
		return true
	case q.attempting():
		q.retryAt(r.leaderTick + uint64(r.settings.electionTimeout))
		return false
	case r.leaderTick < q.nextTry || !r.groupIdle():
		return false
	}
	last := r.raftLog.lastEntryID()
	q.startAttempt(last, r.raftLog.committed, r.leaderTick+uint64(quiesceAnswerTicks(r.settings.electionTimeout, r.settings.heartbeatTimeout)))
	r.trk.Visit(func(id uint64, _ *tracker.Progress) {
		if id != r.id {
			r.send(&raftpb.Message{To: id, Type: raftpb.MsgQuiesce, Index: last.index, LogTerm: last.term,
				Commit: r.raftLog.committed})
		}
	})
	return true
}

// quiesceAnswerTicks is how long the leader waits for every member to
// answer its MsgQuiesce, sending no heartbeats meanwhile: a third of an
// election timeout, and at least a heartbeat interval. A member that lost
// the request hears the next heartbeat well within its election timeout
// (a third of it, plus a heartbeat interval, plus the message's latency),
// so it does not campaign because the leader waited.
func quiesceAnswerTicks(electionTick, heartbeatTick int) int {
	return max(heartbeatTick, electionTick/3)
}

// groupIdle reports whether the leader has nothing to do: its whole log
// committed in its term and applied, every member acknowledged the last
// index and was sent the commit index, and no read, transfer, joint
// configuration or snapshot is under way.
func (r *Raft) groupIdle() bool {
	last := r.raftLog.lastIndex()
	switch {
	case r.leader.transferee != None, r.readOnly.Len() > 0, r.queuedReads().numStates() > 0, r.queuedReads().numLocal() > 0,
		r.queuedReads().numForwarded() > 0, r.chunkFetch().fetching(), r.trk.Voters.IsJoint():
		return false
	case r.raftLog.committed != last, r.raftLog.applied != last, !r.committedInTerm():
		return false
	}
	idle := true
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		idle = idle && pr.Match == last &&
			(id == r.id || pr.State == tracker.StateReplicate && !pr.CanBumpCommit(last))
	})
	return idle
}

// handleQuiesce is a follower's side of MsgQuiesce: sleep if its log and
// commit index are the leader's and it has nothing under way, else stay
// awake and say so. The leader was heard from (stepFollower restarted
// the election timer).
func (r *Raft) handleQuiesce(m raftpb.Message) error {
	last := r.raftLog.lastEntryID()
	agree := last.index == m.Index && last.term == m.LogTerm && r.raftLog.committed == m.Commit &&
		r.queuedReads().numLocal() == 0 && r.queuedReads().numForwarded() == 0 && !r.chunkFetch().fetching()
	if agree {
		r.quiesce.sleep()
	} else {
		r.quiesce.awaken()
		if r.logs(LevelInfo) {
			r.log(LevelInfo, "refused to quiesce", peerAttr(m.From), Attr{"last_index", last.index},
				Attr{"last_term", last.term}, Attr{"commit", r.raftLog.committed})
		}
	}
	r.send(&raftpb.Message{To: m.From, Type: raftpb.MsgQuiesceResp, Reject: !agree,
		Index: last.index, LogTerm: last.term, Commit: r.raftLog.committed})
	return nil
}

// handleQuiesceResponse is the leader's side of MsgQuiesceResp: a
// rejection ends the request (a sleeping leader was already woken by
// it); an acceptance of the request in flight counts, and the leader
// sleeps when every member accepted and it is still idle at that point.
func (r *Raft) handleQuiesceResponse(m raftpb.Message, pr *tracker.Progress) error {
	pr.RecentActive = true
	q := &r.leader.quiesce
	if m.Reject {
		if q.attempting() {
			r.log(LevelInfo, "a follower refused to quiesce", peerAttr(m.From), Attr{"last_index", m.Index},
				Attr{"commit", m.Commit})
			q.retryAt(r.leaderTick + uint64(r.settings.electionTimeout))
		}
		return nil
	}
	if !q.attempting() || m.Index != q.req.point.index || m.LogTerm != q.req.point.term || m.Commit != q.req.commit {
		return nil // an answer to an earlier request
	}
	if q.ack(m.From) < r.membersButSelf() {
		return nil
	}
	if r.raftLog.lastEntryID() != q.req.point || r.raftLog.committed != q.req.commit || !r.groupIdle() {
		q.retryAt(r.leaderTick + uint64(r.settings.electionTimeout))
		return nil
	}
	r.log(LevelInfo, "quiesced", Attr{"last_index", q.req.point.index}, Attr{"commit", q.req.commit})
	q.endAttempt()
	r.quiesce.sleep()
	return nil
}

// ReportPeerDown tells the node that the application suspects peer id
// has failed (its transport lost the connection, a failure detector
// fired). It wakes the node. On a follower whose leader is id, it starts
// an election (with a pre-vote unless disabled): a sleeping follower
// never times out by itself. Inside ElectionTick of the last message it
// took from that leader (or, under LeaseReads, of a restart) it refuses
// with ErrLeasePromised, since it may have helped grant the leader a
// lease; it is awake then, and campaigns by its own timer if the leader
// stays silent.
func (r *Raft) ReportPeerDown(id uint64) error {
	r.wake(false)
	if r.state != StateFollower || id == None || id != r.lead {
		return nil
	}
	if r.clock.elapsed() < r.settings.electionTimeout || r.restartQuiet() {
		return fmt.Errorf("%w: leader %d heard from %d ticks ago, election timeout %d", ErrLeasePromised,
			r.lead, r.clock.elapsed(), r.settings.electionTimeout)
	}
	return r.hup(false)
}

// checkQuiescenceInvariants: only a follower with a leader or a leader
// sleeps, only with quiescence on; a sleeping leader has no request in
// flight and nothing under way; only a leader asks.
func (r *Raft) checkQuiescenceInvariants() error {
	q := &r.quiesce
	attempting := r.leader != nil && r.leader.quiesce.attempting()
	switch {
	case q.asleep && !q.on:
		return fmt.Errorf("invariant: %d sleeps with quiescence off", r.id)
	case q.asleep && r.state != StateLeader && (r.state != StateFollower || r.lead == None):
		return fmt.Errorf("invariant: %v %d sleeps without a leader", r.state, r.id)
	case attempting && (q.asleep || r.state != StateLeader):
		return fmt.Errorf("invariant: %v %d asks to sleep (asleep %v)", r.state, r.id, q.asleep)
	case q.asleep && r.state == StateLeader && (r.leader.transferee != None || r.readOnly.Len() > 0):
		return fmt.Errorf("invariant: leader %d sleeps with a transfer or reads under way", r.id)
	}
	return nil
}

// membersButSelf returns the number of members other than this node:
// every member, when a leader kept after its own removal
// (KeepLeaderAfterRemoval) is not one.
func (r *Raft) membersButSelf() int {
	if r.trk.IsMember(r.id) {
		return r.trk.Len() - 1
	}
	return r.trk.Len()
}
