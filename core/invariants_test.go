package core

import (
	"strings"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// watchedStorage is a MemoryStorage that fails the test on any read while
// watching is set.
type watchedStorage struct {
	*MemoryStorage
	t        *testing.T
	watching *bool
}

func (s *watchedStorage) read(method string) {
	if *s.watching {
		s.t.Errorf("Storage.%s called while checking invariants", method)
	}
}

func (s *watchedStorage) InitialState() (raftpb.HardState, raftpb.ConfState, error) {
	s.read("InitialState")
	return s.MemoryStorage.InitialState()
}

func (s *watchedStorage) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	s.read("Entries")
	return s.MemoryStorage.Entries(lo, hi, maxSize)
}

func (s *watchedStorage) Term(i uint64) (uint64, error) {
	s.read("Term")
	return s.MemoryStorage.Term(i)
}

func (s *watchedStorage) FirstIndex() (uint64, error) {
	s.read("FirstIndex")
	return s.MemoryStorage.FirstIndex()
}

func (s *watchedStorage) LastIndex() (uint64, error) {
	s.read("LastIndex")
	return s.MemoryStorage.LastIndex()
}

func (s *watchedStorage) Snapshot() (raftpb.Snapshot, error) {
	s.read("Snapshot")
	return s.MemoryStorage.Snapshot()
}

// TestCheckInvariantsNeverReadsStorage: CheckInvariants judges the node
// from its own state; a leader with entries both durable and not, and its
// followers, are checked without one Storage call.
func TestCheckInvariantsNeverReadsStorage(t *testing.T) {
	var watching bool
	c := electedClusterWith(t, 3, func(cfg *Config) {
		cfg.Storage = &watchedStorage{MemoryStorage: cfg.Storage.(*MemoryStorage), t: t, watching: &watching}
	})
	leader := c.nodes[1]
	for i := 0; i < 3; i++ {
		if _, _, err := leader.Propose([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	watching = true
	for id, r := range c.nodes {
		if err := r.CheckInvariants(); err != nil {
			t.Errorf("node %d: %v", id, err)
		}
	}
}

// TestCheckInvariantsCatchesAMiscountedUncommittedTail: the leader's count
// of its uncommitted entries is checked against its log, both ways, and
// an empty tail may hold no bytes.
func TestCheckInvariantsCatchesAMiscountedUncommittedTail(t *testing.T) {
	for _, tc := range []struct {
		name        string
		size        uint64
		entries     int
		propose     bool
		wantMention string
	}{
		{"one entry too many", 0, 1, false, "uncommitted tail holds"},
		{"one entry too few", 0, -1, true, "uncommitted tail holds"},
		{"bytes in an empty tail", 5, 0, false, "empty uncommitted tail"},
	} {
		c := electedCluster(t, 2)
		leader := c.nodes[1]
		if tc.propose {
			if _, _, err := leader.Propose([]byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		if err := leader.CheckInvariants(); err != nil {
			t.Fatalf("%s: before: %v", tc.name, err)
		}
		if tc.entries < 0 {
			u := &leader.leader.uncommitted
			*u = newUncommittedTail(u.maxSize, u.maxEntries)
		} else {
			leader.leader.uncommitted.add(tc.size, tc.entries)
		}
		err := leader.CheckInvariants()
		if err == nil || !strings.Contains(err.Error(), tc.wantMention) {
			t.Errorf("%s: CheckInvariants = %v, want an error mentioning %q", tc.name, err, tc.wantMention)
		}
	}
}
