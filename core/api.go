package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// Propose proposes data for the log. On the leader it returns the index and
// term the entry was given: the application can match the entry when it
// commits, or learn that it was overwritten (a committed entry at that
// index with another term). On a follower the proposal is forwarded to the
// leader and index and term are zero. A refused proposal returns an error
// wrapping ErrProposalDropped that says why.
func (r *Raft) Propose(data []byte) (index, term uint64, err error) {
	r.wake(true)
	if r.state == StateLeader {
		// The log copies the entry, so it can live on the stack here.
		var one [1]raftpb.Entry
		one[0] = raftpb.Entry{Type: raftpb.EntryNormal, Data: data}
		return r.proposeOnLeader(one[:])
	}
	return r.ProposeEntries([]raftpb.Entry{{Type: raftpb.EntryNormal, Data: data}})
}

// ProposeEntries proposes a batch of entries as one unit: all are appended
// or none. It returns the index of the last entry and its term on the
// leader. The entries' Term and Index are assigned by the leader; the
// slice is retained and must not be modified by the caller.
func (r *Raft) ProposeEntries(ents []raftpb.Entry) (index, term uint64, err error) {
	r.wake(true)
	if len(ents) == 0 {
		return 0, 0, fmt.Errorf("%w: empty proposal", ErrProposalDropped)
	}
	if r.state != StateLeader {
		return 0, 0, r.step(&raftpb.Message{Type: raftpb.MsgProp, From: r.id, Entries: ents})
	}
	return r.proposeOnLeader(ents)
}

// proposeOnLeader appends a proposal on the leader and returns the index
// of its last entry and the term.
func (r *Raft) proposeOnLeader(ents []raftpb.Entry) (index, term uint64, err error) {
	last, err := r.appendProposal(ents)
	if err != nil {
		return 0, 0, err
	}
	return last, r.term, nil
}

// ReportUnreachable tells the leader that the last message to id could not
// be delivered; replication to id falls back to probing.
func (r *Raft) ReportUnreachable(id uint64) {
	r.wake(false)
	r.step(&raftpb.Message{Type: raftpb.MsgUnreachable, From: id})
}

// ReportSnapshot tells the leader how sending a snapshot to id ended:
// failed reports whether it failed.
func (r *Raft) ReportSnapshot(id uint64, failed bool) {
	r.wake(false)
	r.step(&raftpb.Message{Type: raftpb.MsgSnapStatus, From: id, Reject: failed})
}

// BasicStatus is a cheap, allocation-free view of a node.
type BasicStatus struct {
	ID uint64
	raftpb.HardState
	SoftState
	Applied uint64
	// LeadTransferee is the node a leadership transfer is handing over
	// to, or None.
	LeadTransferee uint64
	// Recovering is set while a node booted with Config.Recovering may not
	// vote or stand.
	Recovering bool
	// Quiesced is set while the node sleeps in a quiesced group
	// (Config.Quiesce): a host need not tick it until it wakes.
	Quiesced bool
}

// BasicStatus returns the node's basic status without allocating.
func (r *Raft) BasicStatus() BasicStatus {
	return BasicStatus{
		ID:        r.id,
		HardState: r.hardState(),
		SoftState: r.softState(),
		Applied:   r.raftLog.applied,

		LeadTransferee: r.transferee(),
		Recovering:     r.recovering,
		Quiesced:       r.quiesce.asleep,
	}
}
