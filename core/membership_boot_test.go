package core

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// snapshotUnavailable is a MemoryStorage whose Snapshot is temporarily
// unavailable.
type snapshotUnavailable struct{ *MemoryStorage }

func (snapshotUnavailable) Snapshot() (raftpb.Snapshot, error) {
	return raftpb.Snapshot{}, ErrSnapshotTemporarilyUnavailable
}

// TestABootThatCannotReadTheSnapshotRefusesToGuessTheMembership: a
// restarting node replays the conf changes it applied after its storage's
// snapshot; when the snapshot cannot be read it does not know where they
// start, and replaying from the log's first index would apply the
// snapshot's own changes again. It refuses to start, naming the cause.
func TestABootThatCannotReadTheSnapshotRefusesToGuessTheMembership(t *testing.T) {
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1}})
	must(t, st.Append([]raftpb.Entry{{Index: 1, Term: 1}, {Index: 2, Term: 1}}))
	must(t, st.SetHardState(raftpb.HardState{Term: 1, Commit: 2}))
	_, err := NewRaft(&Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1, Storage: snapshotUnavailable{st}, Applied: 2})
	if !errors.Is(err, ErrSnapshotTemporarilyUnavailable) {
		t.Fatalf("NewRaft over an unreadable snapshot = %v, want ErrSnapshotTemporarilyUnavailable", err)
	}
}

// noEntries is a MemoryStorage whose Entries breaks the contract: it
// returns no entry and no error.
type noEntries struct{ *MemoryStorage }

func (noEntries) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) { return nil, nil }

// TestAScanOverAStorageThatReturnsNothingFails: a read of the log asks
// again from the end of each prefix; a Storage that answers with no entry
// would make it spin for ever, so the scan fails instead.
func TestAScanOverAStorageThatReturnsNothingFails(t *testing.T) {
	st := NewMemoryStorage()
	must(t, st.Append([]raftpb.Entry{{Index: 1, Term: 1}, {Index: 2, Term: 1}}))
	l, err := newLog(noEntries{st}, &applyBounds{maxSize: noLimit})
	must(t, err)
	err = l.scan(1, 3, noLimit, func([]raftpb.Entry) (bool, error) { return true, nil })
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("scan over a storage that returns nothing = %v, want ErrUnavailable", err)
	}
}
