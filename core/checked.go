package core

import (
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/tickraft/raft/raftpb"
)

// ErrContractBroken is wrapped by every *ContractError.
var ErrContractBroken = errors.New("raft: the application broke the Ready contract")

// ContractError names a misuse the checked mode (Config.CheckContract)
// caught: the application acknowledged what it had not persisted, or
// modified a payload it shares with the node. In the synchronous loop
// Advance panics with it; in the asynchronous mode Step returns it for the
// acknowledgement and changes nothing.
type ContractError struct {
	// What says what was found and what the contract asks.
	What string
}

// Error says what the application did wrong.
func (e *ContractError) Error() string { return fmt.Sprintf("%v: %s", ErrContractBroken, e.What) }

// Unwrap returns ErrContractBroken.
func (e *ContractError) Unwrap() error { return ErrContractBroken }

// contractMisuse is what the checked mode panics with in Advance, which
// returns nothing: the *ContractError itself, so that a test recovers it
// and matches it with errors.Is.
func contractMisuse(err error) error { return err }

// contractCheck is the checked mode's memory of what the Readys since the
// last Advance handed out: the latest hard state, the last entry and
// snapshot to persist, and the payloads shared with the application, with
// their hash when handed out.
type contractCheck struct {
	hard     raftpb.HardState
	last     entryID
	snap     raftpb.SnapshotMetadata
	handed   [][]raftpb.Entry
	snapData []byte
	sum      uint64
}

// newContractCheck returns the checked mode's state, or nil when the mode
// is off: a node that does not check holds none of it.
func newContractCheck(on bool) *contractCheck {
	if !on {
		return nil
	}
	return &contractCheck{}
}

// recordReady remembers what rd hands out.
func (c *contractCheck) recordReady(rd *Ready) {
	if !rd.HardState.IsEmpty() {
		c.hard = rd.HardState
	}
	if n := len(rd.Entries); n > 0 {
		c.last = entryID{term: rd.Entries[n-1].Term, index: rd.Entries[n-1].Index}
	}
	if !rd.Snapshot.IsEmpty() {
		c.snap, c.snapData = rd.Snapshot.Metadata, rd.Snapshot.Data
	}
	c.handed = append(c.handed, rd.Entries, rd.CommittedEntries)
	c.sum = c.payloadSum()
}

// payloadSum hashes every payload handed out since the last Advance.
func (c *contractCheck) payloadSum() uint64 {
	h := fnv.New64a()
	for _, ents := range c.handed {
		for i := range ents {
			fmt.Fprintf(h, "%d/%d:%d:", ents[i].Term, ents[i].Index, len(ents[i].Data))
			h.Write(ents[i].Data)
		}
	}
	h.Write(c.snapData)
	return h.Sum64()
}

// verifyAdvance checks, when the application calls Advance, that Storage
// holds what the Readys handed out and that no payload was modified.
func (c *contractCheck) verifyAdvance(st Storage) error {
	if err := verifyDurable(st, c.last, c.snap.Index); err != nil {
		return err
	}
	if !c.hard.IsEmpty() {
		if hs, _, err := st.InitialState(); err != nil || hs != c.hard {
			return &ContractError{fmt.Sprintf("Advance: Storage holds hard state %v, the Ready handed out %v (%v): persist HardState before Advance", hs, c.hard, err)}
		}
	}
	if c.payloadSum() != c.sum {
		return &ContractError{"Advance: an entry or snapshot handed out in a Ready was modified: its payload is shared with the node"}
	}
	*c = contractCheck{handed: c.handed[:0]}
	return nil
}

// verifyDurable checks that Storage holds the entry last and a snapshot
// at snapIndex or later (0: none).
func verifyDurable(st Storage, last entryID, snapIndex uint64) error {
	if last.index != 0 {
		if t, err := st.Term(last.index); err != nil || t != last.term {
			if snap, serr := st.Snapshot(); serr != nil || snap.Metadata.Index < last.index {
				return &ContractError{fmt.Sprintf("storage does not hold entry %d/%d that was handed out (term %d, %v): persist Entries before acknowledging them", last.term, last.index, t, err)}
			}
		}
	}
	if snapIndex != 0 {
		if snap, err := st.Snapshot(); err != nil || snap.Metadata.Index < snapIndex {
			return &ContractError{fmt.Sprintf("storage does not hold the snapshot at %d that was handed out (%v): persist the Snapshot before acknowledging it", snapIndex, err)}
		}
	}
	return nil
}

// verifyStorageAck checks, in the asynchronous mode, that Storage holds
// what an append worker's acknowledgement claims.
func (r *Raft) verifyStorageAck(m raftpb.Message) error {
	if r.checkedContract() == nil {
		return nil
	}
	last := entryID{term: m.LogTerm, index: m.Index}
	if t, err := r.raftLog.term(m.Index); m.Index != 0 && (err != nil || t != m.LogTerm) {
		last = entryID{} // overwritten since it was handed out: a later write holds the index
	}
	var snapIndex uint64
	if m.Snapshot != nil {
		snapIndex = m.Snapshot.Metadata.Index
	}
	if err := verifyDurable(r.raftLog.storage, last, snapIndex); err != nil {
		return fmt.Errorf("%s: %w", m.Type, err)
	}
	return nil
}
