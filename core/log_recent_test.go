package core

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
)

// TestRecentEntriesAreForgottenWhenOverwritten: entries that became stable
// are read from the node's own array only while Storage holds the same
// entries: an overwrite from an index on forgets them from there, a
// snapshot forgets them all, and applying them all lets them go.
func TestRecentEntriesAreForgottenWhenOverwritten(t *testing.T) {
	u := unstable{offset: 1, offsetInProgress: 1}
	u.truncateAndAppend(ents(1, 1, 1, 1, 1, 1))
	u.acceptInProgress()
	u.stableTo(entryID{term: 1, index: 5})
	if got := u.recentSlice(2, 9); !cmp.Equal(got, ents(2, 1, 1, 1, 1)) {
		t.Fatalf("recent from 2 = %v, want entries 2..5", got)
	}
	u.truncateAndAppend(ents(3, 2, 2))
	if got := u.recentSlice(3, 9); got != nil {
		t.Errorf("recent from 3 after an overwrite from 3 = %v, want nothing", got)
	}
	if got := u.recentSlice(1, 9); !cmp.Equal(got, ents(1, 1, 1)) {
		t.Errorf("recent from 1 after an overwrite from 3 = %v, want entries 1..2", got)
	}
	if err := u.checkInvariants(); err != nil {
		t.Error(err)
	}
	u.forgetRecentUpTo(1)
	if u.recentSlice(2, 9) == nil {
		t.Error("applying entry 1 forgot entry 2")
	}
	u.forgetRecentUpTo(2)
	if u.recent != nil {
		t.Error("applying every recent entry kept them")
	}
	u.stableTo(entryID{term: 2, index: 4})
	u.restore(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 10, Term: 2}})
	if u.recent != nil {
		t.Error("a snapshot kept the recent entries")
	}
}

// entriesCounter is a Storage that counts the calls of Entries.
type entriesCounter struct {
	*MemoryStorage
	calls *int
}

func (s entriesCounter) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	*s.calls++
	return s.MemoryStorage.Entries(lo, hi, maxSize)
}

// TestSteadyReplicationAppliesWithoutReadingStorage: entries a node wrote
// itself are applied from the array it handed them out in, not read back
// from Storage, so that MemoryStorage can reuse its compacted segments.
func TestSteadyReplicationAppliesWithoutReadingStorage(t *testing.T) {
	var calls int
	c := electedClusterWith(t, 3, func(cfg *Config) {
		cfg.Storage = entriesCounter{MemoryStorage: cfg.Storage.(*MemoryStorage), calls: &calls}
	})
	leader := c.nodes[1]
	calls = 0
	for batch := 0; batch < 10; batch++ {
		for i := 0; i < 5; i++ {
			if _, _, err := leader.Propose([]byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		c.stabilize()
	}
	for id, r := range c.nodes {
		if r.raftLog.applied != leader.raftLog.lastIndex() {
			t.Fatalf("node %d applied %d of %d", id, r.raftLog.applied, leader.raftLog.lastIndex())
		}
	}
	if calls != 0 {
		t.Errorf("Storage.Entries called %d times while replicating 50 entries", calls)
	}
}
