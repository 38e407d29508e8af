package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// validatePeerMessage refuses what no correct peer sends: local-only
// types, messages for someone else, and impossible indexes or terms. It
// changes nothing, so a refused message leaves the node untouched.
func (r *Raft) validatePeerMessage(m *raftpb.Message) error {
	switch {
	case m.Type == raftpb.MsgStorageAppendResp || m.Type == raftpb.MsgStorageApplyResp:
		return r.validateLocalWorkerMessage(*m)
	case m.Type == raftpb.MsgSnapChunkSaved:
		return r.validateChunkSaved(*m)
	case raftpb.IsLocalMsg(m.Type):
		return fmt.Errorf("%w: %s", ErrStepLocalMsg, m.Type)
	case !isPeerMessageType(m.Type):
		return fmt.Errorf("%w: %s", ErrUnknownMessageType, m.Type)
	case (m.Type == raftpb.MsgQuiesce || m.Type == raftpb.MsgQuiesceResp) && !r.quiesce.on:
		return fmt.Errorf("%w: %s with Config.Quiesce off", ErrUnknownMessageType, m.Type)
	case m.To != r.id:
		return fmt.Errorf("%w: to %d, this node is %d", ErrWrongRecipient, m.To, r.id)
	case m.From == r.id && r.isOwnVoteViaWorker(*m):
		return nil
	case m.From == None || m.From == r.id:
		return fmt.Errorf("%w: %s from %d", ErrInvalidMessage, m.Type, m.From)
	case isTermless(m.Type) && m.Term != 0:
		return fmt.Errorf("%w: %s with term %d, want none", ErrInvalidMessage, m.Type, m.Term)
	case m.Term == 0 && m.Type != raftpb.MsgProp && m.Type != raftpb.MsgReadIndex && !isTermless(m.Type):
		return fmt.Errorf("%w: %s without a term", ErrInvalidMessage, m.Type)
	case len(m.Responses) > 0:
		// Only a node's own storage messages carry responses.
		return fmt.Errorf("%w: %s from a peer carries %d responses", ErrInvalidMessage, m.Type, len(m.Responses))
	}
	return r.validateByType(m)
}

// isPeerMessageType reports whether t is a type a peer may send.
func isPeerMessageType(t raftpb.MessageType) bool {
	switch t {
	case raftpb.MsgProp, raftpb.MsgApp, raftpb.MsgAppResp, raftpb.MsgVote,
		raftpb.MsgVoteResp, raftpb.MsgSnap, raftpb.MsgHeartbeat,
		raftpb.MsgHeartbeatResp, raftpb.MsgTransferLeader, raftpb.MsgTimeoutNow,
		raftpb.MsgReadIndex, raftpb.MsgReadIndexResp, raftpb.MsgPreVote,
		raftpb.MsgPreVoteResp, raftpb.MsgSnapOffer, raftpb.MsgSnapChunkReq,
		raftpb.MsgSnapChunk, raftpb.MsgQuiesce, raftpb.MsgQuiesceResp:
		return true
	}
	return false
}

// isTermless reports whether t is a snapshot chunk message, which carries
// no term: chunks are committed data, whatever the term.
func isTermless(t raftpb.MessageType) bool {
	return t == raftpb.MsgSnapChunkReq || t == raftpb.MsgSnapChunk
}

func (r *Raft) validateByType(m *raftpb.Message) error {
	if isChunkPeerMessage(m.Type) {
		return validateChunkTransfer(r.trk, *m) // chunks_validate.go
	}
	switch m.Type {
	case raftpb.MsgProp:
		if len(m.Entries) == 0 {
			return fmt.Errorf("%w: empty proposal", ErrInvalidMessage)
		}
	case raftpb.MsgApp:
		return r.validateAppend(*m)
	case raftpb.MsgAppResp:
		return r.validateAppendResponse(*m)
	case raftpb.MsgVote, raftpb.MsgPreVote:
		if m.LogTerm > m.Term {
			return fmt.Errorf("%w: candidate's last term %d beyond its term %d", ErrInvalidMessage, m.LogTerm, m.Term)
		}
	case raftpb.MsgSnap:
		return validateSnapshot(r.trk, *m)
	case raftpb.MsgReadIndex, raftpb.MsgReadIndexResp:
		if len(m.Entries) != 1 {
			return fmt.Errorf("%w: %s carries %d contexts, want 1", ErrInvalidMessage, m.Type, len(m.Entries))
		}
	case raftpb.MsgHeartbeat:
		return validateHeartbeat(m)
	case raftpb.MsgHeartbeatResp:
		return r.validateHeartbeatResponse(m)
	case raftpb.MsgQuiesce:
		if m.LogTerm > m.Term || m.Commit > m.Index {
			return fmt.Errorf("%w: %s at %d/%d commit %d from term %d", ErrInvalidMessage, m.Type, m.LogTerm, m.Index, m.Commit, m.Term)
		}
	}
	return nil
}

// validateHeartbeat refuses a heartbeat stating a term for its commit index
// that no leader's log holds there: past the leader's own term, or any
// term at index 0, which every log holds with term 0.
func validateHeartbeat(m *raftpb.Message) error {
	if m.LogTerm > m.Term || (m.Commit == 0 && m.LogTerm != 0) {
		return fmt.Errorf("%w: heartbeat stating term %d at commit %d from term %d", ErrInvalidMessage, m.LogTerm, m.Commit, m.Term)
	}
	return nil
}

// validateHeartbeatResponse refuses an answer to a read round or a tick
// the leader has not reached: it would confirm reads no quorum confirmed.
func (r *Raft) validateHeartbeatResponse(m *raftpb.Message) error {
	if r.state != StateLeader || m.Term != r.term {
		return nil
	}
	c, ok := raftpb.DecodeHeartbeatContext(m.Context)
	if ok && (c.Round > r.readOnly.CurrentRound() || c.Tick > r.leaderTick) {
		return fmt.Errorf("%w: heartbeat answer for round %d at tick %d, leader is at round %d tick %d",
			ErrInvalidMessage, c.Round, c.Tick, r.readOnly.CurrentRound(), r.leaderTick)
	}
	return nil
}

// validateAppend checks that an append's entries follow its previous entry
// without gaps, with terms that never go backwards nor past the leader's.
func (r *Raft) validateAppend(m raftpb.Message) error {
	if m.LogTerm > m.Term {
		return fmt.Errorf("%w: append after %d/%d from term %d", ErrInvalidMessage, m.LogTerm, m.Index, m.Term)
	}
	if m.Index == 0 && m.LogTerm != 0 {
		return fmt.Errorf("%w: append after index 0 with term %d", ErrInvalidMessage, m.LogTerm)
	}
	if len(m.Entries) > 0 && m.Entries[len(m.Entries)-1].Term > m.Term {
		return fmt.Errorf("%w: entry term %d beyond message term %d", ErrInvalidMessage, m.Entries[len(m.Entries)-1].Term, m.Term)
	}
	if len(m.Entries) > 0 && m.Entries[0].Index == 0 {
		return fmt.Errorf("%w: %w: entries at index 0, as the sender's cleared array holds them "+
			"(a transport that keeps a message past its sender's Advance copies its Entries)", ErrInvalidMessage, ErrMalformedEntries)
	}
	if err := checkEntriesContiguous(entryID{term: m.LogTerm, index: m.Index}, m.Entries); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if m.Term >= r.term {
		return r.checkNoCommittedConflict(m.Entries)
	}
	return nil
}

// checkNoCommittedConflict refuses entries that contradict committed ones
// (raftLog.committedConflict), before the message changes anything.
func (r *Raft) checkNoCommittedConflict(ents []raftpb.Entry) error {
	if err := r.raftLog.committedConflict(ents); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	return nil
}

// validateAppendResponse refuses an acknowledgement of entries the leader
// never had: counting it could commit entries that do not exist.
func (r *Raft) validateAppendResponse(m raftpb.Message) error {
	if r.state != StateLeader || m.Term != r.term {
		return nil
	}
	last := r.raftLog.lastIndex()
	switch {
	case m.Index > last:
		return fmt.Errorf("%w: acknowledgement of index %d beyond last index %d", ErrInvalidMessage, m.Index, last)
	case m.Reject && m.RejectHint > m.Index:
		return fmt.Errorf("%w: rejection hint %d beyond rejected index %d", ErrInvalidMessage, m.RejectHint, m.Index)
	case raftpb.IsShortLogReport(m):
		return r.validateShortLogReport(m)
	}
	return nil
}

// validateShortLogReport refuses a short-log report that answers no
// heartbeat of this leader (its echoed context is not one it sent) or
// whose log does not end below the commit index it was told.
func (r *Raft) validateShortLogReport(m raftpb.Message) error {
	c, ok := raftpb.DecodeHeartbeatContext(m.Context)
	switch {
	case !ok || c.Round > r.readOnly.CurrentRound() || c.Tick > r.leaderTick:
		return fmt.Errorf("%w: short-log report echoing %d context bytes, not a heartbeat of this leader", ErrInvalidMessage, len(m.Context))
	case m.RejectHint >= m.Index:
		return fmt.Errorf("%w: short-log report of last index %d, not below the claimed %d", ErrInvalidMessage, m.RejectHint, m.Index)
	case m.Commit > m.RejectHint:
		return fmt.Errorf("%w: short-log report of commit index %d beyond its last index %d", ErrInvalidMessage, m.Commit, m.RejectHint)
	}
	return nil
}
