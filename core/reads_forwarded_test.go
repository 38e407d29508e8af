package core

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// forwardOneRead has follower 2 of an elected cluster forward a read with
// context ctx to leader 1 and drops the request in the network.
func forwardOneRead(t *testing.T, c *testCluster, ctx string) {
	t.Helper()
	must(t, c.nodes[2].ReadIndex([]byte(ctx)))
	c.drain(2) // the MsgReadIndex to node 1 is lost
	if n := c.nodes[2].Status().ForwardedReads; n != 1 {
		t.Fatalf("follower has %d forwarded reads, want 1", n)
	}
}

func readAnswer(from, to, term uint64, reject bool, ctx string) raftpb.Message {
	return raftpb.Message{Type: raftpb.MsgReadIndexResp, From: from, To: to, Term: term, Reject: reject, Index: 7,
		Entries: []raftpb.Entry{{Data: []byte(ctx)}}}
}

// TestForwardedReadRefusedByItsFormerLeaderIsAborted: the node a read was
// forwarded to refuses it when it steps down, at its new term, when the
// reader already follows the new leader of that term (found by the
// simulator: the refusal was refused as "not from the leader" and the
// read never came back). The refusal is taken from the node the read went
// to, whatever its role now.
func TestForwardedReadRefusedByItsFormerLeaderIsAborted(t *testing.T) {
	c := electedCluster(t, 0)
	forwardOneRead(t, c, "r")
	follower := c.nodes[2]
	next := follower.term + 1
	// Node 3 wins term next; node 2 follows it.
	must(t, follower.Step(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 3, To: 2, Term: next}))
	if follower.lead != 3 {
		t.Fatalf("follower's leader is %d, want 3", follower.lead)
	}
	// Node 1, stepping down at term next, refuses the read it queued.
	must(t, follower.Step(readAnswer(1, 2, next, true, "r")))
	rs := readStatesOf(follower)
	if len(rs) != 1 || string(rs[0].RequestCtx) != "r" || !errors.Is(rs[0].Err, ErrReadAborted) {
		t.Fatalf("read states %v, want r aborted", rs)
	}
	if n := follower.Status().ForwardedReads; n != 0 {
		t.Fatalf("%d forwarded reads still wait", n)
	}
}

// TestForwardedReadGrantOnlyFromTheLeaderOfItsTerm: a grant carries a read
// index, which only the leader of the message's term can give; from any
// other node it is refused and changes nothing, the read still waits.
func TestForwardedReadGrantOnlyFromTheLeaderOfItsTerm(t *testing.T) {
	c := electedCluster(t, 0)
	forwardOneRead(t, c, "r")
	follower := c.nodes[2]
	before := fingerprint(follower)
	if err := follower.Step(readAnswer(3, 2, follower.term, false, "r")); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("a grant from a follower = %v, want ErrInvalidMessage", err)
	}
	if len(readStatesOf(follower)) != 0 || fingerprint(follower) != before || follower.Status().ForwardedReads != 1 {
		t.Fatalf("a refused grant changed the node: %v", readStatesOf(follower))
	}
	must(t, follower.Step(readAnswer(1, 2, follower.term, false, "r")))
	if rs := readStatesOf(follower); len(rs) != 1 || rs[0].Err != nil || rs[0].Index != 7 {
		t.Fatalf("read states %v, want r granted at 7", rs)
	}
}

// TestForwardedReadRefusalFromAnotherNodeIsIgnored: a refusal from a node
// the read did not go to (or of a read not waiting: answered, expired,
// forgotten by a restart) aborts nothing.
func TestForwardedReadRefusalFromAnotherNodeIsIgnored(t *testing.T) {
	c := electedCluster(t, 0)
	forwardOneRead(t, c, "r")
	follower := c.nodes[2]
	must(t, follower.Step(readAnswer(3, 2, follower.term, true, "r")))
	must(t, follower.Step(readAnswer(1, 2, follower.term, true, "other")))
	if len(readStatesOf(follower)) != 0 || follower.Status().ForwardedReads != 1 {
		t.Fatalf("read states %v after refusals of reads that did not go there", readStatesOf(follower))
	}
}

// TestForwardedReadUnansweredExpires: a read whose request or answer is
// lost comes back aborted after an election timeout, not never; its late
// answer is ignored.
func TestForwardedReadUnansweredExpires(t *testing.T) {
	c := electedCluster(t, 0)
	forwardOneRead(t, c, "r")
	follower := c.nodes[2]
	for i := 0; i < follower.settings.electionTimeout-1; i++ {
		follower.Tick()
		follower.clock.electionElapsed = 0 // the leader is alive; only the read's clock runs
	}
	if len(readStatesOf(follower)) != 0 {
		t.Fatalf("read aborted before an election timeout: %v", readStatesOf(follower))
	}
	follower.Tick()
	rs := readStatesOf(follower)
	if len(rs) != 1 || !errors.Is(rs[0].Err, ErrReadAborted) {
		t.Fatalf("read states %v, want r aborted after an election timeout", rs)
	}
	follower.queuedReads().takeStates()
	must(t, follower.Step(readAnswer(1, 2, follower.term, false, "r")))
	if len(readStatesOf(follower)) != 0 {
		t.Fatalf("a late grant was released: %v", readStatesOf(follower))
	}
}

// TestForwardedReadsAreBounded: a follower holds at most MaxPendingReads
// forwarded reads; the next is refused with ErrTooManyPendingReads.
func TestForwardedReadsAreBounded(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.MaxPendingReads = 2 })
	follower := c.nodes[2]
	must(t, follower.ReadIndex([]byte("a")))
	must(t, follower.ReadIndex([]byte("b")))
	if err := follower.ReadIndex([]byte("c")); !errors.Is(err, ErrTooManyPendingReads) {
		t.Fatalf("third forwarded read = %v, want ErrTooManyPendingReads", err)
	}
}
