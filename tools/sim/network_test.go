package sim

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

func TestMessagesArriveByTimeThenBySendingOrder(t *testing.T) {
	n := newNetwork(newRNG(1, streamNetwork), 2, 2, 0, 4)
	for i := uint64(1); i <= 3; i++ {
		n.send(10, raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: i}, Faults{})
	}
	if res := n.send(10, raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2}, Faults{Duplicate: 1}); !res.duplicated {
		t.Fatal("not duplicated")
	}
	if res := n.send(10, raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2}, Faults{Drop: 1}); !res.dropped {
		t.Fatal("not dropped")
	}
	if _, ok := n.next(11); ok {
		t.Fatal("a message arrived before its latency")
	}
	var got []uint64
	for {
		e, ok := n.next(12)
		if !ok {
			break
		}
		var m raftpb.Message
		if err := m.Unmarshal(e.data); err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Term)
	}
	if len(got) != 5 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("arrived: %v", got)
	}
}

func TestCutsAreDirectedAndHealRestoresEveryLink(t *testing.T) {
	n := newNetwork(newRNG(1, streamNetwork), 1, 1, 0, 1)
	n.split(1<<1|1<<2, 4) // {1, 2} | {3, 4}
	n.cut[3][4] = true    // and one way inside the second group
	for _, c := range []struct {
		a, b uint64
		want bool
	}{{1, 2, true}, {1, 3, false}, {3, 1, false}, {3, 4, false}, {4, 3, true}} {
		if got := n.linked(c.a, c.b); got != c.want {
			t.Errorf("%d -> %d linked: %t", c.a, c.b, got)
		}
	}
	n.heal()
	if !n.whole() || !n.linked(1, 3) {
		t.Fatal("heal left a cut")
	}
}
