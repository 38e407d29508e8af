package core

import (
	"bytes"
	"slices"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// lostOverwrite is a three-node cluster in which node 1's storage lost an
// overwrite: node 3 leads term 2 from index start, node 1 acknowledged
// the leader's entries start..last, and it restarted over its storage as
// it was before they overwrote the tail of term 1 it held there, which
// reaches past last. Node 1's hard state is intact but for its commit
// index, which stops at start-1, so that it boots.
type lostOverwrite struct {
	c           *testCluster
	leader      *Raft // node 3
	victim      *Raft // node 1, restarted
	start, last uint64
}

// buildLostOverwrite builds it for real: node 1, leader of term 1, appends
// three entries nobody else gets; node 3 is elected for term 2 without
// its vote, overwrites them with its empty entry and one proposal, which
// node 1 acknowledges; then node 1's storage goes back to its copy from
// before the overwrite.
func buildLostOverwrite(t *testing.T) lostOverwrite {
	t.Helper()
	c := electedClusterWith(t, 1, func(cfg *Config) { cfg.DisableCheckQuorum = true })
	for i := 0; i < 3; i++ {
		_, _, err := c.nodes[1].Propose([]byte("never committed"))
		must(t, err)
	}
	c.stabilizeThrough(func(m raftpb.Message) bool { return m.Type != raftpb.MsgApp })
	olderLast, _ := c.st[1].LastIndex()
	older, err := c.st[1].Entries(1, olderLast+1, 1<<30)
	must(t, err)
	older = slices.Clone(older)

	must(t, c.nodes[3].Campaign())
	c.stabilize()
	leader := c.nodes[3]
	if leader.state != StateLeader {
		t.Fatalf("setup: node 3 is %v, want leader", leader.state)
	}
	_, _, err = leader.Propose([]byte("committed"))
	must(t, err)
	c.stabilize()
	start, last := leader.leader.termStart, leader.raftLog.lastIndex()
	if pr := leader.trk.Progress(1); pr.Match != last || leader.raftLog.committed != last || olderLast <= last {
		t.Fatalf("setup: progress of 1 %s, commit %d, node 1's older tail ends at %d; want match and commit %d below it",
			pr, leader.raftLog.committed, olderLast, last)
	}

	hs, _, _ := c.st[1].InitialState()
	hs.Commit = start - 1
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	must(t, st.Append(older))
	must(t, st.SetHardState(hs))
	r, err := NewRaft(&Config{ID: 1, Storage: st, CheckContract: true, DisableCheckQuorum: true})
	must(t, err)
	c.nodes[1], c.st[1] = r, st
	if got, _ := st.Term(last); got == leader.term {
		t.Fatalf("setup: node 1 holds term %d at %d, want an older one", got, last)
	}
	return lostOverwrite{c: c, leader: leader, victim: r, start: start, last: last}
}

// judgeApplies fails the test when node 1 hands out to apply an entry that
// the leader's storage (the disk model of the node whose log is the
// committed one) does not hold as is.
func (lo lostOverwrite) judgeApplies(t *testing.T) {
	lo.c.applied = func(id uint64, ents []raftpb.Entry) {
		if id != 1 {
			return
		}
		for _, e := range ents {
			want, err := lo.c.st[3].Entries(e.Index, e.Index+1, 1<<30)
			if err != nil || len(want) != 1 || want[0].Term != e.Term || !bytes.Equal(want[0].Data, e.Data) {
				t.Fatalf("node 1 applies %v, which the leader's storage holds as %v (%v): never committed", e, want, err)
			}
		}
	}
}

// TestAFollowerThatLostAnOverwriteCommitsNoneOfTheOlderTail: node 1's
// storage lost an overwrite it acknowledged and kept a longer tail of an
// older term. The leader's heartbeat claims the commit index node 1
// acknowledged, which lies within that tail: the index alone would let
// node 1 commit and apply entries never committed. The heartbeat states
// the term of the entry there (§5.3, Log Matching: a follower takes a
// commit index only for a prefix it holds as the leader does); node 1
// holds another, so it commits nothing, reports its short log, and the
// leader repairs it with its own entries.
func TestAFollowerThatLostAnOverwriteCommitsNoneOfTheOlderTail(t *testing.T) {
	lo := buildLostOverwrite(t)
	lo.judgeApplies(t)
	lo.c.stabilize() // node 1 hands out what it committed before the loss
	if lo.victim.raftLog.committed != lo.start-1 {
		t.Fatalf("setup: node 1's commit index %d, want %d", lo.victim.raftLog.committed, lo.start-1)
	}

	lo.leader.bcastHeartbeat()
	var reports int
	lo.c.stabilizeThrough(func(m raftpb.Message) bool {
		if m.Type == raftpb.MsgHeartbeat && m.To == 1 && (m.Commit != lo.last || m.LogTerm != lo.leader.term) {
			t.Fatalf("heartbeat %v, want commit %d stated with term %d", m, lo.last, lo.leader.term)
		}
		if raftpb.IsShortLogReport(m) {
			reports++
			if m.From != 1 || m.Index != lo.last || m.Commit != lo.start-1 {
				t.Fatalf("report %v, want node 1 claimed %d with commit %d", m, lo.last, lo.start-1)
			}
		}
		return true
	})
	if reports != 1 {
		t.Fatalf("%d short-log reports, want 1", reports)
	}
	want, err := lo.c.st[3].Entries(1, lo.last+1, 1<<30)
	must(t, err)
	got, err := lo.c.st[1].Entries(1, lo.last+1, 1<<30)
	must(t, err)
	if last, _ := lo.c.st[1].LastIndex(); last != lo.last || !slices.EqualFunc(got, want, entriesEqual) {
		t.Fatalf("node 1's storage holds %v (last %d) after the repair, want the leader's %v", got, last, want)
	}
	if pr := lo.leader.trk.Progress(1); pr.Match != lo.last || lo.victim.raftLog.committed != lo.last {
		t.Fatalf("progress of 1 %s, node 1's commit index %d, want both at %d", pr, lo.victim.raftLog.committed, lo.last)
	}
}

// entriesEqual reports whether a and b are the same entry.
func entriesEqual(a, b raftpb.Entry) bool {
	return a.Term == b.Term && a.Index == b.Index && a.Type == b.Type && bytes.Equal(a.Data, b.Data)
}

// TestAHeartbeatStatesTheTermOfTheEntryAtTheCommitIndexItCarries: every
// heartbeat carries min(Match, commit) and the term the leader's storage
// holds there, looked up for a follower whose Match lies below the commit
// index in an older term (node 1 after its short-log report, before its
// repair). Once that entry is compacted the heartbeat carries no commit
// index at all (0): an index whose term goes unstated is not checked.
func TestAHeartbeatStatesTheTermOfTheEntryAtTheCommitIndexItCarries(t *testing.T) {
	lo := buildLostOverwrite(t)
	lo.c.stabilize()
	lo.leader.bcastHeartbeat()
	lo.c.stabilizeThrough(func(m raftpb.Message) bool {
		return m.Type == raftpb.MsgHeartbeat || raftpb.IsShortLogReport(m) // no repair yet
	})
	lo.c.drain(3)
	if pr := lo.leader.trk.Progress(1); pr.Match != lo.start-1 || pr.State != tracker.StateProbe {
		t.Fatalf("setup: progress of 1 after its report %s, want match %d", pr, lo.start-1)
	}
	termAt := func(i uint64) uint64 {
		term, err := lo.c.st[3].Term(i)
		must(t, err)
		return term
	}
	wantCommit := map[uint64]entryID{
		1: {index: lo.start - 1, term: termAt(lo.start - 1)},
		2: {index: lo.last, term: termAt(lo.last)},
	}
	if wantCommit[1].term == wantCommit[2].term {
		t.Fatalf("setup: the terms at %d and %d are both %d", lo.start-1, lo.last, wantCommit[1].term)
	}
	checkHeartbeats := func(when string) {
		t.Helper()
		lo.leader.bcastHeartbeat()
		n := 0
		for _, m := range lo.c.drain(3) {
			if m.Type != raftpb.MsgHeartbeat {
				continue
			}
			n++
			if w := wantCommit[m.To]; m.Commit != w.index || m.LogTerm != w.term {
				t.Fatalf("%s: heartbeat %v, want commit %d stated with term %d", when, m, w.index, w.term)
			}
		}
		if n != 2 {
			t.Fatalf("%s: %d heartbeats, want 2", when, n)
		}
	}
	checkHeartbeats("node 1 behind in an older term")

	must(t, lo.c.st[3].Compact(lo.last))
	wantCommit[1] = entryID{}
	checkHeartbeats("node 1's match compacted")
}

// TestAHeartbeatStatesTheTermAtTheCommitIndexNotAtTheLastEntry: a new
// leader of five nodes has its empty entry acknowledged by one follower,
// so its commit index still lies in the previous term. The heartbeat to
// that follower carries the commit index with the term the leader's
// storage holds there, not the term of its last entry, and the follower,
// which holds that entry, sends no short-log report.
func TestAHeartbeatStatesTheTermAtTheCommitIndexNotAtTheLastEntry(t *testing.T) {
	c := newTestClusterWith(t, 5, func(cfg *Config) { cfg.DisableCheckQuorum = true })
	must(t, c.nodes[1].Campaign())
	c.stabilize()
	_, _, err := c.nodes[1].Propose([]byte("term 1"))
	must(t, err)
	c.stabilize()
	commit := c.nodes[1].raftLog.committed
	must(t, c.nodes[2].Campaign())
	c.stabilizeThrough(func(m raftpb.Message) bool {
		return m.Type != raftpb.MsgApp && m.Type != raftpb.MsgAppResp || m.To == 3 || m.From == 3
	})
	leader := c.nodes[2]
	if leader.state != StateLeader || leader.raftLog.committed != commit || leader.trk.Progress(3).Match <= commit {
		t.Fatalf("setup: node 2 %v, commit %d, progress of 3 %s; want a leader with commit %d acknowledged past it by 3",
			leader.state, leader.raftLog.committed, leader.trk.Progress(3), commit)
	}
	want, err := c.st[2].Term(commit)
	must(t, err)
	if want == leader.term {
		t.Fatalf("setup: the term at commit %d is the leader's %d", commit, want)
	}
	leader.bcastHeartbeat()
	var sent bool
	c.stabilizeThrough(func(m raftpb.Message) bool {
		if m.Type == raftpb.MsgHeartbeat && m.To == 3 {
			sent = true
			if m.Commit != commit || m.LogTerm != want {
				t.Fatalf("heartbeat %v, want commit %d stated with term %d", m, commit, want)
			}
		}
		if raftpb.IsShortLogReport(m) {
			t.Fatalf("a node that lost nothing reports a short log: %v", m)
		}
		return m.Type == raftpb.MsgHeartbeat || m.Type == raftpb.MsgHeartbeatResp
	})
	if !sent {
		t.Fatal("no heartbeat to 3")
	}
}

// TestAHeartbeatStatingNoTermCommitsWithinTheLog: a heartbeat with LogTerm
// 0, as an etcd raft leader sends every heartbeat, states no term; the
// follower then takes its commit index as far as its log reaches, without
// a report, as etcd raft's followers do.
func TestAHeartbeatStatingNoTermCommitsWithinTheLog(t *testing.T) {
	c := electedCluster(t, 2)
	leader, follower := c.nodes[1], c.nodes[2]
	_, _, err := leader.Propose([]byte("committed by the heartbeat"))
	must(t, err)
	c.stabilizeThrough(func(m raftpb.Message) bool { return !(m.Type == raftpb.MsgApp && len(m.Entries) == 0) })
	commit := leader.raftLog.committed
	if follower.raftLog.committed >= commit {
		t.Fatalf("setup: node 2's commit index %d already reaches %d", follower.raftLog.committed, commit)
	}
	must(t, follower.Step(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: leader.term, Commit: commit}))
	for _, m := range append(follower.out.msgs, follower.out.afterAppend...) {
		if raftpb.IsShortLogReport(m) {
			t.Fatalf("a heartbeat stating no term drew a short-log report: %v", m)
		}
	}
	if follower.raftLog.committed != commit {
		t.Fatalf("node 2's commit index %d, want %d", follower.raftLog.committed, commit)
	}
}
