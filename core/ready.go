package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// Ready is a batch of work the node hands to the application: what to
// persist, what to send and what to apply. The application handles a Ready
// in this order: persist HardState, Entries and Snapshot (one fsync when
// MustSync); send Messages (they may leave before the write completes);
// once the write is durable, send MessagesAfterPersist; apply Snapshot and
// then CommittedEntries; then call Advance.
//
// Ownership: every slice in a Ready belongs to the application from the
// moment Ready returns, with exceptions that start at the next Advance.
// In the synchronous loop the node then takes back the arrays behind
// Messages and MessagesAfterPersist (Advance says they were sent), so
// that no node allocates them per Ready nor keeps them between Readys:
// an application that keeps messages past Advance (a transport queue)
// copies the Message values, as append(queue, rd.Messages...) does. With
// Config.ReuseEntryArrays it also takes back the arrays behind the
// entries it hands out (Entries, CommittedEntries, the Entries of its
// messages, which are its log's arrays): once every entry in one is
// durable and applied, it is cleared and filled with the entries the node
// appends next, so the application reads no entry slice after Advance
// and copies what it keeps (slices.Clone(m.Entries)); without it (the
// default) entry slices stay valid, and may be applied or encoded on
// another goroutine after Advance. The Entry values and their payloads
// are shared with the node's log, with each other and with the caller's
// proposals: keep and read them, but never modify them.
type Ready struct {
	// SoftState is non-nil when the leader or this node's role changed.
	SoftState *SoftState
	// HardState is the state to persist, or empty when unchanged.
	HardState raftpb.HardState
	// Entries are to be appended to stable storage, replacing any
	// persisted entries at the same indexes and after them.
	Entries []raftpb.Entry
	// Snapshot, when not empty, is to be persisted and applied; it
	// replaces the application's state and the log up to its index.
	Snapshot raftpb.Snapshot
	// CommittedEntries are to be applied, in order, after Snapshot.
	CommittedEntries []raftpb.Entry
	// Messages may be sent at once, before this Ready's writes are
	// durable (the leader's appends go out in parallel with its own write,
	// thesis §10.2.1).
	Messages []raftpb.Message
	// MessagesAfterPersist may be sent only once this Ready's HardState,
	// Entries and Snapshot are durable: they acknowledge them (append
	// responses and votes).
	MessagesAfterPersist []raftpb.Message
	// LocalMessages are, in the synchronous loop, the work of the
	// application's snapshot worker in the chunked snapshot transfer
	// (Config.SnapshotChunkSize), addressed to LocalSnapshotThread: chunk
	// requests to serve (MsgSnapChunkReq) and received chunks to persist
	// (MsgSnapChunk). They never go to the network, and Messages and
	// MessagesAfterPersist never hold them: in the synchronous loop those
	// two hold messages for peers only. The worker may do this work at
	// any time, in order, before or after Advance; it sends a served chunk
	// to the network, and steps a saved chunk's MsgSnapChunkSaved once the
	// chunk is durable (see LocalSnapshotThread). In the asynchronous mode
	// LocalMessages is always empty: every local worker's messages are in
	// Messages, routed by their To.
	LocalMessages []raftpb.Message
	// ReadStates are reads released since the last Ready: serve each once
	// the applied index reaches its Index (or report its Err).
	ReadStates []ReadState
	// MustSync reports whether the write must be made durable (fsync)
	// before MessagesAfterPersist are sent: it is false only when nothing
	// but the commit index changed.
	MustSync bool
}

// readyState is what the node remembers between Ready and Advance.
type readyState struct {
	prevSoft SoftState
	prevHard raftpb.HardState

	// What Readys handed out since the last Advance, which Advance
	// acknowledges: the last entry and snapshot to persist, and the last
	// entry to apply and the payload bytes up to it.
	lastEntry  entryID
	snapIndex  uint64
	snapTerm   uint64
	applyIndex uint64
	applyBytes uint64

	// self holds the messages a Ready addressed to this node itself (its
	// own vote, its acknowledgement of its own entries), which Advance
	// steps once the Ready's writes are durable (a tick between Ready and
	// Advance leaves them be). Empty, its array is kept for the next ones
	// until a tick (or, with a GroupCache, goes back to the cache at once).
	self []raftpb.Message
}

func (s *readyState) init(r *Raft) {
	s.prevSoft = r.softState()
	s.prevHard = r.hardState()
}

// owePersistedChange makes the next Ready hand out the node's hard state
// if it differs from persisted, what storage holds: a change made at
// boot that must reach the disk (a recovering node's move to a new term).
func (s *readyState) owePersistedChange(persisted raftpb.HardState) {
	s.prevHard = persisted
}

// HasReady reports whether Ready would return anything. It is a pure
// query: it changes nothing, so it may be called any number of times.
// The cheapest answers come first: queued messages (most Readys hold
// some), then what an idle node checks and finds unchanged.
func (r *Raft) HasReady() bool {
	return r.messagesPending() || r.stateToHandOut() ||
		r.state == StateLeader && (r.appendsPending && r.appendsWouldSend() || r.readOnly.NeedsRound() && r.readsWouldFlush())
}

// stateToHandOut reports whether the next Ready hands out state, not
// only messages: a changed role, leader or hard state, released reads,
// a snapshot or entries to persist, a snapshot or committed entries to
// apply.
func (r *Raft) stateToHandOut() bool {
	if r.softState() != r.ready.prevSoft || r.hardState() != r.ready.prevHard {
		return true
	}
	if r.cold != nil && (r.queuedReads().numStates() > 0 || r.snapToApply() != nil) {
		return true
	}
	l := &r.raftLog
	return l.hasNextUnstableSnapshot() || l.hasNextUnstableEnts() ||
		l.applying < l.committed && r.mayHandOutCommitted() && l.hasNextCommittedEnts(r.applyUnstable())
}

// mayHandOutCommitted reports whether committed entries may be handed out
// to apply: not while a snapshot waits to be applied or is applying.
func (r *Raft) mayHandOutCommitted() bool {
	a := r.snapshotsToApply()
	return a == nil || a.toApply == nil && a.applying == 0
}

// Ready returns the work accumulated since the last Ready. Every Ready must
// be followed, after the work is done, by Advance.
func (r *Raft) Ready() (rd Ready) {
	r.ReadyInto(&rd)
	return rd
}

// ReadyInto is Ready writing the Ready into *rd, every field of it,
// instead of returning it: a loop saves copying a Ready, which is large
// (some 330 bytes), on its way out, and may pass the same variable each
// time.
func (r *Raft) ReadyInto(rd *Ready) {
	if !r.readyHoldsOnlyMessages() {
		*rd = r.fullReady()
		return
	}
	*rd = Ready{}
	r.messagesReady(rd)
	if assertInvariants {
		r.checkNothingBesideMessages(rd)
	}
}

// readyHoldsOnlyMessages reports whether the next Ready of the synchronous
// loop holds nothing but Messages, as an idle group's heartbeats and their
// answers do: nothing to persist, apply or restore, no read to release or
// start, no append to send, no acknowledgement waiting for durability, no
// role change. Such a Ready is built without the full computation
// (messagesReady); the tickraft_invariants build then runs the full
// computation and requires it to find nothing left
// (checkNothingBesideMessages).
func (r *Raft) readyHoldsOnlyMessages() bool {
	if r.settings.asyncStorage || len(r.out.afterAppend) > 0 || r.cold != nil && len(r.cold.local) > 0 {
		return false
	}
	if r.state == StateLeader && (r.appendsPending || r.readOnly.NeedsRound() && r.readsWouldFlush()) {
		return false
	}
	return !r.stateToHandOut()
}

// messagesReady fills in the empty rd the Ready of a node whose only work
// is its Messages (readyHoldsOnlyMessages): what fullReady builds then,
// without its steps that would find nothing (and without copying a
// Ready, which is large, on its way out).
func (r *Raft) messagesReady(rd *Ready) {
	rd.Messages = r.out.takeMsgs()
	r.out.handedOut(rd.Messages, nil, r.settings.cache)
	r.noteStorage(false)
	if r.checkedContract() != nil {
		r.checkedContract().recordReady(rd)
	}
}

// checkNothingBesideMessages builds, in the tickraft_invariants build,
// the full Ready right after the fast path (messagesReady) built rd, and
// panics unless it holds nothing at all: the fast path handed out every
// message and left no other work behind (no append or heartbeat the full
// computation would add, nothing to persist, apply or release).
func (r *Raft) checkNothingBesideMessages(rd *Ready) {
	rest := r.fullReady()
	if rest.SoftState != nil || !rest.HardState.IsEmpty() || rest.MustSync || len(rest.Entries) > 0 ||
		!rest.Snapshot.IsEmpty() || len(rest.CommittedEntries) > 0 || len(rest.MessagesAfterPersist) > 0 ||
		len(rest.LocalMessages) > 0 || len(rest.ReadStates) > 0 || len(rest.Messages) > 0 {
		panic(fmt.Sprintf("invariant violated: a Ready built as holding only its %d messages left work behind: %d messages, %d entries, %d committed, %d after persist, %d local, %d reads, snapshot %d, soft %v, hard %v",
			len(rd.Messages), len(rest.Messages), len(rest.Entries), len(rest.CommittedEntries), len(rest.MessagesAfterPersist), len(rest.LocalMessages),
			len(rest.ReadStates), rest.Snapshot.Metadata.Index, rest.SoftState, rest.HardState))
	}
}

// fullReady builds the next Ready, whatever it holds.
func (r *Raft) fullReady() Ready {
	r.flushAppends()
	r.flushReads()
	rd := Ready{
		Entries:       r.raftLog.nextUnstableEnts(),
		Messages:      r.out.takeMsgs(),
		LocalMessages: r.takeLocal(),
	}
	if snap := r.raftLog.nextUnstableSnapshot(); snap != nil {
		rd.Snapshot = *snap
	}
	rd.CommittedEntries = r.takeCommittedEntries()
	rd.ReadStates = r.queuedReads().takeStates()
	if r.softState() != r.ready.prevSoft {
		ss := r.softState()
		rd.SoftState = &ss
		r.ready.prevSoft = ss
	}
	if hs := r.hardState(); hs != r.ready.prevHard {
		rd.HardState = hs
		rd.MustSync = hs.Term != r.ready.prevHard.Term || hs.Vote != r.ready.prevHard.Vote
		r.ready.prevHard = hs
	}
	rd.MustSync = rd.MustSync || len(rd.Entries) > 0 || !rd.Snapshot.IsEmpty()
	if r.settings.asyncStorage {
		afterPersist := r.out.takeAfterAppend()
		r.acceptReady(&rd)
		r.ready.forgetAcks() // the workers acknowledge, not Advance
		r.asyncReady(&rd, afterPersist)
		return rd
	}
	rd.MessagesAfterPersist = r.takeMessagesAfterAppend()
	r.out.handedOut(rd.Messages, rd.MessagesAfterPersist, r.settings.cache)
	r.acceptReady(&rd)
	if r.checkedContract() != nil {
		r.checkedContract().recordReady(&rd)
	}
	return rd
}

// forgetAcks drops what Advance would acknowledge: in the asynchronous
// mode the storage workers' responses do it.
func (s *readyState) forgetAcks() {
	*s = readyState{prevSoft: s.prevSoft, prevHard: s.prevHard, self: s.self}
}

// acksNothing reports whether Advance has nothing to acknowledge: no
// Ready since the last one handed out entries or a snapshot to persist,
// nor committed entries to apply.
func (s *readyState) acksNothing() bool {
	return s.lastEntry.index == 0 && s.snapIndex == 0 && s.applyIndex == 0
}

// addSelf keeps a message a Ready addressed to this node, for Advance to
// step; the cache c, if not nil, lends the array.
func (s *readyState) addSelf(m raftpb.Message, c *GroupCache) {
	if s.self == nil && c != nil {
		s.self = c.takeArray(1)
	}
	s.self = append(s.self, m)
}

// takeSelf returns the messages addressed to this node, for Advance to
// step.
func (s *readyState) takeSelf() []raftpb.Message {
	self := s.self
	s.self = nil
	return self
}

// keepSelf takes back the array takeSelf returned, once its messages are
// stepped, cleared, for the next ones (unless new ones came meanwhile),
// or gives it back to the cache c if there is one.
func (s *readyState) keepSelf(self []raftpb.Message, c *GroupCache) {
	if c != nil {
		c.putArray(self)
		return
	}
	if s.self != nil || cap(self) == 0 || cap(self) > maxMsgsCapHint {
		return
	}
	clear(self)
	s.self = self[:0]
}

// dropSpareSelf releases the kept array when it holds nothing: a tick
// passed. Messages Advance has yet to step (the node's own vote among
// them) stay.
func (s *readyState) dropSpareSelf() {
	if s.self != nil && len(s.self) == 0 {
		s.self = nil
	}
}

// applyUnstable reports whether committed entries not yet durable on this
// node may be handed out to apply. In the synchronous loop they may: the
// application persists a Ready's entries before applying its committed
// ones. In the asynchronous mode they may not: the apply worker could run
// ahead of the append worker and leave a state machine ahead of the
// durable log after a crash.
func (r *Raft) applyUnstable() bool { return !r.settings.asyncStorage }

// takeCommittedEntries returns the next committed entries to apply within
// the applying budget. A storage error is logged and the entries are
// handed out on a later Ready.
func (r *Raft) takeCommittedEntries() []raftpb.Entry {
	if !r.mayHandOutCommitted() {
		return nil
	}
	ents, err := r.raftLog.nextCommittedEnts(r.applyUnstable())
	if err != nil {
		r.log(LevelError, "cannot read committed entries from storage", errAttr(err))
		return nil
	}
	return ents
}

// takeMessagesAfterAppend splits the messages that wait for durability
// into those for peers (returned) and those for this node itself, which
// Advance steps.
func (r *Raft) takeMessagesAfterAppend() []raftpb.Message {
	after := r.out.takeAfterAppend()
	out := after[:0] // filtered in place: the slice is handed out
	for _, m := range after {
		if m.To == r.id {
			r.ready.addSelf(m, r.settings.cache)
			continue
		}
		out = append(out, m)
	}
	clear(after[len(out):])
	if len(out) == 0 {
		return nil
	}
	return out
}

// acceptReady records what rd hands out, so that Advance acknowledges
// exactly that, and so that the next Ready does not hand it out again.
func (r *Raft) acceptReady(rd *Ready) {
	if n := len(rd.Entries); n > 0 {
		last := rd.Entries[n-1]
		r.ready.lastEntry = entryID{term: last.Term, index: last.Index}
	}
	if !rd.Snapshot.IsEmpty() {
		r.ready.snapIndex, r.ready.snapTerm = rd.Snapshot.Metadata.Index, rd.Snapshot.Metadata.Term
	}
	r.raftLog.acceptUnstable()
	r.noteStorage(false)
	if n := len(rd.CommittedEntries); n > 0 {
		size := payloadSize(rd.CommittedEntries)
		r.ready.applyIndex = rd.CommittedEntries[n-1].Index
		r.ready.applyBytes += size
		r.raftLog.acceptApplying(r.ready.applyIndex, size, r.applyUnstable())
		if r.state == StateLeader {
			r.leader.uncommitted.release(rd.CommittedEntries, size, r.term)
		}
	}
}

// Advance tells the node that the work of every Ready handed out since the
// last Advance is done: written, sent and applied.
func (r *Raft) Advance() {
	if r.checkedContract() != nil {
		if err := r.checkedContract().verifyAdvance(r.raftLog.storage); err != nil {
			panic(contractMisuse(err))
		}
	}
	s := &r.ready
	if s.acksNothing() && len(s.self) == 0 {
		// Only messages were handed out (an idle group's heartbeats):
		// nothing to acknowledge, nothing addressed to itself to step.
		r.out.release(r.settings.cache)
		return
	}
	if s.snapIndex != 0 || s.lastEntry.index != 0 {
		m := raftpb.Message{Type: raftpb.MsgStorageAppendResp, Index: s.lastEntry.index, LogTerm: s.lastEntry.term}
		if s.snapIndex != 0 {
			m.Snapshot = &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: s.snapIndex, Term: s.snapTerm}}
		}
		r.handleStorageAppendResp(m)
	}
	if s.applyIndex != 0 {
		r.onApplied(s.applyIndex, s.applyBytes)
	}
	r.out.release(r.settings.cache)
	self := s.takeSelf()
	s.forgetAcks()
	for i := range self {
		r.step(&self[i])
	}
	s.keepSelf(self, r.settings.cache)
}
