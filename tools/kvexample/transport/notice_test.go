package transport_test

import (
	"sync"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// hostSet is a set of hosted groups that changes while a transport asks
// it from its goroutines, as a host adding and removing replicas does.
type hostSet struct {
	mu     sync.Mutex
	groups map[uint64]bool
	asked  int
}

func (h *hostSet) hosts(g uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked++
	return h.groups[g]
}

func (h *hostSet) set(g uint64, hosted bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.groups[g] = hosted
}

// Claim: a removed notice travels from SendGroups to ReceiveGroups as a
// notice, with its group, index and term, delivered although the receiver does
// not host the group (while a message of that group is dropped), and a
// notice holding more than From and To, or without a term, is dropped at
// the sender, counted,
// without closing the connection every group shares.
func TestRemovedNoticesAreDeliveredWhateverTheReceiverHosts(t *testing.T) {
	h := &hostSet{groups: map[uint64]bool{1: true}}
	a, b := startGroupsPair(t, transport.Config{}, transport.Config{HostsGroup: h.hosts})
	notice := transport.GroupMessage{Group: 9, Removed: 42, RemovedTerm: 3, Message: raftpb.Message{From: 1, To: 2}}
	app := transport.GroupMessage{Group: 1, Message: raftpb.Message{Type: raftpb.MsgAppResp, From: 1, To: 2, Term: 3, Index: 7}}
	unhosted := transport.GroupMessage{Group: 9, Message: raftpb.Message{Type: raftpb.MsgAppResp, From: 1, To: 2, Term: 3, Index: 8}}
	a.SendGroups([]transport.GroupMessage{unhosted, notice, app})
	if d := diffGroupMessages([]transport.GroupMessage{notice, app}, flatten(receiveGroups(t, b, 2))); d != "" {
		t.Fatal(d)
	}
	if s := b.Stats(); s.UnhostedDrops != 1 || s.DecodeErrors != 0 {
		t.Fatalf("receiver stats %+v, want 1 unhosted drop", s)
	}
	bad := notice
	bad.Message.Term = 5
	termless := notice
	termless.RemovedTerm = 0
	a.SendGroups([]transport.GroupMessage{bad, termless, app})
	if d := diffGroupMessages([]transport.GroupMessage{app}, flatten(receiveGroups(t, b, 1))); d != "" {
		t.Fatal(d)
	}
	if s := a.Stats(); s.Drops != 2 {
		t.Fatalf("sender stats %+v, want the bad notice dropped", s)
	}
	if s := a.Stats(); s.Reconnects != 0 || b.Stats().DecodeErrors != 0 {
		t.Fatalf("sender stats %+v, receiver decode errors %d: want the first connection still up", s, b.Stats().DecodeErrors)
	}
}

// Claim: Config.HostsGroup is asked per message as each batch is
// delivered, so that a group the host starts hosting has its messages
// delivered from then on, and one it stops hosting has them dropped,
// without a restart; the race detector checks that it is asked from the
// transport's goroutines while the test changes it.
func TestHostsGroupIsAskedPerMessageAsGroupsComeAndGo(t *testing.T) {
	h := &hostSet{groups: map[uint64]bool{1: true}}
	a, b := startGroupsPair(t, transport.Config{}, transport.Config{HostsGroup: h.hosts})
	round := uint64(0)
	// send sends a message of group 5 and then one of group 1 in one call,
	// and returns the groups delivered.
	send := func() []uint64 {
		round++
		a.SendGroups([]transport.GroupMessage{
			{Group: 5, Message: raftpb.Message{Type: raftpb.MsgAppResp, From: 1, To: 2, Index: round}},
			{Group: 1, Message: raftpb.Message{Type: raftpb.MsgAppResp, From: 1, To: 2, Index: round}},
		})
		var groups []uint64
		for _, g := range receiveGroups(t, b, 1)[0] {
			groups = append(groups, g.Group)
		}
		return groups
	}
	for i, hosted := range []bool{false, true, true, false, true, false} {
		h.set(5, hosted)
		got := send()
		want := []uint64{1}
		if hosted {
			want = []uint64{5, 1}
		}
		if len(got) != len(want) || got[0] != want[0] {
			t.Fatalf("step %d, group 5 hosted %v: delivered groups %v, want %v", i, hosted, got, want)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.asked != 12 {
		t.Fatalf("HostsGroup was asked %d times for 12 messages", h.asked)
	}
}
