package core

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

func TestImpossiblePeerMessagesAreRefusedWithTypedErrorsAndChangeNothing(t *testing.T) {
	c := electedCluster(t, 3) // leader 1 at term 1; logs hold 1/1..1/4, all committed
	leader, follower := c.nodes[1], c.nodes[2]
	term := leader.term
	cases := []struct {
		name string
		to   *Raft
		m    raftpb.Message
		want error
	}{
		{"local hup from the network", follower, raftpb.Message{Type: raftpb.MsgHup, From: 3, To: 2, Term: term}, ErrStepLocalMsg},
		{"storage append from the network", follower, raftpb.Message{Type: raftpb.MsgStorageAppend, From: 3, To: 2, Term: term}, ErrStepLocalMsg},
		{"snap status from the network", leader, raftpb.Message{Type: raftpb.MsgSnapStatus, From: 2, To: 1, Term: term}, ErrStepLocalMsg},
		{"unknown type", follower, raftpb.Message{Type: 99, From: 3, To: 2, Term: term}, ErrUnknownMessageType},
		{"addressed to another node", follower, raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 3, Term: term}, ErrWrongRecipient},
		{"no sender", follower, raftpb.Message{Type: raftpb.MsgHeartbeat, To: 2, Term: term}, ErrInvalidMessage},
		{"from itself", follower, raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 2, Term: term}, ErrInvalidMessage},
		{"append without a term", follower, raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2}, ErrInvalidMessage},
		{"append after an entry of a later term", follower, raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: term, LogTerm: term + 1, Index: 4}, ErrInvalidMessage},
		{"append with a gap", follower, raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: term, LogTerm: 1, Index: 4, Entries: ents(6, 1)}, ErrInvalidMessage},
		{"append whose terms go backwards", follower, raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: 3, LogTerm: 1, Index: 4, Entries: ents(5, 3, 2)}, ErrInvalidMessage},
		{"append of an entry from a future term", follower, raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: term, LogTerm: 1, Index: 4, Entries: ents(5, term+1)}, ErrInvalidMessage},
		{"append after index 0 with a term", follower, raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: term, LogTerm: 1, Index: 0}, ErrInvalidMessage},
		{"append overwriting committed entries", follower, raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: 5, LogTerm: 1, Index: 1, Entries: ents(2, 5)}, ErrCommittedConflict},
		{"vote whose last term exceeds its term", follower, raftpb.Message{Type: raftpb.MsgVote, From: 3, To: 2, Term: term + 1, LogTerm: term + 2, Index: 9}, ErrInvalidMessage},
		{"snapshot message without a snapshot", follower, raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Term: term}, ErrInvalidMessage},
		{"snapshot at index 0", follower, raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Term: term, Snapshot: &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1}}}}}, ErrInvalidMessage},
		{"snapshot from a future term", follower, raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Term: term, Snapshot: &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 10, Term: term + 1, ConfState: raftpb.ConfState{Voters: []uint64{1}}}}}, ErrInvalidMessage},
		{"snapshot without voters", follower, raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Term: term, Snapshot: &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 10, Term: 1}}}, ErrInvalidMessage},
		{"snapshot with a voter who is also a learner", follower, raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Term: term, Snapshot: &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 10, Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{2}}}}}, ErrInvalidMessage},
		{"ack beyond the leader's log", leader, raftpb.Message{Type: raftpb.MsgAppResp, From: 2, To: 1, Term: term, Index: 100}, ErrInvalidMessage},
		{"rejection hint beyond the rejected index", leader, raftpb.Message{Type: raftpb.MsgAppResp, From: 2, To: 1, Term: term, Index: 2, Reject: true, RejectHint: 3}, ErrInvalidMessage},
		{"a peer message carrying responses", follower, raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: term, Responses: []raftpb.Message{{}}}, ErrInvalidMessage},
		{"heartbeat stating a commit term beyond its term", follower, raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: term, LogTerm: term + 1, Commit: 4}, ErrInvalidMessage},
		{"heartbeat stating a term for index 0", follower, raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: term, LogTerm: 1}, ErrInvalidMessage},
		{"heartbeat to the leader of the same term", leader, raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: term}, ErrInvalidMessage},
		{"timeout-now from a follower", follower, raftpb.Message{Type: raftpb.MsgTimeoutNow, From: 3, To: 2, Term: term}, ErrInvalidMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := fingerprint(tc.to)
			err := tc.to.Step(tc.m)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Step(%v) = %v, want an error wrapping %v", tc.m, err, tc.want)
			}
			if after := fingerprint(tc.to); after != before {
				t.Fatalf("refused message changed the node:\nbefore %s\nafter  %s", before, after)
			}
			if err := tc.to.CheckInvariants(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLateAckFromANonMemberIsIgnored: a correct node answers just before
// it learns of its removal; the leader ignores the answer, without error.
func TestLateAckFromANonMemberIsIgnored(t *testing.T) {
	c := electedCluster(t, 0)
	leader := c.nodes[1]
	before := fingerprint(leader)
	if err := leader.Step(raftpb.Message{Type: raftpb.MsgAppResp, From: 9, To: 1, Term: leader.term, Index: 1}); err != nil {
		t.Fatalf("late ack from a non-member = %v, want it ignored", err)
	}
	if after := fingerprint(leader); after != before {
		t.Fatalf("the ack changed the leader:\n%s\n%s", before, after)
	}
}

func TestProposalWithoutLeaderIsRefusedAtOnce(t *testing.T) {
	c := newTestCluster(t, 3)
	_, _, err := c.nodes[2].Propose([]byte("x"))
	if !errors.Is(err, ErrProposalDropped) || !errors.Is(err, ErrNoLeader) {
		t.Fatalf("Propose without a leader = %v, want ErrProposalDropped and ErrNoLeader", err)
	}
}

func TestLeaderProposeReturnsIndexAndTermOfItsEntry(t *testing.T) {
	c := electedCluster(t, 2)
	idx, term, err := c.nodes[1].Propose([]byte("mine"))
	if err != nil {
		t.Fatal(err)
	}
	c.stabilize()
	got, err := c.st[2].Entries(idx, idx+1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Term != term || string(got[0].Data) != "mine" {
		t.Fatalf("entry at the returned index %d is %v, want term %d data mine", idx, got[0], term)
	}
}

func TestFollowerForwardsProposalToLeader(t *testing.T) {
	c := electedCluster(t, 0)
	idx, term, err := c.nodes[3].Propose([]byte("fwd"))
	if err != nil || idx != 0 || term != 0 {
		t.Fatalf("forwarded Propose = %d, %d, %v; want 0, 0, nil", idx, term, err)
	}
	c.stabilize()
	if last := c.nodes[1].raftLog.lastIndex(); c.nodes[1].raftLog.committed != last {
		t.Fatalf("leader committed %d of %d", c.nodes[1].raftLog.committed, last)
	}
	e, _ := c.st[1].Entries(c.nodes[1].raftLog.lastIndex(), c.nodes[1].raftLog.lastIndex()+1, 1<<20)
	if string(e[0].Data) != "fwd" {
		t.Fatalf("last entry %v, want the forwarded proposal", e[0])
	}
}

// TestALowerTermLeaderLearnsTheNewerTermFromAnyNode: §5.1, a node answers
// a stale leader's append or heartbeat with its own term, whatever
// CheckQuorum and PreVote say, so that a node whose term ran ahead (a
// learner, which never campaigns, above all) is not ignored for ever.
func TestALowerTermLeaderLearnsTheNewerTermFromAnyNode(t *testing.T) {
	c := electedClusterWith(t, 1, func(cfg *Config) { cfg.DisableCheckQuorum, cfg.DisablePreVote = true, true })
	leader, f := c.nodes[1], c.nodes[3]
	term := leader.term
	// Node 3 takes a higher term from a stranger's vote request it refuses.
	must(t, f.Step(raftpb.Message{Type: raftpb.MsgVote, From: 2, To: 3, Term: term + 2}))
	f.out.msgs, f.out.afterAppend = nil, nil
	must(t, f.Step(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 3, Term: term}))
	answers := append(append([]raftpb.Message(nil), f.out.msgs...), f.out.afterAppend...)
	if len(answers) != 1 || answers[0].Type != raftpb.MsgAppResp || answers[0].Term != term+2 {
		t.Fatalf("answers to a stale heartbeat: %v, want one MsgAppResp at term %d", answers, term+2)
	}
	must(t, leader.Step(answers[0]))
	if leader.state == StateLeader || leader.term != term+2 {
		t.Fatalf("the stale leader is %v at term %d, want a follower at %d", leader.state, leader.term, term+2)
	}
}

// TestNoAcknowledgementOfEntriesOverwrittenBeforeTheyWereWritten: an old
// leader's append and a new leader's overwrite are stepped in one batch
// (a node resuming from a pause); the entries the old leader sent are
// replaced before any write, so the node must not acknowledge them: its
// old leader would count a replica that never existed toward a commit.
func TestNoAcknowledgementOfEntriesOverwrittenBeforeTheyWereWritten(t *testing.T) {
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	r, err := NewRaft(&Config{ID: 2, Storage: st, CheckContract: true})
	must(t, err)
	must(t, r.Step(raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: 1,
		Entries: []raftpb.Entry{{Term: 1, Index: 1}, {Term: 1, Index: 2}, {Term: 1, Index: 3}}}))
	must(t, r.Step(raftpb.Message{Type: raftpb.MsgApp, From: 3, To: 2, Term: 2, Index: 1, LogTerm: 1,
		Entries: []raftpb.Entry{{Term: 2, Index: 2}}}))
	rd := r.Ready()
	if n := len(rd.Entries); n != 2 || rd.Entries[1].Term != 2 {
		t.Fatalf("entries to write %v, want 1/1 and 2/2", rd.Entries)
	}
	var toNew int
	for _, m := range rd.MessagesAfterPersist {
		if m.Type != raftpb.MsgAppResp || m.Reject {
			continue
		}
		if m.To == 1 && m.Index >= 2 {
			t.Fatalf("the node acknowledges %v: entries it replaced before writing them", m)
		}
		if m.To == 3 && m.Index == 2 {
			toNew++
		}
	}
	if toNew != 1 {
		t.Fatalf("after-persist messages %v: want the new leader's append acknowledged", rd.MessagesAfterPersist)
	}
}
