package core

import (
	"reflect"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// TestATickBetweenReadyAndAdvanceKeepsTheNodesOwnVote: a single voter's
// own (pre-)vote waits between Ready and Advance; a tick in between, which
// releases an idle node's message arrays, must not drop it.
func TestATickBetweenReadyAndAdvanceKeepsTheNodesOwnVote(t *testing.T) {
	c := newTestCluster(t, 1)
	r, st := c.nodes[1], c.st[1]
	must(t, r.Campaign())
	for round := 0; round < 10 && r.state != StateLeader; round++ {
		rd := r.Ready()
		if !rd.HardState.IsEmpty() {
			must(t, st.SetHardState(rd.HardState))
		}
		must(t, st.Append(rd.Entries))
		r.Tick()
		r.Advance()
		if err := r.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
	}
	if r.state != StateLeader {
		t.Fatalf("single voter is %v in term %d after ticking between Ready and Advance, want leader", r.state, r.term)
	}
}

// TestAdvanceTakesBackTheArraysOfSentMessages: the arrays behind the
// messages a Ready handed out are taken back at Advance, cleared so that
// they hold no payload, and filled again by the next messages.
func TestAdvanceTakesBackTheArraysOfSentMessages(t *testing.T) {
	c := electedCluster(t, 2)
	leader := c.nodes[1]
	leader.bcastHeartbeat()
	rd := leader.Ready()
	if len(rd.Messages) != 2 {
		t.Fatalf("heartbeat broadcast: %d messages, want 2", len(rd.Messages))
	}
	handed := rd.Messages[:cap(rd.Messages)]
	leader.Advance()
	if leader.out.kept.handedMsgs || cap(leader.out.kept.keptMsgs) == 0 || &leader.out.kept.keptMsgs[:1][0] != &handed[0] {
		t.Fatalf("Advance did not take back the array of the messages it handed out")
	}
	for i, m := range handed {
		if m.Context != nil || m.To != 0 {
			t.Errorf("taken-back array keeps message %d: %+v", i, m)
		}
	}
	leader.bcastHeartbeat()
	if &leader.out.msgs[0] != &handed[0] {
		t.Error("the next heartbeats did not fill the array taken back")
	}
}

// TestAMessageBuiltInPlaceIsTheOneSendQueues: sendNew, which builds a
// message where it waits in the outbox, queues what send queues for the
// same message: the same stamps (sender, term), in the same queue (those
// that wait for durability: to itself, acknowledgements), and nothing
// left over from an earlier message in a reused array.
func TestAMessageBuiltInPlaceIsTheOneSendQueues(t *testing.T) {
	c := electedCluster(t, 1)
	r := c.nodes[1]
	for _, tc := range []struct {
		to  uint64
		typ raftpb.MessageType
	}{
		{2, raftpb.MsgHeartbeat}, {3, raftpb.MsgHeartbeatResp}, {2, raftpb.MsgApp},
		{2, raftpb.MsgAppResp}, {1, raftpb.MsgHeartbeatResp}, {3, raftpb.MsgSnapOffer},
	} {
		fill := func(m *raftpb.Message) { m.Commit, m.LogTerm, m.Context = 7, 3, []byte("ctx") }
		r.out.msgs, r.out.afterAppend = nil, nil
		want := raftpb.Message{To: tc.to, Type: tc.typ}
		fill(&want)
		r.send(&want)
		sentMsgs, sentAfter := r.out.msgs, r.out.afterAppend

		// Arrays whose free slots hold an earlier message, as a reused
		// one may if it were not cleared.
		stale := raftpb.Message{Type: raftpb.MsgVote, Reject: true, Index: 9, Entries: make([]raftpb.Entry, 1)}
		r.out.msgs = append(make([]raftpb.Message, 0, 4), stale)[:0]
		r.out.afterAppend = append(make([]raftpb.Message, 0, 4), stale)[:0]
		fill(r.sendNew(tc.to, tc.typ))
		if len(r.out.msgs) != len(sentMsgs) || len(r.out.afterAppend) != len(sentAfter) {
			t.Errorf("%s to %d built in place: %d + %d queued, send queues %d + %d", tc.typ, tc.to,
				len(r.out.msgs), len(r.out.afterAppend), len(sentMsgs), len(sentAfter))
			continue
		}
		got := append(r.out.msgs, r.out.afterAppend...)[0]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s to %d built in place:\n %+v\nsend queues\n %+v", tc.typ, tc.to, got, want)
		}
	}
	r.out.msgs, r.out.afterAppend = nil, nil
}
