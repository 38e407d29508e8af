package readonly

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/tracker"
)

func voters(in, out []uint64) tracker.JointConfig {
	return tracker.JointConfig{tracker.MakeMajorityConfig(in...), tracker.MakeMajorityConfig(out...)}
}

func TestReadsWaitingWhenARoundStartsAreAnsweredByThatRound(t *testing.T) {
	ro := New(10)
	must(t, ro.Add(Request{Ctx: []byte("a"), From: 1}))
	must(t, ro.Add(Request{Ctx: []byte("b"), From: 2}))
	round := ro.StartRound(7)
	must(t, ro.Add(Request{Ctx: []byte("c"), From: 1})) // arrives after the round began
	ro.Ack(1, round, 1)
	if got := release(ro, voters([]uint64{1, 2, 3}, nil)); got != nil {
		t.Fatalf("released %v on the leader's own ack alone", got)
	}
	ro.Ack(3, round, 1)
	got := release(ro, voters([]uint64{1, 2, 3}, nil))
	if len(got) != 2 || got[0].Index != 7 || string(got[1].Ctx) != "b" {
		t.Fatalf("released %v, want a and b at index 7", got)
	}
	if ro.Len() != 1 || !ro.NeedsRound() {
		t.Fatal("c must wait for a round of its own")
	}
}

func TestAnAnswerToALaterRoundConfirmsEarlierRounds(t *testing.T) {
	ro := New(10)
	must(t, ro.Add(Request{Ctx: []byte("a")}))
	r1 := ro.StartRound(1)
	must(t, ro.Add(Request{Ctx: []byte("b")}))
	r2 := ro.StartRound(2)
	ro.Ack(1, r2, 1)
	ro.Ack(2, r2, 1)
	if got := release(ro, voters([]uint64{1, 2, 3}, nil)); len(got) != 2 || r1 >= r2 {
		t.Fatalf("released %v", got)
	}
}

func TestJointConfigurationNeedsBothHalvesToConfirmARound(t *testing.T) {
	ro := New(10)
	must(t, ro.Add(Request{Ctx: []byte("a")}))
	round := ro.StartRound(1)
	cfg := voters([]uint64{1, 2, 3}, []uint64{1, 4, 5})
	ro.Ack(1, round, 1)
	ro.Ack(2, round, 1)
	if got := release(ro, cfg); got != nil {
		t.Fatalf("released %v with only the incoming half", got)
	}
	ro.Ack(4, round, 1)
	if got := release(ro, cfg); len(got) != 1 {
		t.Fatalf("released %v, want the read once both halves answered", got)
	}
}

func TestFullQueueRefusesAndChangesNothing(t *testing.T) {
	ro := New(1)
	must(t, ro.Add(Request{Ctx: []byte("a")}))
	if err := ro.Add(Request{Ctx: []byte("b")}); !errors.Is(err, ErrTooManyPendingReads) {
		t.Fatalf("Add on a full queue = %v", err)
	}
	if ro.Len() != 1 {
		t.Fatalf("queue holds %d", ro.Len())
	}
}

func TestQuorumTickIsTheLatestSendTickAQuorumAnswered(t *testing.T) {
	ro := New(1)
	ro.Ack(1, 0, 9)
	ro.Ack(2, 0, 5)
	ro.Ack(3, 0, 2)
	ro.Ack(2, 0, 3) // stale answers never lower it
	if got := ro.QuorumTick(voters([]uint64{1, 2, 3}, nil)); got != 5 {
		t.Fatalf("QuorumTick = %d, want 5", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// release collects what Release hands out.
func release(ro *ReadOnly, cfg tracker.JointConfig) []Request {
	var got []Request
	ro.Release(cfg, func(req Request) { got = append(got, req) })
	return got
}

// TestAcknowledgementsOfExpectedPeersGrowNoArray: once a new leader said
// how many members answer (ExpectPeers), their first acknowledgements of
// the term take one array, made at once, instead of one per doubling.
func TestAcknowledgementsOfExpectedPeersGrowNoArray(t *testing.T) {
	var ro *ReadOnly
	allocs := testing.AllocsPerRun(10, func() {
		ro = New(10) // one allocation
		ro.ExpectPeers(5)
		for peer := uint64(1); peer <= 5; peer++ {
			ro.Ack(peer, 1, 1)
		}
	})
	if allocs != 2 {
		t.Errorf("a new leader's read rounds and 5 acknowledgements allocate %.1f times, want 2", allocs)
	}
	if got := ro.QuorumRound(voters([]uint64{1, 2, 3, 4, 5}, nil)); got != 1 {
		t.Errorf("QuorumRound = %d after every member answered round 1", got)
	}
}
