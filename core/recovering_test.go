package core

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// lostLogStorage is the storage of node 1 of a three-voter group at term
// 3, voted for 2, that committed and acknowledged 9 entries of term 2 and
// then lost all but the first 5.
func lostLogStorage(t *testing.T) *MemoryStorage {
	t.Helper()
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	var ents []raftpb.Entry
	for i := uint64(1); i <= 5; i++ {
		ents = append(ents, raftpb.Entry{Term: 2, Index: i})
	}
	must(t, st.Append(ents))
	must(t, st.SetHardState(raftpb.HardState{Term: 3, Vote: 2, Commit: 9}))
	return st
}

func TestBootOverALostLogIsATypedError(t *testing.T) {
	_, err := NewRaft(&Config{ID: 1, Storage: lostLogStorage(t)})
	var lost *LostLogError
	if !errors.As(err, &lost) || !errors.Is(err, ErrLostLog) {
		t.Fatalf("NewRaft over a lost log = %v, want a *LostLogError", err)
	}
	if lost.Commit != 9 || lost.FirstIndex != 1 || lost.LastIndex != 5 {
		t.Fatalf("error names commit %d, log [%d, %d]; want 9, [1, 5]", lost.Commit, lost.FirstIndex, lost.LastIndex)
	}
}

// recoveringNode boots node 1 over the lost log in recovering mode.
func recoveringNode(t *testing.T) *Raft {
	t.Helper()
	r, err := NewRaft(&Config{ID: 1, Storage: lostLogStorage(t), Recovering: true})
	must(t, err)
	// It moved past its boot term 3, voting for no one.
	if !r.recovering || !r.BasicStatus().Recovering || r.raftLog.committed != 5 || r.term != 4 || r.vote != None {
		t.Fatalf("recovering node: recovering %v commit %d term %d vote %d", r.recovering, r.raftLog.committed, r.term, r.vote)
	}
	return r
}

func TestARecoveringNodeGrantsNoVoteOrPreVote(t *testing.T) {
	for _, typ := range []raftpb.MessageType{raftpb.MsgVote, raftpb.MsgPreVote} {
		r := recoveringNode(t)
		// A candidate with a longer log than the node's, at a newer term.
		must(t, r.Step(raftpb.Message{Type: typ, From: 3, To: 1, Term: 5, Index: 20, LogTerm: 3}))
		answers := append(append([]raftpb.Message(nil), r.out.msgs...), r.out.afterAppend...)
		if len(answers) != 1 || !answers[0].Reject {
			t.Fatalf("%v: answered %v, want one rejection", typ, answers)
		}
		if r.vote == 3 {
			t.Fatalf("%v: the recovering node voted", typ)
		}
	}
}

func TestARecoveringNodeDoesNotCampaign(t *testing.T) {
	r := recoveringNode(t)
	if err := r.Campaign(); !errors.Is(err, ErrRecovering) || !errors.Is(err, ErrLostLog) {
		t.Fatalf("Campaign = %v, want ErrRecovering", err)
	}
	for i := 0; i < 4*r.settings.electionTimeout; i++ {
		r.Tick()
	}
	if r.state != StateFollower || r.term != 4 {
		t.Fatalf("after its election timeouts: %v at term %d, want a follower at term 4", r.state, r.term)
	}
	// The leader of term 4 hands over: the node cannot take over.
	must(t, r.Step(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 4}))
	must(t, r.Step(raftpb.Message{Type: raftpb.MsgTimeoutNow, From: 2, To: 1, Term: 4}))
	if r.state != StateFollower || r.term != 4 {
		t.Fatalf("after MsgTimeoutNow: %v at term %d", r.state, r.term)
	}
}

// persist makes everything r has handed out durable in st and acknowledges
// it, as the synchronous loop does.
func persist(t *testing.T, r *Raft, st *MemoryStorage) {
	t.Helper()
	for r.HasReady() {
		rd := r.Ready()
		if !rd.HardState.IsEmpty() {
			must(t, st.SetHardState(rd.HardState))
		}
		must(t, st.Append(rd.Entries))
		r.Advance()
	}
}

// TestRecoveringEndsOnlyWithADurableEntryOfANewerTerm: catching up with a
// leader's entries of the boot term or older is not enough; an entry of a
// later term, durable, is.
func TestRecoveringEndsOnlyWithADurableEntryOfANewerTerm(t *testing.T) {
	st := lostLogStorage(t)
	r, err := NewRaft(&Config{ID: 1, Storage: st, Recovering: true})
	must(t, err)
	// Node 3 leads term 5, elected without this node. It first replicates
	// the lost entries 6..9 of term 2 and an entry of term 3, the boot
	// term.
	var ents []raftpb.Entry
	for i := uint64(6); i <= 9; i++ {
		ents = append(ents, raftpb.Entry{Term: 2, Index: i})
	}
	ents = append(ents, raftpb.Entry{Term: 3, Index: 10})
	must(t, r.Step(raftpb.Message{Type: raftpb.MsgApp, From: 3, To: 1, Term: 5, Index: 5, LogTerm: 2, Entries: ents, Commit: 9}))
	persist(t, r, st)
	if !r.recovering {
		t.Fatal("recovering ended with entries of the boot term or older")
	}
	// Then its own entry, handed out, not yet durable.
	must(t, r.Step(raftpb.Message{Type: raftpb.MsgApp, From: 3, To: 1, Term: 5, Index: 10, LogTerm: 3,
		Entries: []raftpb.Entry{{Term: 5, Index: 11}}, Commit: 10}))
	if !r.recovering {
		t.Fatal("recovering ended before the entry of the newer term was durable")
	}
	persist(t, r, st)
	if r.recovering || r.BasicStatus().Recovering {
		t.Fatal("recovering did not end with a durable entry of a newer term")
	}
	if hs, _, _ := st.InitialState(); hs.RecoveringTerm != 0 {
		t.Fatalf("the persisted hard state %v still says recovering", hs)
	}
	r.clock.electionElapsed = int32(r.settings.electionTimeout) // the leader went quiet
	must(t, r.Step(raftpb.Message{Type: raftpb.MsgPreVote, From: 2, To: 1, Term: 6, Index: 11, LogTerm: 5}))
	if len(r.out.msgs) != 1 || r.out.msgs[0].Reject {
		t.Fatalf("the recovered node refused a pre-vote it may grant: %v", r.out.msgs)
	}
	r.out.msgs = nil
	must(t, r.Campaign())
}

// TestARecoveringNodeEndsItsBootTerm: the leader of the boot term never
// sends an entry of a newer term, so the node moves past it at boot
// (voting for no one) and answers that leader with its newer term, which
// deposes it (§5.1).
func TestARecoveringNodeEndsItsBootTerm(t *testing.T) {
	r := recoveringNode(t)
	if len(r.out.msgs)+len(r.out.afterAppend) != 0 {
		t.Fatalf("a booting node sent %v %v", r.out.msgs, r.out.afterAppend)
	}
	must(t, r.Step(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 3, Commit: 5}))
	answers := append(append([]raftpb.Message(nil), r.out.msgs...), r.out.afterAppend...)
	if len(answers) != 1 || answers[0].To != 2 || answers[0].Term != 4 {
		t.Fatalf("answer to the leader of the boot term: %v, want one message of term 4 to node 2", answers)
	}
}

// TestARestartResumesRecovering: the boot term is in the hard state the
// node hands out, so a restart before it recovers recovers on, even when
// the application does not set Config.Recovering again, and even though
// the log now holds what the persisted commit index names.
func TestARestartResumesRecovering(t *testing.T) {
	st := lostLogStorage(t)
	r, err := NewRaft(&Config{ID: 1, Storage: st, Recovering: true})
	must(t, err)
	persist(t, r, st)
	hs, _, _ := st.InitialState()
	if hs.RecoveringTerm != 3 || hs.Term != 4 {
		t.Fatalf("persisted hard state %v, want term 4 recovering from term 3", hs)
	}
	again, err := NewRaft(&Config{ID: 1, Storage: st})
	must(t, err)
	if !again.recovering || again.recoveringBootTerm() != 3 || again.term != 4 {
		t.Fatalf("restarted: recovering %v from term %d at term %d; want recovering from 3 at 4",
			again.recovering, again.recoveringBootTerm(), again.term)
	}
	if err := again.Campaign(); !errors.Is(err, ErrRecovering) {
		t.Fatalf("Campaign after the restart = %v, want ErrRecovering", err)
	}
}

// TestRecoveringWithoutALossStillWaits: the application may ask for
// recovering mode when its own storage found a loss the node cannot see.
func TestRecoveringWithoutALossStillWaits(t *testing.T) {
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	must(t, st.SetHardState(raftpb.HardState{Term: 2, Vote: 1}))
	r, err := NewRaft(&Config{ID: 1, Storage: st, Recovering: true})
	must(t, err)
	if err := r.Campaign(); !errors.Is(err, ErrRecovering) {
		t.Fatalf("Campaign = %v, want ErrRecovering", err)
	}
}

// TestAHeartbeatBeyondTheLogIsAnsweredWithTheLastIndex: a leader sends a
// commit index only up to what the follower acknowledged; one beyond its
// log means the follower lost entries. It tells the leader where its log
// ends, instead of refusing every heartbeat, and commits nothing on that
// claim: its tail may be an older term's entries whose overwrite was lost.
func TestAHeartbeatBeyondTheLogIsAnsweredWithTheLastIndex(t *testing.T) {
	c := electedCluster(t, 2)
	f := c.nodes[2]
	last := f.raftLog.lastIndex()
	committed := f.raftLog.committed
	ctx := raftpb.HeartbeatContext{Round: 1, Tick: 7}.Encode()
	must(t, f.Step(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: f.term, Commit: last + 5, Context: ctx}))
	if f.raftLog.committed != committed {
		t.Fatalf("committed %d after a claim beyond the log, want it kept at %d", f.raftLog.committed, committed)
	}
	var hb, short int
	for _, m := range append(append([]raftpb.Message(nil), f.out.msgs...), f.out.afterAppend...) {
		switch {
		case m.Type == raftpb.MsgHeartbeatResp:
			hb++
		case raftpb.IsShortLogReport(m) && m.RejectHint == last && m.Index == last+5 && string(m.Context) == string(ctx):
			short++
		}
	}
	if hb != 1 || short != 1 {
		t.Fatalf("answers %v %v: want a heartbeat answer and a rejection naming the last index %d", f.out.msgs, f.out.afterAppend, last)
	}
}

// shortLogReport is the report node from sends leader when the leader's
// last heartbeat claimed index claimed and the node's log ends at last.
func shortLogReport(leader *Raft, from, claimed, last, lastTerm uint64) raftpb.Message {
	ctx := raftpb.HeartbeatContext{Round: leader.readOnly.CurrentRound(), Tick: leader.leaderTick}.Encode()
	return raftpb.Message{Type: raftpb.MsgAppResp, From: from, To: leader.id, Term: leader.term, Reject: true,
		Index: claimed, RejectHint: last, LogTerm: lastTerm, Context: ctx}
}

// TestTheLeaderLowersTheMatchOfAFollowerThatLostEntries: a short-log
// report of the current term whose last index lies below the follower's
// Match resets Match to it and probes; the leader's commit index stays.
// The same report arriving again once the follower is partly repaired
// (Match back above its last index, still below its claim) is stale and
// changes nothing.
func TestTheLeaderLowersTheMatchOfAFollowerThatLostEntries(t *testing.T) {
	c := electedCluster(t, 4)
	leader := c.nodes[1]
	commit := leader.raftLog.committed
	match := leader.trk.Progress(2).Match
	report := shortLogReport(leader, 2, match, 2, 1)
	must(t, leader.Step(report))
	pr := leader.trk.Progress(2)
	if pr.Match != 2 || pr.Next != 3 || pr.State.String() != "StateProbe" {
		t.Fatalf("progress of 2 after its short-log answer: %s", pr)
	}
	if leader.raftLog.committed != commit {
		t.Fatalf("the commit index moved from %d to %d", commit, leader.raftLog.committed)
	}
	must(t, leader.Step(raftpb.Message{Type: raftpb.MsgAppResp, From: 2, To: 1, Term: leader.term, Index: match - 1}))
	must(t, leader.Step(report))
	if pr := leader.trk.Progress(2); pr.Match != match-1 {
		t.Fatalf("progress of 2 after the report again: %s, want match %d kept", pr, match-1)
	}
}

// TestAnAppendRejectionNeverLowersMatch: a rejection of an append, whose
// hint lies below Match, is not a short-log report: it may be late (it
// may have left the follower before the acknowledgement that raised
// Match), so Match and the replication state stay.
func TestAnAppendRejectionNeverLowersMatch(t *testing.T) {
	c := electedCluster(t, 4)
	leader := c.nodes[1]
	before := leader.trk.Progress(2).String()
	match := leader.trk.Progress(2).Match
	must(t, leader.Step(raftpb.Message{Type: raftpb.MsgAppResp, From: 2, To: 1, Term: leader.term, Reject: true,
		Index: match, RejectHint: 2, LogTerm: 1}))
	if got := leader.trk.Progress(2).String(); got != before {
		t.Fatalf("progress of 2 after a rejection below its match: %s, want %s", got, before)
	}
}

// TestAShortLogReportThatAnswersNoHeartbeatIsRefused: the mark of a
// report is the echo of a heartbeat's context; one the leader never sent,
// or a report of a log that is not short, is refused and changes nothing.
func TestAShortLogReportThatAnswersNoHeartbeatIsRefused(t *testing.T) {
	c := electedCluster(t, 4)
	leader := c.nodes[1]
	match := leader.trk.Progress(2).Match
	future := shortLogReport(leader, 2, match, 2, 1)
	future.Context = raftpb.HeartbeatContext{Round: leader.readOnly.CurrentRound(), Tick: leader.leaderTick + 1}.Encode()
	garbled := shortLogReport(leader, 2, match, 2, 1)
	garbled.Context = []byte("x")
	notShort := shortLogReport(leader, 2, match, match, 1)
	commitPastLog := shortLogReport(leader, 2, match, 2, 1)
	commitPastLog.Commit = 3
	for _, m := range []raftpb.Message{future, garbled, notShort, commitPastLog} {
		before := fingerprint(leader)
		if err := leader.Step(m); !errors.Is(err, ErrInvalidMessage) {
			t.Fatalf("Step(%v) = %v, want ErrInvalidMessage", m, err)
		}
		if after := fingerprint(leader); after != before {
			t.Fatalf("a refused report changed the leader:\n%s\n%s", before, after)
		}
	}
}

// TestAFollowerOverATruncatedLogCatchesUp: a follower whose storage lost
// its tail restarts in recovering mode; the leader learns it is behind
// from its heartbeat answer alone (no new proposal) and repairs it.
func TestAFollowerOverATruncatedLogCatchesUp(t *testing.T) {
	c := electedCluster(t, 6)
	leader := c.nodes[1]
	last := leader.raftLog.lastIndex()
	// Node 2 restarts over a copy of its storage that kept 3 entries.
	old := c.st[2]
	hs, _, _ := old.InitialState()
	kept, err := old.Entries(1, 4, 1<<30)
	must(t, err)
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	must(t, st.Append(kept))
	must(t, st.SetHardState(hs))
	if _, err := NewRaft(&Config{ID: 2, Storage: st}); !errors.Is(err, ErrLostLog) {
		t.Fatalf("boot over the truncated log = %v, want ErrLostLog", err)
	}
	r, err := NewRaft(&Config{ID: 2, Storage: st, Recovering: true})
	must(t, err)
	c.nodes[2], c.st[2] = r, st
	// Its answer to the heartbeat carries the term it moved to, which
	// deposes the leader; nodes 1 and 3 elect a leader of a newer term
	// without node 2, which repairs it.
	leader.bcastHeartbeat()
	c.stabilize()
	if leader.state == StateLeader {
		t.Fatal("the leader of the recovering node's boot term is still leading")
	}
	var lead *Raft
	for i := 0; i < 10*leader.settings.electionTimeout && lead == nil; i++ {
		for _, id := range c.up() {
			c.nodes[id].Tick()
		}
		c.stabilize()
		for _, id := range []uint64{1, 3} {
			if c.nodes[id].state == StateLeader {
				lead = c.nodes[id]
			}
		}
	}
	if lead == nil || r.lead != lead.id {
		t.Fatalf("no new leader that node 2 follows within ten election timeouts: node 2 follows %d", r.lead)
	}
	if got, want := r.raftLog.lastIndex(), lead.raftLog.lastIndex(); got != want || want <= last {
		t.Fatalf("the follower's log ends at %d, want the leader's %d (past %d)", got, want, last)
	}
	if r.raftLog.committed != lead.raftLog.committed {
		t.Fatalf("the follower committed %d, the leader %d", r.raftLog.committed, lead.raftLog.committed)
	}
	if r.recovering {
		t.Fatal("the follower still recovers after a new leader's entry became durable")
	}
}

// TestTheLeaderNoticesAFollowerThatLostOnlyItsLastEntry: the smallest
// loss, one entry below Match, lowers Match too.
func TestTheLeaderNoticesAFollowerThatLostOnlyItsLastEntry(t *testing.T) {
	c := electedCluster(t, 4)
	leader := c.nodes[1]
	match := leader.trk.Progress(2).Match
	must(t, leader.Step(shortLogReport(leader, 2, match, match-1, 1)))
	if pr := leader.trk.Progress(2); pr.Match != match-1 || pr.Next != match {
		t.Fatalf("progress of 2 after losing its last entry: %s, want match %d", pr, match-1)
	}
}

// TestBootOverTheLossOfOneEntryIsATypedError: the smallest loss, the
// persisted commit one past the stored log, is refused too.
func TestBootOverTheLossOfOneEntryIsATypedError(t *testing.T) {
	st := lostLogStorage(t)
	must(t, st.SetHardState(raftpb.HardState{Term: 3, Vote: 2, Commit: 6}))
	if _, err := NewRaft(&Config{ID: 1, Storage: st}); !errors.Is(err, ErrLostLog) {
		t.Fatalf("NewRaft with commit one past the log = %v, want ErrLostLog", err)
	}
}
