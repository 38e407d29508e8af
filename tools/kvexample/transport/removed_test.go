package transport_test

import (
	"sync"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// Claim: a node that applied the removal of a peer answers that peer's
// connection with the removal's index, which reaches the peer's
// ToldRemoved, and delivers nothing from it; a peer it did not remove is
// served and told nothing.
func TestARemovedNodeIsToldAtWhichIndex(t *testing.T) {
	var mu sync.Mutex
	told := map[uint64]uint64{}
	toldFn := func(peer, index uint64) {
		mu.Lock()
		told[peer] = index
		mu.Unlock()
	}
	b := start(t, transport.Config{ID: 2, RemovedAt: func(id uint64) (uint64, bool) { return 42, id == 1 }})
	removed := start(t, transport.Config{ID: 1, ToldRemoved: toldFn, Peers: map[uint64]string{2: b.Addr().String()}})
	member := start(t, transport.Config{ID: 3, ToldRemoved: toldFn, Peers: map[uint64]string{2: b.Addr().String()}})
	waitFor(t, "node 1 to be told", func() bool {
		removed.Send([]raftpb.Message{{Type: raftpb.MsgPreVote, From: 1, To: 2, Term: 9}})
		mu.Lock()
		defer mu.Unlock()
		return told[2] == 42
	})
	member.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeatResp, From: 3, To: 2, Term: 1}})
	for {
		m := receive(t, b, 1)[0]
		if m.From == 1 {
			t.Fatalf("the removed node's message was delivered: %+v", m)
		}
		if m.From == 3 {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 1 {
		t.Fatalf("told = %v; want only node 1 told, by node 2", told)
	}
}
