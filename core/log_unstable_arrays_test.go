package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// batchOf returns n entries of term 1 from index first.
func batchOf(first uint64, n int) []raftpb.Entry {
	terms := make([]uint64, n)
	for i := range terms {
		terms[i] = 1
	}
	return ents(first, terms...)
}

// TestUnstableTakesBackAnArrayOnlyOnceItsEntriesAreApplied: the tail's
// array becomes the next batch's only after every entry in it is applied,
// cleared; before that a new batch gets a fresh array.
func TestUnstableTakesBackAnArrayOnlyOnceItsEntriesAreApplied(t *testing.T) {
	u := unstable{offset: 1, offsetInProgress: 1}
	u.takeBackArrays()
	u.truncateAndAppend(batchOf(1, 64))
	first := &u.entries[0]
	u.stableTo(entryID{term: 1, index: 64})
	u.forgetRecentUpTo(63) // one entry still to apply
	u.truncateAndAppend(batchOf(65, 64))
	if &u.entries[0] == first {
		t.Fatal("the array was refilled before its last entry was applied")
	}
	second := &u.entries[0]
	u.stableTo(entryID{term: 1, index: 128})
	u.forgetRecentUpTo(128)
	if s := *second; s.Index != 0 || s.Term != 0 || s.Data != nil {
		t.Fatalf("an array taken back still holds %v: it keeps a payload reachable and a stale reader sees a valid entry", *second)
	}
	u.truncateAndAppend(batchOf(129, 10))
	if &u.entries[0] != second {
		t.Fatal("the array whose entries were all applied was not refilled")
	}
	if got, ok := u.maybeTerm(138); !ok || got != 1 || u.entries[9].Index != 138 {
		t.Fatalf("refilled tail: term of 138 = %d, %v; entry 9 at %d", got, ok, u.entries[9].Index)
	}
}

// withSpareAfter returns an unstable tail that takes back its arrays,
// once a batch of n entries was appended, made durable and applied: it
// then holds the batch's array as its spare.
func withSpareAfter(t *testing.T, n uint64) unstable {
	t.Helper()
	u := unstable{offset: 1, offsetInProgress: 1}
	u.takeBackArrays()
	u.truncateAndAppend(batchOf(1, int(n)))
	u.stableTo(entryID{term: 1, index: n})
	u.forgetRecentUpTo(n)
	if !u.recentSpare {
		t.Fatalf("no spare array after a batch of %d was applied", n)
	}
	return u
}

// TestUnstableDropsAnUnusedSpareArrayAfterElectionTimeoutTicks: a node
// that stops appending lets go of its spare array after limit ticks, and
// of a small one (a proposal at a time, an election's empty entry) at the
// first tick, so an idle group holds none.
func TestUnstableDropsAnUnusedSpareArrayAfterElectionTimeoutTicks(t *testing.T) {
	u := withSpareAfter(t, 64)
	u.arraysOnTick(9, 10)
	if !u.recentSpare {
		t.Fatal("the spare array was dropped before the limit")
	}
	u.arraysOnTick(1, 10)
	if u.recentSpare || u.recent != nil {
		t.Fatal("the spare array was kept after limit ticks unused")
	}

	small := withSpareAfter(t, 1)
	small.arraysOnTick(1, 10)
	if small.recentSpare || small.recent != nil {
		t.Fatalf("a spare array of %d entries was kept after a tick unused", cap(small.recent))
	}
}

// TestAnIdleNodeLetsGoOfItsSpareArrayAfterAnElectionTimeout: with
// ReuseEntryArrays, a leader that appended a batch keeps its array as a
// spare for the next one, and once it has gone unused for an election
// timeout of ticks (an idle group) the node lets go of it, so that an
// idle group does not hold a batch-sized array for ever.
func TestAnIdleNodeLetsGoOfItsSpareArrayAfterAnElectionTimeout(t *testing.T) {
	c := electedClusterWith(t, 1, func(cfg *Config) { cfg.ReuseEntryArrays = true })
	l := c.nodes[1]
	for i := 0; i < 64; i++ {
		_, _, err := l.Propose([]byte("x"))
		must(t, err)
	}
	c.stabilize()
	if u := &l.raftLog.unstable; !u.recentSpare || cap(u.recent) < 64 {
		t.Fatalf("after a batch the leader keeps no spare array (spare %v, capacity %d)", u.recentSpare, cap(u.recent))
	}
	for i := 0; i < l.settings.electionTimeout; i++ {
		for _, id := range c.up() {
			c.nodes[id].Tick()
		}
		c.stabilize()
	}
	if u := &l.raftLog.unstable; u.recent != nil {
		t.Fatalf("after an election timeout idle the leader still holds an array of %d entries", cap(u.recent))
	}
}
