package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// Step hands the node a message from a peer. The message is validated
// first: a local-only type, a message for another node, or an impossible
// message is refused with a typed error and changes nothing.
func (r *Raft) Step(m raftpb.Message) error {
	if err := r.validatePeerMessage(&m); err != nil {
		if r.logs(LevelWarn) {
			r.log(LevelWarn, "refused a message", msgAttr(m), peerAttr(m.From), errAttr(err))
		}
		return err
	}
	r.wakeOnMessage(m.Type, m.Reject)
	if isChunkMessage(m.Type) {
		return r.stepChunk(m) // termless: the chunked transfer's own (chunks.go)
	}
	return r.step(&m)
}

// step is the one entry point of every input, local or remote, after
// validation. It and the handlers of the messages an idle group
// exchanges take m by reference, since a Message is large; none of them
// changes it.
func (r *Raft) step(m *raftpb.Message) error {
	if m.Type == raftpb.MsgVoteResp || m.Type == raftpb.MsgPreVoteResp {
		r.learnCommitFromRejection(*m)
	}
	switch {
	case m.Term == 0:
		// Local messages and proposals carry no term.
	case m.Term > r.term:
		if !r.stepHigherTerm(*m) {
			return nil
		}
	case m.Term < r.term:
		r.stepLowerTerm(*m)
		return nil
	}
	switch m.Type {
	case raftpb.MsgVote, raftpb.MsgPreVote:
		r.handleVoteRequest(*m)
		return nil
	case raftpb.MsgStorageAppendResp:
		return r.handleStorageAppendResp(*m)
	case raftpb.MsgStorageApplyResp:
		return r.handleStorageApplyResp(*m)
	}
	switch r.state {
	case StateLeader:
		return r.stepLeader(m)
	case StateCandidate, StatePreCandidate:
		return r.stepCandidate(m)
	default:
		return r.stepFollower(m)
	}
}

// stepHigherTerm applies §5.1 (a higher term makes a node follower) with
// the pre-vote and leader-stickiness exceptions. It reports whether the
// message should be processed further.
func (r *Raft) stepHigherTerm(m raftpb.Message) bool {
	if m.Type == raftpb.MsgVote || m.Type == raftpb.MsgPreVote {
		if r.inLease(m) {
			// Leader stickiness: ignore rather than reject, so that the
			// candidate's term does not spread.
			if r.logs(LevelInfo) {
				r.log(LevelInfo, "ignored a vote request while the leader is heard from (stickiness)", msgAttr(m),
					peerAttr(m.From), Attr{"msg_term", m.Term})
			}
			return false
		}
	}
	switch {
	case m.Type == raftpb.MsgPreVote:
		// A pre-vote never changes our term.
	case m.Type == raftpb.MsgPreVoteResp && !m.Reject:
		// A granted pre-vote carries the term we will campaign in; our
		// term changes only when the real election starts.
	default:
		lead := None
		if isLeaderMessage(m.Type) {
			lead = m.From
		}
		elapsed := r.clock.elapsed()
		r.becomeFollower(m.Term, lead)
		if m.Type == raftpb.MsgVote && !r.raftLog.isUpToDate(entryID{term: m.LogTerm, index: m.Index}) {
			// §5.2 (Figure 2): only a granted vote or a leader restarts
			// the election timer. A candidate whose log is behind ours
			// cannot have our vote and must not hold back our campaign:
			// candidates with stale logs, each with a newer term, would
			// otherwise keep the only node able to win from campaigning
			// (found by the simulator without pre-vote: seed 24000142).
			r.clock.resumeElection(elapsed)
		}
	}
	return true
}

// stepLowerTerm answers a message from an older term: mostly ignore it, but
// tell a stale leader about the newer term (§5.1: a server rejects a
// request with a stale term and answers with its own), and reject stale
// pre-votes so that the pre-candidate does not wait forever. The answer
// lets a node whose term ran ahead rejoin: under CheckQuorum or PreVote
// its own campaigns cannot raise the group's term, and a learner never
// campaigns at all (found by the simulator: a learner that took a removed
// node's higher term from its vote requests ignored the leader forever).
func (r *Raft) stepLowerTerm(m raftpb.Message) {
	switch {
	case m.Type == raftpb.MsgHeartbeat || m.Type == raftpb.MsgApp || m.Type == raftpb.MsgQuiesce:
		r.send(&raftpb.Message{To: m.From, Type: raftpb.MsgAppResp})
	case m.Type == raftpb.MsgPreVote:
		r.send(&raftpb.Message{To: m.From, Term: r.term, Type: raftpb.MsgPreVoteResp, Reject: true})
	default:
		if r.logs(LevelDebug) {
			r.log(LevelDebug, "ignored a message of a lower term", msgAttr(m), peerAttr(m.From), Attr{"msg_term", m.Term})
		}
	}
}

func (r *Raft) stepLeader(m *raftpb.Message) error {
	if isLeaderMessage(m.Type) {
		// Another leader of this term: impossible by Election Safety.
		return fmt.Errorf("%w: %s from %d to the leader of term %d", ErrInvalidMessage, m.Type, m.From, r.term)
	}
	switch m.Type {
	case raftpb.MsgProp:
		_, err := r.appendProposal(m.Entries)
		return err
	case raftpb.MsgTransferLeader:
		return r.handleTransferLeader(*m)
	case raftpb.MsgReadIndex:
		return r.handleReadIndex(*m)
	}
	pr := r.trk.Progress(m.From)
	if pr == nil {
		// A correct node answers just before it learns of its removal:
		// ignore the answer, it is no error.
		if r.logs(LevelDebug) {
			r.log(LevelDebug, "ignored an answer from a node that is not a member", msgAttr(*m), peerAttr(m.From))
		}
		return nil
	}
	switch m.Type {
	case raftpb.MsgAppResp:
		return r.handleAppendResponse(*m, pr)
	case raftpb.MsgHeartbeatResp:
		return r.handleHeartbeatResponse(m, pr)
	case raftpb.MsgQuiesceResp:
		return r.handleQuiesceResponse(*m, pr)
	case raftpb.MsgSnapStatus:
		r.handleSnapStatus(*m, pr)
	case raftpb.MsgUnreachable:
		r.handleUnreachable(pr)
		if m.From == r.leader.transferee {
			r.abortLeaderTransfer("the target is unreachable")
		}
	}
	return nil
}

func (r *Raft) stepCandidate(m *raftpb.Message) error {
	if isLeaderMessage(m.Type) {
		// A leader of our term exists: §5.2, return to follower.
		r.becomeFollower(m.Term, m.From)
		return r.stepFollower(m)
	}
	switch m.Type {
	case raftpb.MsgProp:
		return fmt.Errorf("%w: %w: campaigning at term %d", ErrProposalDropped, ErrNoLeader, r.term)
	case raftpb.MsgTransferLeader:
		return fmt.Errorf("%w: %w: campaigning at term %d", ErrTransferRefused, ErrNoLeader, r.term)
	case raftpb.MsgReadIndex:
		return fmt.Errorf("%w: read refused: campaigning at term %d", ErrNoLeader, r.term)
	case raftpb.MsgReadIndexResp:
		// A pre-candidate keeps its term: the node it forwarded a read to
		// before it began to campaign answers it.
		return r.handleReadIndexResp(*m)
	case raftpb.MsgVoteResp, raftpb.MsgPreVoteResp:
		r.handleVoteResponse(*m)
	}
	return nil
}

// checkFromLeader refuses a message only the leader sends (a read's
// grant, a handover) when it comes from another node than the leader
// this follower knows.
func (r *Raft) checkFromLeader(m raftpb.Message) error {
	if r.lead != None && m.From != r.lead {
		return fmt.Errorf("%w: %s from %d, leader is %d", ErrInvalidMessage, m.Type, m.From, r.lead)
	}
	return nil
}

func (r *Raft) stepFollower(m *raftpb.Message) error {
	if isLeaderMessage(m.Type) {
		// The leader of this term speaks: restart the election timer.
		r.clock.restartElection()
		r.lead = m.From
	}
	switch m.Type {
	case raftpb.MsgProp:
		return r.forwardProposal(*m)
	case raftpb.MsgApp:
		return r.handleAppendEntries(*m)
	case raftpb.MsgHeartbeat:
		return r.handleHeartbeat(m)
	case raftpb.MsgQuiesce:
		return r.handleQuiesce(*m)
	case raftpb.MsgSnap:
		return r.handleSnapshot(*m)
	case raftpb.MsgSnapOffer:
		return r.handleSnapshotOffer(*m)
	case raftpb.MsgTransferLeader:
		return r.forwardTransferLeader(*m)
	case raftpb.MsgReadIndex:
		return r.forwardReadIndex(*m)
	case raftpb.MsgReadIndexResp:
		return r.handleReadIndexResp(*m)
	case raftpb.MsgTimeoutNow:
		// The leader hands over leadership: campaign at once, skipping the
		// pre-vote (thesis §3.10). Only the leader may ask.
		if err := r.checkFromLeader(*m); err != nil {
			return err
		}
		if err := r.hup(true); err != nil {
			// A correct leader asked; this node cannot stand now (a
			// pending conf change, a learner): the transfer times out.
			r.log(LevelInfo, "cannot take over leadership", peerAttr(m.From), errAttr(err))
		}
		return nil
	}
	return nil
}

// isLeaderMessage reports whether only the leader of the message's term
// sends t: its sender is that leader (§5.2).
func isLeaderMessage(t raftpb.MessageType) bool {
	switch t {
	case raftpb.MsgApp, raftpb.MsgHeartbeat, raftpb.MsgSnap, raftpb.MsgSnapOffer, raftpb.MsgQuiesce:
		return true
	}
	return false
}

// fanOut is how many messages to make room for when the node starts a
// batch: a follower mostly answers one peer; a leader or candidate
// addresses every peer at once (heartbeats, appends, votes).
func (r *Raft) fanOut() int {
	if r.state == StateFollower {
		return 1
	}
	return max(r.trk.Len()-1, 1)
}

// send queues a copy of m, stamping the sender and, for non-vote
// messages, the current term (in m too). Responses that depend on durable state (acks of
// entries, votes) wait until everything emitted so far is persisted.
func (r *Raft) send(m *raftpb.Message) {
	m.From = r.id
	switch {
	case carriesOwnTerm(m.Type):
		if m.Term == 0 {
			panic(fmt.Sprintf("invariant: %s must carry a term", m.Type))
		}
	case carriesNoTerm(m.Type):
		// Forwarded requests are treated as local by the leader: no term.
	default:
		m.Term = r.term
	}
	r.out.queue(m, r.waitsForAppend(m.To, m.Type), r.fanOut(), r.settings.cache)
}

// sendNew queues a message of type t to to, stamped as send stamps it
// (sender, current term), and returns it for the caller to fill in the
// rest in place before it queues anything else: the heartbeat and its
// answer, which an idle group sends on every round, are built where they
// wait rather than copied there. t carries the current term.
func (r *Raft) sendNew(to uint64, t raftpb.MessageType) *raftpb.Message {
	if carriesOwnTerm(t) || carriesNoTerm(t) {
		panic(fmt.Sprintf("invariant: %s is not stamped with the current term", t))
	}
	m := r.out.add(r.waitsForAppend(to, t), r.fanOut(), r.settings.cache)
	m.To, m.Type, m.From, m.Term = to, t, r.id, r.term
	return m
}

// carriesOwnTerm reports whether messages of type t carry the term their
// sender sets (votes and their answers, for the term of the election),
// not the node's current term.
func carriesOwnTerm(t raftpb.MessageType) bool {
	switch t {
	case raftpb.MsgVote, raftpb.MsgVoteResp, raftpb.MsgPreVote, raftpb.MsgPreVoteResp:
		return true
	}
	return false
}

// carriesNoTerm reports whether messages of type t carry no term: the
// requests a follower forwards to its leader.
func carriesNoTerm(t raftpb.MessageType) bool {
	return t == raftpb.MsgProp || t == raftpb.MsgReadIndex
}

// waitsForAppend reports whether a message of type t to to waits until
// everything the node emitted so far is durable: its messages to itself,
// and its acknowledgements of entries and votes (thesis §10.2.1).
func (r *Raft) waitsForAppend(to uint64, t raftpb.MessageType) bool {
	return to == r.id || t == raftpb.MsgAppResp || t == raftpb.MsgVoteResp
}
