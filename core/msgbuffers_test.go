package core

import (
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

// TestABusyNodeKeepsItsArraysAcrossTheFirstReadyAfterATick: the first
// Ready after a tick hands out an array taken from the spares; it must be
// recorded for reuse rather than lost.
func TestABusyNodeKeepsItsArraysAcrossTheFirstReadyAfterATick(t *testing.T) {
	var o outbox
	handOut := func() []raftpb.Message {
		msgs := append(o.bufs.nextMsgs(4), raftpb.Message{To: 2}, raftpb.Message{To: 3})
		o.handedOut(msgs, nil)
		return msgs
	}
	handOut()
	handOut() // the second Ready with messages: busy, arrays kept from here
	o.onTick()
	first := handOut() // the first Ready after the tick
	second := handOut()
	third := handOut()
	if &third[0] != &first[0] || &second[0] == &first[0] {
		t.Fatal("the array of the first Ready after a tick was not reused two Readys later")
	}
}
