package core

import (
	"errors"
	"fmt"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// appendProposal appends a batch of proposed entries to the leader's log,
// refusing it whole if it would overflow the uncommitted tail or carry a
// second pending conf change. It returns the index of the last entry.
func (r *Raft) appendProposal(ents []raftpb.Entry) (uint64, error) {
	if len(ents) == 0 {
		return 0, fmt.Errorf("%w: empty proposal", ErrProposalDropped)
	}
	if r.leader.transferee != None {
		return 0, fmt.Errorf("%w: %w to %d", ErrProposalDropped, ErrTransferInProgress, r.leader.transferee)
	}
	size := payloadSize(ents)
	if err := r.leader.uncommitted.admit(size, len(ents)); err != nil {
		return 0, err
	}
	if err := r.checkProposedConfChanges(ents); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrProposalDropped, err)
	}
	last := r.raftLog.lastIndex()
	for i := range ents {
		ents[i].Term = r.term
		ents[i].Index = last + 1 + uint64(i)
		if ents[i].IsConfChange() {
			r.leader.confPending(ents[i].Index)
		}
	}
	r.raftLog.append(ents...)
	r.leader.uncommitted.add(size, len(ents))
	r.appendsPending = true
	return last + uint64(len(ents)), nil
}

// appendEntry appends an entry of the leader's own (the empty entry of a
// new term, or an automatic leave of a joint configuration): never refused.
// It counts in the uncommitted tail like a proposal, so that the tail
// accounts for every entry of this leader's term until it is handed out to
// apply.
func (r *Raft) appendEntry(e raftpb.Entry) {
	e.Term = r.term
	e.Index = r.raftLog.lastIndex() + 1
	r.raftLog.append(e)
	r.leader.uncommitted.add(uint64(len(e.Data)), 1)
	r.appendsPending = true
}

// flushAppends sends every follower what it lacks, batched: all entries
// proposed since the last Ready go out in as few messages as the size and
// inflight limits allow, together with the newest commit index.
func (r *Raft) flushAppends() {
	if r.state != StateLeader || !r.appendsPending {
		return
	}
	r.appendsPending = false
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		if id != r.id {
			r.sendAppends(id, pr)
		}
	})
}

// appendsWouldSend reports whether flushAppends would send an append:
// some follower is not paused and lacks entries or the commit index.
func (r *Raft) appendsWouldSend() bool {
	if r.state != StateLeader || !r.appendsPending {
		return false
	}
	would := false
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		would = would || id != r.id && !pr.IsPaused() &&
			(pr.Next <= r.raftLog.lastIndex() || pr.CanBumpCommit(r.raftLog.committed))
	})
	return would
}

// sendAppends sends appends to one follower: in Replicate, pipelined until
// the inflight window fills or the log is exhausted; in Probe, one probe.
// An empty append is sent when only the commit index is news.
func (r *Raft) sendAppends(to uint64, pr *tracker.Progress) {
	for !pr.IsPaused() {
		sendEmpty := pr.CanBumpCommit(r.raftLog.committed)
		if !r.maybeSendAppend(to, pr, sendEmpty) || pr.State != tracker.StateReplicate {
			return
		}
	}
}

// maybeSendAppend sends one append (or a snapshot, if the follower needs
// entries the log no longer has) and reports whether it sent anything.
func (r *Raft) maybeSendAppend(to uint64, pr *tracker.Progress, sendIfEmpty bool) bool {
	if pr.IsPaused() {
		return false
	}
	prev := pr.Next - 1
	prevTerm, err := r.raftLog.term(prev)
	if err != nil {
		return r.maybeSendSnapshot(to, pr, err)
	}
	var ents []raftpb.Entry
	if pr.Next <= r.raftLog.lastIndex() {
		ents, err = r.raftLog.entries(pr.Next, r.appendBudget(pr))
		if err != nil {
			return r.maybeSendSnapshot(to, pr, err)
		}
	}
	if len(ents) == 0 && !sendIfEmpty {
		return false
	}
	r.sendAppend(to, pr, entryID{term: prevTerm, index: prev}, ents)
	r.ownWindow(pr, len(ents))
	pr.SentEntries(len(ents), payloadSize(ents))
	return true
}

// sendAppend sends the entries ents following prev, with the commit index,
// and records the commit the follower will learn: up to the last entry it
// will hold.
func (r *Raft) sendAppend(to uint64, pr *tracker.Progress, prev entryID, ents []raftpb.Entry) {
	commit := r.raftLog.committed
	r.send(&raftpb.Message{To: to, Type: raftpb.MsgApp, Index: prev.index, LogTerm: prev.term, Entries: ents, Commit: commit})
	pr.UpdateSentCommit(min(commit, prev.index+uint64(len(ents))))
}

// appendBudget is the payload one append to pr may carry: MaxSizePerMsg,
// and no more than the room left in the follower's inflight byte window,
// so the window is never overrun by a whole message (one entry always
// goes, whatever its size). A probe (StateProbe, whose window is empty)
// is held to MaxInflightBytes too: it is in flight like any append, and
// a follower that lags by more than MaxInflightBytes must not be sent
// MaxSizePerMsg at once (found by the schedules' wire oracle).
func (r *Raft) appendBudget(pr *tracker.Progress) uint64 {
	if pr.Inflights == nil {
		return r.settings.maxMsgSize
	}
	return min(r.settings.maxMsgSize, pr.Inflights.RoomBytes())
}

// handleAppendEntries is the follower's side of AppendEntries (§5.3).
func (r *Raft) handleAppendEntries(m raftpb.Message) error {
	if m.Index < r.raftLog.committed {
		// Everything up to our commit index matches the leader's log
		// (Log Matching); tell the leader where we are.
		r.send(&raftpb.Message{To: m.From, Type: raftpb.MsgAppResp, Index: r.raftLog.committed})
		return nil
	}
	if r.refuseEntriesWithoutConfiguration(m.From, m.Index) {
		return nil
	}
	lastNew, overwrote, ok, err := r.raftLog.maybeAppend(entryID{term: m.LogTerm, index: m.Index}, m.Commit, m.Entries)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if overwrote != 0 {
		r.dropAcksFrom(overwrote)
	}
	if ok {
		r.send(&raftpb.Message{To: m.From, Type: raftpb.MsgAppResp, Index: lastNew})
		return nil
	}
	// Reject, with a hint that lets the leader skip a whole term of
	// mismatched entries in one round trip (§5.3, the optimization at the
	// end of the section).
	hintIndex := min(m.Index, r.raftLog.lastIndex())
	hintIndex, hintTerm := r.raftLog.findConflictByTerm(hintIndex, m.LogTerm)
	r.send(&raftpb.Message{
		To: m.From, Type: raftpb.MsgAppResp, Index: m.Index,
		Reject: true, RejectHint: hintIndex, LogTerm: hintTerm,
	})
	return nil
}

// dropAcksFrom withdraws the acknowledgements still waiting to leave
// (after the next write) that claim entries from index on: those entries
// were just replaced by another leader's and will never be written, so
// the acknowledgement would tell their leader of entries this node never
// made durable (found by the simulator: a node resumed from a pause
// stepped an old leader's append and a new leader's overwrite in one
// batch, and acknowledged the old entries after writing the new).
func (r *Raft) dropAcksFrom(index uint64) { r.out.dropAcksFrom(index) }

// handleAppendResponse is the leader's side of an append's answer.
func (r *Raft) handleAppendResponse(m raftpb.Message, pr *tracker.Progress) error {
	pr.RecentActive = true
	if m.Reject {
		r.handleAppendRejection(m, pr)
		return nil
	}
	before := pr.Match
	if !pr.MaybeUpdate(m.Index) && !(pr.Match == m.Index && pr.State == tracker.StateProbe) {
		return nil // stale or duplicate acknowledgement
	}
	if pr.Match > before {
		r.leader.matchRose(m.From, r.leaderTick)
	}
	// MaybeUpdate already freed the acknowledged part of the window.
	switch {
	case pr.State == tracker.StateProbe:
		pr.BecomeReplicate()
	case pr.State == tracker.StateSnapshot && pr.Match+1 >= r.raftLog.firstIndex():
		// The follower caught up through the snapshot (or past it).
		pr.BecomeReplicate()
	case pr.State == tracker.StateSnapshot && pr.Match >= pr.PendingSnapshot:
		// The follower installed the snapshot, but the log was compacted
		// past it meanwhile: probe, which sends the newer snapshot. Left
		// in StateSnapshot, only ReportSnapshot would move it on (no
		// resend is due for a snapshot acknowledged).
		pr.BecomeProbe()
	}
	r.returnEmptyWindow(pr)
	r.maybeCommit()
	r.appendsPending = true
	r.maybeFinishTransfer(m.From, pr)
	return nil
}

// handleAppendRejection moves Next back after a follower refused an append
// whose previous entry it lacks or holds with another term. A rejection
// that is older than what the leader learned since (a late or duplicated
// one) is ignored: Next never moves to or below Match, and Match never
// moves back on an ordinary rejection, which cannot tell a lost log from
// a delay (the follower's short-log report can: handleShortLogReport).
func (r *Raft) handleAppendRejection(m raftpb.Message, pr *tracker.Progress) {
	if raftpb.IsShortLogReport(m) {
		r.handleShortLogReport(m, pr)
		return
	}
	if m.Index == 0 {
		r.catchUpWithSnapshot(m.From, pr)
		return
	}
	next := m.RejectHint
	if m.LogTerm > 0 {
		// The follower told us its term at the hint: skip every entry of
		// ours with a larger term in one step.
		next, _ = r.raftLog.findConflictByTerm(m.RejectHint, m.LogTerm)
	}
	if !pr.MaybeDecrTo(m.Index, next) {
		return // stale rejection
	}
	if pr.State == tracker.StateReplicate {
		pr.BecomeProbe()
	}
	r.returnEmptyWindow(pr)
	r.appendsPending = true
}

// handleShortLogReport lowers the Match of a follower whose log ends below
// it: the follower answered a heartbeat claiming index m.Index, which it
// had acknowledged, with m.RejectHint, its last entry below the claim
// (its last index, or claim-1 when its log is longer but holds another
// term at the claim), so its storage lost entries. The leader probes it
// from there; the commit index never moves back. That entry counts as
// matching only if the leader
// holds it with the same term: a storage that lost an overwrite keeps the
// older term's entry, and then the leader falls back to the follower's
// commit index (m.Commit), whose entries are committed and so are the
// leader's (§5.4, Leader Completeness). A report whose claim lies above
// Match is stale: an earlier report already lowered Match below the
// claim (a duplicate, or the answer to a later heartbeat sent before the
// first report arrived). So is a report answering a heartbeat the leader
// sent before the tick at which the follower's Match last rose:
// that acknowledgement is newer (a duplicate arriving after the repair,
// which would otherwise send the follower back to its commit index); a
// follower that lost entries since answers the next heartbeat.
func (r *Raft) handleShortLogReport(m raftpb.Message, pr *tracker.Progress) {
	if c, _ := raftpb.DecodeHeartbeatContext(m.Context); c.Tick < r.leader.matchRoseAt[m.From] {
		return
	}
	last := m.RejectHint
	if !r.raftLog.matchTerm(entryID{term: m.LogTerm, index: last}) {
		last = m.Commit
	}
	if m.Index > pr.Match || !pr.LostEntries(last) {
		return
	}
	r.log(LevelWarn, "a follower lost entries it had acknowledged", peerAttr(m.From), Attr{"last_index", last})
	r.leader.watchRepair(m.From, r.leaderTick)
	r.appendsPending = true
}

// maybeCommit advances the commit index to what a quorum has persisted,
// counting only entries of the current term (§5.4.2, Figure 8).
func (r *Raft) maybeCommit() bool {
	mci := r.trk.Committed()
	if mci > r.raftLog.lastIndex() {
		return false
	}
	if !r.raftLog.maybeCommit(entryID{term: r.term, index: mci}) {
		return false
	}
	r.appendsPending = true
	return true
}

// bcastHeartbeat sends a heartbeat to every follower.
// Each heartbeat carries the current read round and the leader's tick, so
// that its answers confirm pending reads and renew the lease. The term of
// the entry at the commit index is looked up once per broadcast; only a
// follower whose Match lies below the commit index costs a lookup of its
// own (sendHeartbeat).
func (r *Raft) bcastHeartbeat() {
	round := r.readOnly.CurrentRound()
	r.readOnly.Ack(r.id, round, r.leaderTick)
	ctx := r.leader.heartbeatContext(raftpb.HeartbeatContext{Round: round, Tick: r.leaderTick})
	committed := r.heartbeatCommit(r.raftLog.committed)
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		if id != r.id {
			r.sendHeartbeat(id, pr, committed, ctx)
		}
	})
}

// heartbeatCommit returns the ID of the entry at index, the commit index a
// heartbeat carries with its term. When the log cannot tell the term (the
// entry is compacted: the follower's Match lies below the leader's
// snapshot) it returns index 0: the heartbeat then carries no commit
// index, which the follower learns from the snapshot it needs anyway. An
// index sent with term 0 would be checked against nothing (as from an
// etcd raft leader), and a follower that lost an overwrite would commit
// the older tail it holds there (found by the simulator's lost-overwrite
// fault, seed 59200056).
func (r *Raft) heartbeatCommit(index uint64) entryID {
	if index == r.raftLog.committed && r.ownTermEntry(index) {
		// The commit index is never compacted (the application compacts
		// only what it applied), and an idle group's is the leader's own.
		return entryID{term: r.term, index: index}
	}
	if index != 0 && index+1 < r.raftLog.firstIndex() {
		return entryID{} // compacted: asked before term, which would build an error every heartbeat
	}
	t, err := r.raftLog.term(index)
	if err != nil {
		return entryID{}
	}
	return entryID{term: t, index: index}
}

// ownTermEntry reports whether the entry at index in a leader's log,
// compacted or not, is of the leader's own term: every entry is from the
// first of its term on (the empty entry it appended when elected) to its
// last, since a leader only appends to its log (§5.3, Leader
// Append-Only). The commit index of an idle group is such an entry, whose
// term the leader thus knows without asking Storage. The
// tickraft_invariants build checks the answer against the log, where it
// can tell.
func (r *Raft) ownTermEntry(index uint64) bool {
	own := r.leader != nil && index >= r.leader.termStart && index <= r.raftLog.lastIndex()
	if assertInvariants && own {
		if t, err := r.raftLog.term(index); err == nil && t != r.term {
			panic(fmt.Sprintf("invariant violated: entry %d of the leader's term %d reads as term %d (%v)", index, r.term, t, err))
		}
	}
	return own
}

// sendHeartbeat sends a heartbeat carrying min(match, commit), or no
// commit index (0) when the leader cannot state the term there
// (heartbeatCommit): a follower must never learn a commit index beyond
// the entries it is known to hold.
// It states the term of the entry at that index in LogTerm, so that the
// follower commits only a prefix it holds as the leader does (§5.3, Log
// Matching): committed is the ID of the entry at the leader's commit
// index, looked up by the caller once for every follower.
func (r *Raft) sendHeartbeat(to uint64, pr *tracker.Progress, committed entryID, ctx []byte) {
	if pr.Match < committed.index {
		committed = r.heartbeatCommit(pr.Match)
	}
	m := r.sendNew(to, raftpb.MsgHeartbeat)
	m.Commit, m.LogTerm, m.Context = committed.index, committed.term, ctx
	pr.UpdateSentCommit(committed.index)
}

// handleHeartbeat is the follower's side of a heartbeat. It takes the
// commit index only for an entry it holds with the term the leader
// states (m.LogTerm; 0, as an etcd raft leader sends, states none): by
// Log Matching (§5.3) its log then agrees with the leader's up to that
// index. Anything else proves that its storage lost entries it had
// acknowledged, and it reports its short log instead.
func (r *Raft) handleHeartbeat(m *raftpb.Message) error {
	short := m.Commit > r.raftLog.committed && !r.holdsHeartbeatCommit(m)
	if !short && m.Commit > r.raftLog.committed {
		r.raftLog.commitTo(m.Commit)
	}
	r.sendNew(m.From, raftpb.MsgHeartbeatResp).Context = m.Context
	if short {
		// What is left of the tail may be an older term's, overwritten
		// before the loss, so none of it is committed on this claim.
		r.reportShortLog(m.From, m.Commit, m.Context)
	}
	return nil
}

// holdsHeartbeatCommit reports whether this log holds the entry at the
// commit index heartbeat m states: the index is within the log and, if
// the leader states its term, the entry there has that term. A log that
// cannot tell the term (a broken storage) does not hold it.
func (r *Raft) holdsHeartbeatCommit(m *raftpb.Message) bool {
	if m.Commit > r.raftLog.lastIndex() {
		return false
	}
	return m.LogTerm == 0 || r.raftLog.matchTerm(entryID{term: m.LogTerm, index: m.Commit})
}

// reportShortLog answers a leader that believes this node holds index
// claimed as the leader does (the leader only sends a commit index the
// node acknowledged), when the node's log ends below it or holds another
// term there: the node's storage lost entries. A rejection naming the
// node's last entry below claimed tells the leader to lower its Match and
// probe; the echo of the heartbeat's context marks it as such a report
// (raftpb.IsShortLogReport), apart from an append's rejection, which may
// be late and must never lower Match. The report's Commit is this node's
// commit index: the point the leader falls back to when the named entry
// is not the leader's (a lost overwrite left an older term's entry).
func (r *Raft) reportShortLog(to, claimed uint64, ctx []byte) {
	hint := min(r.raftLog.lastIndex(), claimed-1)
	hintTerm, err := r.raftLog.term(hint)
	if err != nil {
		hintTerm = 0 // a storage that cannot tell: term 0 matches no leader's entry past 0, so it falls back to Commit
	}
	r.send(&raftpb.Message{To: to, Type: raftpb.MsgAppResp, Reject: true, Index: claimed,
		RejectHint: hint, LogTerm: hintTerm, Commit: r.raftLog.committed, Context: ctx})
}

// handleHeartbeatResponse marks the follower alive and restarts a stalled
// stream: a probe waiting for an answer is released, and a follower whose
// match lags the log is tested with an empty append, so that lost appends
// cannot stall it forever, whether the window is full or the leader is
// idle (the follower answers with an ack that frees the window, or a
// rejection that sends the leader back to probing).
func (r *Raft) handleHeartbeatResponse(m *raftpb.Message, pr *tracker.Progress) error {
	pr.RecentActive = true
	r.ackRound(m.From, m.Context)
	switch pr.State {
	case tracker.StateProbe:
		pr.MsgAppFlowPaused = false
		if pr.Match < r.raftLog.lastIndex() {
			// The last probe may have been lost while the leader has
			// nothing new to send: probe again, even empty, or an idle
			// leader never learns what the follower lacks (found by the
			// simulator: a learner added to a quiet group stayed empty).
			r.maybeSendAppend(m.From, pr, true)
		}
		r.appendsPending = true
	case tracker.StateReplicate:
		if pr.Match < r.raftLog.lastIndex() {
			r.sendWindowProbe(m.From, pr)
			r.appendsPending = true
		}
	case tracker.StateSnapshot:
		r.stillNeedsSnapshot(m.From, pr)
	}
	return nil
}

// sendWindowProbe sends an empty append at Next-1 to a follower in the
// replicate state; it does not occupy the inflight window.
func (r *Raft) sendWindowProbe(to uint64, pr *tracker.Progress) {
	prev := pr.Next - 1
	prevTerm, err := r.raftLog.term(prev)
	if err != nil {
		// The entries the follower lacks are compacted: probe, which falls
		// back to a snapshot.
		pr.BecomeProbe()
		r.maybeSendAppend(to, pr, true)
		return
	}
	r.sendAppend(to, pr, entryID{term: prevTerm, index: prev}, nil)
}

// forwardProposal sends a follower's proposal to the leader, or refuses it.
func (r *Raft) forwardProposal(m raftpb.Message) error {
	switch {
	case r.lead == None:
		return fmt.Errorf("%w: %w at term %d", ErrProposalDropped, ErrNoLeader, r.term)
	case r.settings.disableProposalForwarding:
		return fmt.Errorf("%w: forwarding is disabled (leader is %d)", ErrProposalDropped, r.lead)
	}
	m.To = r.lead
	r.send(&m)
	return nil
}

// handleUnreachable is a report that a follower could not be reached: stop
// pipelining to it and probe instead.
func (r *Raft) handleUnreachable(pr *tracker.Progress) {
	if pr.State == tracker.StateReplicate {
		pr.BecomeProbe()
	}
}

// isCompactedErr reports whether err says the needed entries are gone.
func isCompactedErr(err error) bool {
	return errors.Is(err, ErrCompacted) || errors.Is(err, ErrUnavailable)
}
