package core

import (
	"fmt"

	"github.com/tickraft/raft/confchange"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// The errors of the membership math (package confchange), wrapped by the
// errors of ProposeConfChange and ApplyConfChange, and, for
// ErrInvalidMembership, by NewRaft or a snapshot whose ConfState is
// impossible.
var (
	ErrRemovedAllVoters  = confchange.ErrRemovedAllVoters
	ErrTooManyVoters     = confchange.ErrTooManyVoters
	ErrAlreadyJoint      = confchange.ErrAlreadyJoint
	ErrNotJoint          = confchange.ErrNotJoint
	ErrZeroVoterJoint    = confchange.ErrZeroVoterJoint
	ErrVoterAndLearner   = confchange.ErrVoterAndLearner
	ErrUnknownChangeType = confchange.ErrUnknownChangeType
	ErrInvalidNodeID     = confchange.ErrInvalidNodeID
	ErrInvalidMembership = confchange.ErrInvalidConfig
)

// ProposeConfChange proposes a membership change in either form. The
// leader refuses it with an error wrapping ErrProposalDropped and saying
// why: ErrPendingConfChange while another change is appended but not yet
// applied (one change at a time); ErrInvalidConfChange when its data does
// not decode; ErrUnknownTransition for a transition it does not know; or
// one of package confchange's errors (ErrTooManyVoters, ErrAlreadyJoint,
// ErrRemovedAllVoters, ...) when the membership math refuses it against
// the current configuration. A change with an item naming node 0 (None)
// is refused whole with ErrInvalidNodeID, its other items included; etcd
// raft would skip that item and apply the rest. A proposal forwarded by a
// follower gets the same checks on the leader.
func (r *Raft) ProposeConfChange(cc raftpb.ConfChangeI) (index, term uint64, err error) {
	return r.ProposeEntries([]raftpb.Entry{confChangeEntry(cc)})
}

// checkProposedConfChanges refuses, on the leader, a batch whose conf
// changes cannot apply: one while another is pending (one at a time), more
// than one in the batch, data that does not decode, or a change the
// membership math refuses against the configuration it will apply to
// (with one change pending at most, that is the current one).
func (r *Raft) checkProposedConfChanges(ents []raftpb.Entry) error {
	var found bool
	for i := range ents {
		if !ents[i].IsConfChange() {
			continue
		}
		switch {
		case r.leader.pendingConfIndex > r.raftLog.applied:
			return fmt.Errorf("%w: index %d not yet applied", ErrPendingConfChange, r.leader.pendingConfIndex)
		case found:
			return fmt.Errorf("%w: two in one proposal", ErrPendingConfChange)
		}
		found = true
		cc, err := ents[i].ConfChange()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfChange, err)
		}
		if _, _, err := r.computeConfChange(cc.AsV2()); err != nil {
			return err
		}
	}
	return nil
}

// confChangeEntry encodes a conf change as the log entry that carries it.
func confChangeEntry(cc raftpb.ConfChangeI) raftpb.Entry {
	if v1, ok := cc.AsV1(); ok {
		return raftpb.Entry{Type: raftpb.EntryConfChange, Data: v1.Marshal()}
	}
	v2 := cc.AsV2()
	return raftpb.Entry{Type: raftpb.EntryConfChangeV2, Data: v2.Marshal()}
}

// computeConfChange computes, without changing anything, the configuration
// that applying cc would produce.
func (r *Raft) computeConfChange(cc raftpb.ConfChangeV2) (tracker.Config, tracker.ProgressMap, error) {
	if cc.Transition > raftpb.ConfChangeTransitionJointExplicit || cc.Transition < 0 {
		return tracker.Config{}, nil, fmt.Errorf("%w: %v", ErrUnknownTransition, cc.Transition)
	}
	changer := confchange.Changer{Tracker: r.changeTracker(), LastIndex: r.raftLog.lastIndex(),
		MaxInflight: r.settings.maxInflight, MaxInflightBytes: r.settings.maxInflightBytes}
	if cc.LeaveJoint() {
		return changer.LeaveJoint()
	}
	if autoLeave, ok := cc.EnterJoint(); ok {
		return changer.EnterJoint(autoLeave, cc.Changes...)
	}
	return changer.Simple(cc.Changes...)
}

// changeTracker returns the tracker a configuration change starts from:
// the node's own on a leader; on any other node, which holds its
// configuration without Progress, a copy given a fresh Progress for every
// member, which the membership math needs to tell members from newcomers
// (the copy's array is its own).
func (r *Raft) changeTracker() tracker.ProgressTracker {
	t := r.trk
	if !t.Tracking() {
		t.ResetProgress(r.raftLog.lastIndex() + 1)
	}
	return t
}

// ApplyConfChange applies a committed membership change and returns the
// new configuration. The application calls it when it applies the entry
// that carries cc. A change the membership math refuses returns an error
// and changes nothing; the refusal is the same on every member, so their
// configurations stay equal.
//
// A change with an item naming node 0 (None, "no node") is refused whole
// with ErrInvalidNodeID: none of its items is applied. etcd raft instead
// skips such an item and applies the others, because etcd's server zeroes
// the node ID of an item it decides not to apply. Here the leader refuses
// such a proposal, so only an entry written by another library or an
// application that rewrites changes meets this rule; an application that
// decides not to apply an item leaves it out of cc.Changes (the same
// decision on every member) instead of zeroing its ID.
func (r *Raft) ApplyConfChange(cc raftpb.ConfChangeI) (raftpb.ConfState, error) {
	cfg, prs, err := r.computeConfChange(cc.AsV2())
	if err != nil {
		return raftpb.ConfState{}, err
	}
	r.wake(false)
	return r.switchToConfig(cfg, prs), nil
}

// maybeAutoLeave makes the leader propose leaving a joint configuration
// that asked for it once the joint configuration is applied (thesis §4.3).
func (r *Raft) maybeAutoLeave() {
	if r.state != StateLeader || !r.trk.AutoLeave || !r.trk.Voters.IsJoint() {
		return
	}
	if r.leader.pendingConfIndex > r.raftLog.applied {
		return
	}
	e := confChangeEntry(raftpb.ConfChangeV2{})
	r.appendEntry(e)
	r.leader.confPending(r.raftLog.lastIndex())
}

// reapplyConfChanges applies, at boot, the conf changes among the entries
// after the storage's snapshot up to applied: the application applied
// them before it restarted, so they are part of the membership, but the
// storage's ConfState is the snapshot's, and entries up to applied are
// not handed out again. A change the membership math refuses is skipped,
// as the application's loop skipped it. The storage may keep entries
// before its snapshot (a snapshot taken without compacting the log up to
// it): those are already in the snapshot's ConfState, and applying them
// again would move the membership back (found by the simulator: a joint
// configuration restored from a snapshot at 32 over a log from 17 left
// and re-entered joint, losing a voter of its outgoing half).
func (r *Raft) reapplyConfChanges(applied uint64) error {
	snap, err := r.raftLog.snapshot()
	if err != nil {
		// Without the snapshot's index the changes it holds would be
		// applied again on top of its ConfState.
		return fmt.Errorf("raft: reading the storage's snapshot, after which the applied conf changes are replayed: %w", err)
	}
	lo := max(r.raftLog.firstIndex(), snap.Metadata.Index+1)
	err = r.raftLog.scan(lo, applied+1, 1<<20, func(ents []raftpb.Entry) (bool, error) {
		for _, e := range ents {
			cc, err := e.ConfChange()
			if err != nil {
				return false, fmt.Errorf("raft: applied entry %d: %w", e.Index, err)
			}
			if cc != nil {
				_, _ = r.ApplyConfChange(cc)
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("raft: replaying the conf changes applied up to %d: %w", applied, err)
	}
	return nil
}
