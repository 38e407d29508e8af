package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// figure8 builds the history of Figure 8 of the Raft paper (§5.4.2) on
// five nodes, up to the moment that matters, and returns it there:
//
//	(a) node 1 leads term 1 and appends x at index 2; only node 2 gets it.
//	(b) node 5 wins term 2 with the votes of 3 and 4 and appends its own
//	    entry at index 2 (term 2), which reaches nobody; it crashes.
//	(c) node 1 wins term 3 and appends its empty entry at index 3. It
//	    replicates x to 3 and 4, which acknowledge index 2: x (term 1) is
//	    now held by a majority, {1, 3, 4}. The appends carrying index 3
//	    are held in the network.
//
// MaxSizePerMsg is one byte, so that x and the leader's entry travel in
// separate appends: without that, the acknowledgement of x would also
// acknowledge index 3 and the dangerous moment would never exist. PreVote
// and CheckQuorum are off: the history needs elections the stickiness rule
// would refuse, and the rule under test does not depend on them.
func figure8(t *testing.T) *ruleNet {
	t.Helper()
	s := newRuleNet(t, 5, false, func(cfg *Config) {
		cfg.DisablePreVote = true
		cfg.DisableCheckQuorum = true
		cfg.MaxSizePerMsg = 1
	})
	s.elect(1)
	s.deliver(anyMsg)
	// (a)
	if x := s.propose(1, "x-term-1"); x != 2 {
		t.Fatalf("x at index %d, want 2", x)
	}
	s.deliver(among(1, 2))
	s.drop(anyMsg)
	// (b) 1 and 2 hear the election (and refuse: their logs are longer),
	// which moves them to term 2.
	s.elect(5)
	if e, _ := s.disk[5].Term(2); e != 2 {
		t.Fatalf("node 5 holds index 2 at term %d, want its own entry of term 2", e)
	}
	s.crash(5)
	// (c)
	s.elect(1, 2, 3, 4)
	if s.nodes[1].term != 3 {
		t.Fatalf("node 1 leads term %d, want 3", s.nodes[1].term)
	}
	// Deliver to 3 and 4 everything except an append they would accept
	// that carries the term-3 entry: they get x alone.
	s.deliver(and(among(1, 3, 4), not(s.acceptableAppendOfTerm(3))))
	s.drop(to(2))
	return s
}

// acceptableAppendOfTerm matches an append carrying an entry of term that
// its recipient would accept (it holds the entry the append follows).
func (s *ruleNet) acceptableAppendOfTerm(term uint64) func(raftpb.Message) bool {
	return func(m raftpb.Message) bool {
		if m.Type != raftpb.MsgApp || s.nodes[m.To] == nil {
			return false
		}
		carries := false
		for _, e := range m.Entries {
			carries = carries || e.Term == term
		}
		prev, err := s.disk[m.To].Term(m.Index)
		return carries && err == nil && prev == m.LogTerm
	}
}

// checkFigure8Moment checks that the history is at the moment Figure 8
// is about: a majority holds x (term 1) and has acknowledged it, and no
// follower has acknowledged the leader's entry of term 3.
func checkFigure8Moment(t *testing.T, s *ruleNet) {
	t.Helper()
	for _, id := range []uint64{1, 3, 4} {
		if term, err := s.disk[id].Term(2); err != nil || term != 1 {
			t.Fatalf("node %d's disk holds index 2 at term %d (%v), want x of term 1", id, term, err)
		}
	}
	acked := map[uint64]uint64{}
	for _, m := range s.delivered {
		if m.Type == raftpb.MsgAppResp && m.To == 1 && m.Term == 3 && !m.Reject {
			acked[m.From] = max(acked[m.From], m.Index)
		}
	}
	if acked[3] != 2 || acked[4] != 2 || acked[2] != 0 {
		t.Fatalf("acknowledgements delivered to the leader %v, want index 2 from 3 and 4 and none from 2", acked)
	}
	held := map[uint64]bool{}
	for _, m := range s.queued(s.acceptableAppendOfTerm(3)) {
		held[m.To] = true
	}
	if len(held) != 2 || !held[3] || !held[4] {
		t.Fatalf("held appends of the term-3 entry go to %v, want 3 and 4:%s", held, s.describeQueue())
	}
}

// TestLeaderCommitsOnlyCurrentTermEntriesFigure8: at the moment a majority
// holds an entry of an earlier term (x, term 1) but not the leader's own
// entry (term 3), the leader must not commit: §5.4.2, "Raft never commits
// log entries from previous terms by counting replicas". Once its own
// entry is acknowledged by a majority, it commits both.
func TestLeaderCommitsOnlyCurrentTermEntriesFigure8(t *testing.T) {
	s := figure8(t)
	checkFigure8Moment(t, s)
	if hs := s.hardState(1); hs.Commit != 1 {
		t.Fatalf("the leader of term 3 committed index %d counting replicas of a term-1 entry (§5.4.2)", hs.Commit)
	}
	for _, m := range s.queue {
		if m.From == 1 && m.Commit > 1 {
			t.Fatalf("the leader told a follower index %d is committed: %v", m.Commit, m)
		}
	}
	if n := len(s.applied[1]); n != 1 {
		t.Fatalf("the leader handed out %d entries to apply, want only index 1: %v", n, s.applied[1])
	}
	// Its own entry reaches the majority: everything up to it commits.
	s.deliver(among(1, 3, 4))
	if hs := s.hardState(1); hs.Commit != 3 {
		t.Fatalf("after 3 and 4 acknowledged index 3 the leader's commit is %d, want 3", hs.Commit)
	}
	if n := len(s.applied[1]); n != 3 || string(s.applied[1][1].Data) != "x-term-1" {
		t.Fatalf("the leader applied %v, want indexes 1 to 3 with x at 2", s.applied[1])
	}
}

// TestFigure8OverwriteNeverTouchesACommittedEntry plays Figure 8 (d):
// at the moment above the leader crashes; node 5, whose last entry (term
// 2) is more up to date than x, wins the votes of 2, 3 and 4 and replaces
// x everywhere. That is safe only because x was never committed: no node
// may have applied at index 2 anything but what the final leader commits
// there (State Machine Safety).
func TestFigure8OverwriteNeverTouchesACommittedEntry(t *testing.T) {
	s := figure8(t)
	checkFigure8Moment(t, s)
	s.crash(1)
	s.restart(5)
	for try := 0; s.nodes[5].state != StateLeader; try++ {
		if try == 3 {
			t.Fatalf("node 5 never won an election among 2..5")
		}
		must(t, s.nodes[5].Campaign())
		s.deliver(and(among(2, 3, 4, 5), ofType(raftpb.MsgVote, raftpb.MsgVoteResp)))
	}
	s.deliver(among(2, 3, 4, 5))
	for _, id := range []uint64{2, 3, 4} {
		if term, _ := s.disk[id].Term(2); term != 2 {
			t.Fatalf("node %d holds index 2 at term %d, want node 5's entry of term 2", id, term)
		}
	}
	checkAppliedAgree(t, s)
}

// checkAppliedAgree checks State Machine Safety on what the nodes
// actually handed out to apply: no two nodes applied different entries at
// one index.
func checkAppliedAgree(t *testing.T, s *ruleNet) {
	t.Helper()
	at := map[uint64]raftpb.Entry{}
	who := map[uint64]uint64{}
	for _, id := range s.ids {
		for _, e := range s.applied[id] {
			prev, ok := at[e.Index]
			if ok && (prev.Term != e.Term || string(prev.Data) != string(e.Data)) {
				t.Fatalf("State Machine Safety: node %d applied %v at index %d, node %d applied %v",
					who[e.Index], prev, e.Index, id, e)
			}
			at[e.Index], who[e.Index] = e, id
		}
	}
}

// TestALeaderCountsItselfOnlyForEntriesOnItsOwnDisk: in the asynchronous
// mode the leader's appends leave before its own write is done (thesis
// §10.2.1), but it counts itself toward a commit only for entries its
// append worker made durable: when its write of x is acknowledged while
// its write of y still waits, it holds x, not y, whatever its log says.
func TestALeaderCountsItselfOnlyForEntriesOnItsOwnDisk(t *testing.T) {
	s := newRuleNet(t, 3, true, nil)
	s.elect(1)
	s.deliver(anyMsg) // the empty entry of the term commits everywhere
	s.autoWorkers = false
	x := s.propose(1, "x")
	s.flushAll()
	y := s.propose(1, "y")
	s.flushAll()
	if len(s.appendQ[1]) < 2 {
		t.Fatalf("the leader handed %d writes to its worker, want x and y apart", len(s.appendQ[1]))
	}
	s.deliver(and(to(2), ofType(raftpb.MsgApp)))
	for len(s.appendQ[2]) > 0 {
		s.completeAppend(2)
	}
	s.deliver(and(to(1), ofType(raftpb.MsgAppResp)))
	s.completeAppend(1) // x is durable on the leader; y is not
	s.flushAll()
	if c := s.nodes[1].raftLog.committed; c != x {
		t.Fatalf("the leader committed %d with y (%d) not on its disk and one follower's acknowledgement; want %d",
			c, y, x)
	}
	for len(s.appendQ[1]) > 0 {
		s.completeAppend(1)
	}
	s.flushAll()
	if c := s.nodes[1].raftLog.committed; c < y {
		t.Fatalf("the leader committed only %d once y was durable, want %d", c, y)
	}
}
