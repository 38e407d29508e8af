package sim

import (
	"errors"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/confchange"
	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
)

// handleReadyAsync handles a Ready of the asynchronous storage mode: it
// carries only Messages; the loop queues those for the append and apply
// workers (whose latency onReadyAsync draws) and sends the rest. The node
// goes on at once.
func (s *Sim) handleReadyAsync(n *node) {
	if err := n.loop.HandleReady(); err != nil {
		s.loopFailed(n, err)
		return
	}
	s.readyDone(n)
}

// onReadyAsync takes what the simulator observes of an asynchronous
// Ready, and draws when each worker's job completes: a write is queued on
// the disk (with its records, which a crash may tear), an apply on the
// apply worker's clock.
func (h *loopHost) onReadyAsync(rd raft.Ready) {
	s, n := h.s, h.n
	if len(rd.Entries) > 0 || len(rd.CommittedEntries) > 0 || !rd.HardState.IsEmpty() ||
		!rd.Snapshot.IsEmpty() || len(rd.MessagesAfterPersist) > 0 {
		s.failf(ClassRefusal, "node %d in the asynchronous mode handed out a Ready with more than Messages:%s", n.id, describeReady(&rd))
		return
	}
	s.onReady(n, &rd)
	for _, m := range rd.Messages {
		switch m.To {
		case raft.LocalAppendThread:
			s.sawAppended(n, m.Entries, m.Commit)
			w := &diskWrite{entries: m.Entries, hard: m.StorageAppendHardState()}
			if m.Snapshot != nil {
				snap := s.assemble(n, *m.Snapshot)
				w.snap = &snap
			}
			n.disk.enqueue(s.now, s.diskRNG.between(0, s.opts.DiskLatency), w)
			s.stalledWriteQueued(n, w)
		case raft.LocalApplyThread:
			s.sawApplyHandout(n, m.Entries)
			at := s.now + uint64(s.diskRNG.between(0, s.opts.DiskLatency))
			if k := len(n.applies); k > 0 {
				at = max(at, n.applies[k-1].at)
			}
			n.applies = append(n.applies, applyJob{at: at})
		}
	}
}

// completeAppend completes the append worker's oldest write, now durable:
// the loop saves it (see loopHost.Save) and delivers its responses.
func (s *Sim) completeAppend(n *node) {
	if _, err := n.loop.RunAppend(); err != nil {
		s.loopFailed(n, err)
	}
}

// completeApply completes the apply worker's oldest job: the loop applies
// what its MsgStorageApply carries, a snapshot or committed entries, and
// delivers its responses.
func (s *Sim) completeApply(n *node) {
	if _, err := n.loop.RunApply(); err != nil {
		s.loopFailed(n, err)
	}
}

// stepNode steps a message delivered to n. A refusal of a message a
// correct peer sent is a failure of the contract, but for the refusals
// documented for requests the recipient cannot serve in its state.
func (s *Sim) stepNode(n *node, m raftpb.Message) {
	var leadTerm uint64
	if m.Type == raftpb.MsgReadIndex || m.Type == raftpb.MsgTransferLeader {
		if st := n.rn.BasicStatus(); st.RaftState == raft.StateLeader {
			leadTerm = st.Term
		}
	}
	err := n.rn.Step(m)
	s.checkInvariantsAfterStep(n, m)
	s.sawDelivered(n, m, err, leadTerm)
	if err != nil && !typedError(err) {
		s.failf(ClassUntyped, "node %d refused %v with an untyped error: %v", n.id, m, err)
		return
	}
	if err != nil && !s.refusalAllowed(m, err) {
		s.failf(ClassRefusal, "node %d refused %v, which a correct peer sent: %v", n.id, m, err)
		return
	}
	if m.Type == raftpb.MsgSnap {
		s.reportSnapshot(m.From, report{to: n.id, snap: true})
	}
}

// refusalAllowed reports whether err is a documented refusal of the
// request m: a forwarded proposal, read or transfer the recipient cannot
// serve now. (A late message from a node removed since is ignored, not
// refused.)
func (s *Sim) refusalAllowed(m raftpb.Message, err error) bool {
	switch m.Type {
	case raftpb.MsgProp:
		return errors.Is(err, raft.ErrProposalDropped)
	case raftpb.MsgReadIndex:
		return errors.Is(err, raft.ErrTransferInProgress) || errors.Is(err, raft.ErrTooManyPendingReads) ||
			errors.Is(err, raft.ErrNoLeader)
	case raftpb.MsgTransferLeader:
		return errors.Is(err, raft.ErrTransferRefused) || errors.Is(err, raft.ErrNotLeader)
	}
	return false
}

// isMember reports whether id is in cs, in any role.
func isMember(cs raftpb.ConfState, id uint64) bool {
	for _, ids := range [][]uint64{cs.Voters, cs.VotersOutgoing, cs.Learners, cs.LearnersNext} {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
	}
	return false
}

// typedErrors are the sentinels every refusal of the library wraps.
var typedErrors = []error{
	core.ErrCompacted, core.ErrSnapOutOfDate, core.ErrUnavailable, core.ErrSnapshotTemporarilyUnavailable,
	core.ErrMalformedEntries, core.ErrCommittedConflict, core.ErrProposalDropped, core.ErrNoLeader,
	core.ErrUncommittedTailFull, core.ErrStepLocalMsg, core.ErrUnknownMessageType, core.ErrWrongRecipient,
	core.ErrInvalidMessage, core.ErrNotLeader, core.ErrLearnerCannotCampaign, core.ErrLeasePromised,
	core.ErrLostLog, core.ErrStorageStalled, core.ErrContractBroken,
	core.ErrPendingConfChange, core.ErrTransferRefused, core.ErrTransferInProgress, core.ErrInvalidConfChange,
	core.ErrUnknownTransition, core.ErrNotAMember, core.ErrReadAborted, core.ErrReadLagging,
	core.ErrTooManyPendingReads, core.ErrInvalidConfig, confchange.ErrInvalidConfig, confchange.ErrSyntax,
	confchange.ErrRemovedAllVoters, confchange.ErrTooManyVoters, confchange.ErrAlreadyJoint, confchange.ErrNotJoint,
	confchange.ErrZeroVoterJoint, confchange.ErrVoterAndLearner, confchange.ErrUnknownChangeType,
	confchange.ErrInvalidNodeID,
}

// typedError reports whether err wraps one of the library's sentinels.
func typedError(err error) bool {
	for _, t := range typedErrors {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
