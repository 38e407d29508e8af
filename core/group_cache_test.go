package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// TestAGroupCacheKeepsABoundedAmountOfArrays: what a GroupCache keeps is
// bounded in messages, oversized arrays are never kept, and an array it
// lends is empty, cleared, and large enough.
func TestAGroupCacheKeepsABoundedAmountOfArrays(t *testing.T) {
	c := NewGroupCache()
	for i := 0; i < 2*maxCachedMessages; i++ {
		c.putArray(make([]raftpb.Message, 1, 4))
	}
	held := 0 // counted from the arrays themselves, not from spareCap
	for _, s := range c.spare {
		held += cap(s)
	}
	if held > maxCachedMessages || held != c.spareCap || len(c.spare) != maxCachedMessages/4 {
		t.Fatalf("keeps %d arrays of %d messages in all (spareCap %d), want %d arrays within %d", len(c.spare), held, c.spareCap, maxCachedMessages/4, maxCachedMessages)
	}
	c = NewGroupCache()
	c.putArray(make([]raftpb.Message, 0, maxMsgsCapHint+1))
	if len(c.spare) != 0 {
		t.Fatalf("kept an array of %d messages, above the bound %d", maxMsgsCapHint+1, maxMsgsCapHint)
	}
	c.putArray([]raftpb.Message{{Type: raftpb.MsgApp, Entries: []raftpb.Entry{{Index: 1}}}, {}})
	s := c.takeArray(2)
	if len(s) != 0 || cap(s) < 2 || s[:2][0].Entries != nil {
		t.Fatalf("lent %d/%d messages %v, want an empty, cleared array for 2", len(s), cap(s), s[:cap(s)])
	}
	if s := c.takeArray(3); cap(s) < 3 {
		t.Fatalf("lent an array for %d messages, want 3", cap(s))
	}
	// An array given back as the outbox keeps it, emptied to length 0
	// with its messages still behind the length, is cleared whole: the
	// cache, shared by many groups, must not keep their payloads alive.
	full := []raftpb.Message{{Type: raftpb.MsgApp, Entries: []raftpb.Entry{{Index: 1, Data: []byte("payload")}}}, {Type: raftpb.MsgHeartbeat}}
	c.putArray(full[:0])
	for i, m := range c.takeArray(2)[:2] {
		if m.Type != 0 || m.Entries != nil {
			t.Fatalf("a lent array still holds message %d of an earlier group: %v", i, m)
		}
	}
}

// TestNodesSharingAGroupCacheShareOnlyEqualSettings: nodes configured
// alike that are given one GroupCache hold one copy of their settings,
// and a node configured otherwise keeps its own and behaves as its Config
// says: here, one without PreVote campaigns with MsgVote beside one that
// pre-campaigns.
func TestNodesSharingAGroupCacheShareOnlyEqualSettings(t *testing.T) {
	cache := NewGroupCache()
	build := func(id uint64, preVote bool) *Raft {
		st := NewMemoryStorage()
		st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
		r, err := NewRaft(&Config{ID: id, Storage: st, GroupCache: cache, DisablePreVote: !preVote})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := build(1, true), build(2, true), build(3, false)
	if a.settings != b.settings {
		t.Errorf("two nodes configured alike hold two copies of their settings")
	}
	if a.settings == c.settings {
		t.Fatalf("a node without PreVote shares the settings of nodes with it")
	}
	for _, tc := range []struct {
		r    *Raft
		want raftpb.MessageType
	}{{a, raftpb.MsgPreVote}, {c, raftpb.MsgVote}} {
		if err := tc.r.Campaign(); err != nil {
			t.Fatal(err)
		}
		rd := tc.r.Ready()
		if len(rd.Messages) == 0 || rd.Messages[0].Type != tc.want {
			t.Errorf("node %d campaigned with %v, want %v", tc.r.id, rd.Messages, tc.want)
		}
		tc.r.Advance()
	}
	if len(cache.settings) != 2 {
		t.Errorf("the cache holds %d settings, want 2", len(cache.settings))
	}
}

// uncomparableLogger is a Logger whose values == cannot compare.
type uncomparableLogger struct{ seen []string }

func (uncomparableLogger) Enabled(Level) bool        { return false }
func (uncomparableLogger) Log(Level, string, []Attr) {}

// TestANodeWithAnUncomparableLoggerKeepsItsOwnSettings: interning the
// settings compares loggers, which panics for a type == cannot compare;
// such a node keeps settings of its own and boots.
func TestANodeWithAnUncomparableLoggerKeepsItsOwnSettings(t *testing.T) {
	cache := NewGroupCache()
	var nodes []*Raft
	for id := uint64(1); id <= 2; id++ {
		st := NewMemoryStorage()
		st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2}})
		r, err := NewRaft(&Config{ID: id, Storage: st, GroupCache: cache, Logger: uncomparableLogger{}})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, r)
	}
	if nodes[0].settings == nodes[1].settings {
		t.Fatal("nodes with uncomparable loggers share settings")
	}
}

// TestNodesSharingAGroupCacheShareEachConfiguration checks that the nodes
// given one GroupCache hold one copy of a configuration they all have
// (an idle group's nodes, and the groups numbered alike, hold the same
// one), and that a change on one node leaves the others' untouched: the
// shared copy is never modified.
func TestNodesSharingAGroupCacheShareEachConfiguration(t *testing.T) {
	cache := NewGroupCache()
	build := func(id uint64, voters ...uint64) *Raft {
		st := NewMemoryStorage()
		st.SetConfState(raftpb.ConfState{Voters: voters})
		r, err := NewRaft(&Config{ID: id, Storage: st, GroupCache: cache})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, other := build(1, 1, 2, 3), build(2, 1, 2, 3), build(1, 1, 2)
	if a.trk.Config != b.trk.Config {
		t.Errorf("two nodes of the same configuration hold two copies of it")
	}
	if a.trk.Config == other.trk.Config {
		t.Fatalf("a node of voters (1 2) shares the configuration %v", a.trk.Config)
	}
	// A demotion writes the voters' slice: it must be a copy's.
	cc := raftpb.ConfChange{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 2}
	if _, err := a.ApplyConfChange(cc); err != nil {
		t.Fatal(err)
	}
	if got, want := a.trk.Config.String(), "voters=(1 3) learners=(2)"; got != want {
		t.Errorf("after the change node 1 holds %s, want %s", got, want)
	}
	if got, want := b.trk.Config.String(), "voters=(1 2 3)"; got != want {
		t.Errorf("a change on node 1 changed node 2's configuration to %s, want %s", got, want)
	}
	if _, err := b.ApplyConfChange(cc); err != nil {
		t.Fatal(err)
	}
	if a.trk.Config != b.trk.Config {
		t.Errorf("after the same change the two nodes hold two copies of their configuration")
	}
}

// TestALeaderOfAGroupCacheHoldsAWindowOnlyWhileAppendsAreInFlight checks
// that a leader given a GroupCache takes a window of its own for a
// follower while appends to it are in flight, gives it back once they are
// acknowledged (an idle leader holds the cache's shared empty window for
// every follower), and never writes the shared one.
func TestALeaderOfAGroupCacheHoldsAWindowOnlyWhileAppendsAreInFlight(t *testing.T) {
	cache := NewGroupCache()
	c := electedClusterWith(t, 3, func(cfg *Config) { cfg.GroupCache = cache; cfg.MaxInflightMsgs = 2 })
	leader := c.nodes[1]
	pool := leader.settings.windows
	if pool == nil {
		t.Fatal("a node given a GroupCache has no pool of windows")
	}
	idle := func(when string) {
		t.Helper()
		for _, id := range []uint64{2, 3} {
			if w := leader.trk.Progress(id).Inflights; w != pool.empty {
				t.Errorf("%s: the leader holds a window of its own for %d: %+v", when, id, w)
			}
		}
		if n := pool.empty.Count(); n != 0 {
			t.Errorf("%s: the shared empty window holds %d appends", when, n)
		}
	}
	idle("after the proposals are acknowledged")
	for round := 0; round < 3; round++ {
		for i := 0; i < 3; i++ {
			if _, _, err := leader.Propose([]byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		sent := c.drain(1) // sent but not yet delivered: the appends are in flight
		for _, id := range []uint64{2, 3} {
			w := leader.trk.Progress(id).Inflights
			if w == pool.empty || w.Count() == 0 {
				t.Fatalf("round %d: appends to %d are in flight, but the leader records none (window %+v)", round, id, w)
			}
		}
		for _, m := range sent {
			c.stepChecked(m)
		}
		c.stabilize()
		idle("once acknowledged")
	}
	if len(pool.spare) == 0 || len(pool.spare) > 2 {
		t.Errorf("the pool keeps %d spare windows, want 1 or 2 (one per follower at most)", len(pool.spare))
	}
	// A membership change rebuilds the leader's Progress from copies of
	// its windows: the empty copies go back too.
	if _, _, err := leader.ProposeConfChange(addLearner(4)); err != nil {
		t.Fatal(err)
	}
	c.stabilize()
	if !leader.trk.IsMember(4) {
		t.Fatal("the case is not set up: node 4 was not added")
	}
	idle("after a membership change")
}
