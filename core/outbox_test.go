package core

import "testing"

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
