package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// TestHasReadyIsAPureQuery: HasReady changes nothing, however often it is
// called: a leader with appends and a read round waiting sends nothing
// and starts no round until Ready.
func TestHasReadyIsAPureQuery(t *testing.T) {
	c := electedCluster(t, 1)
	leader := c.nodes[1]
	if _, _, err := leader.Propose([]byte("x")); err != nil {
		t.Fatal(err)
	}
	must(t, leader.ReadIndex([]byte("r")))
	before := fingerprint(leader)
	pending := leader.readOnly.NeedsRound()
	for i := 0; i < 3; i++ {
		if !leader.HasReady() {
			t.Fatal("HasReady is false with an append and a read waiting")
		}
	}
	if after := fingerprint(leader); after != before || leader.readOnly.NeedsRound() != pending || len(readStatesOf(leader)) != 0 {
		t.Fatalf("HasReady changed the node:\nbefore %s\nafter  %s", before, after)
	}
	rd := leader.Ready()
	if len(rd.Messages) == 0 {
		t.Fatal("Ready sent no appends or heartbeats")
	}
}

// TestHasReadyIsFalseWhenEveryFollowerIsPaused: pending appends that
// would send nothing (every follower's inflight window is full and it
// holds the commit index it can be told) make no Ready.
func TestHasReadyIsFalseWhenEveryFollowerIsPaused(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.MaxInflightMsgs = 1 })
	leader := c.nodes[1]
	for i := 0; i < 2; i++ {
		if _, _, err := leader.Propose([]byte("x")); err != nil {
			t.Fatal(err)
		}
		c.drain(1) // persisted; the appends are lost in the network
	}
	// The first proposal's append fills each window; the second waits.
	leader.appendsPending = true // as an acknowledgement that frees nothing leaves it
	if leader.HasReady() {
		t.Fatalf("HasReady with every follower's window full: %s", fingerprint(leader))
	}
	leader.trk.Progress(2).Inflights.FreeLE(leader.raftLog.lastIndex())
	if !leader.HasReady() {
		t.Fatal("HasReady is false with a follower's window open and an entry to send")
	}
}

// TestAReadyWithoutMessagesKeepsTheEarlierOnesArray: the application may
// call Ready more than once before Advance. A Ready that hands out no
// messages must not make the array of an earlier Ready's messages spare:
// the next message would overwrite one the application has yet to send.
func TestAReadyWithoutMessagesKeepsTheEarlierOnesArray(t *testing.T) {
	c := electedCluster(t, 2)
	r := c.nodes[1]
	for i := 0; i < 3; i++ { // busy: the node keeps an array for reuse
		r.bcastHeartbeat()
		r.Ready()
		r.Advance()
	}
	r.bcastHeartbeat()
	rd1 := r.Ready()
	if len(rd1.Messages) == 0 {
		t.Fatal("the heartbeats were not handed out")
	}
	want := append([]raftpb.Message(nil), rd1.Messages...)
	if rd2 := r.Ready(); len(rd2.Messages) != 0 {
		t.Fatalf("a second Ready handed out %v", rd2.Messages)
	}
	if _, _, err := r.Propose([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if rd3 := r.Ready(); len(rd3.Messages) == 0 { // the appends: other messages
		t.Fatal("the appends were not handed out")
	}
	for i := range want {
		if rd1.Messages[i].Type != want[i].Type || rd1.Messages[i].To != want[i].To || string(rd1.Messages[i].Context) != string(want[i].Context) {
			t.Fatalf("message %d of the first Ready changed before Advance: %v, was %v", i, rd1.Messages[i], want[i])
		}
	}
}
