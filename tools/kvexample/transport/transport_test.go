package transport_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// startPair starts transports 1 and 2, each a peer of the other.
func startPair(t testing.TB, cfg1, cfg2 transport.Config) (*transport.Transport, *transport.Transport) {
	t.Helper()
	cfg2.ID = 2
	b := start(t, cfg2)
	cfg1.ID = 1
	cfg1.Peers = map[uint64]string{2: b.Addr().String()}
	a := start(t, cfg1)
	if err := b.AddPeer(1, a.Addr().String()); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestTwoTransportsDeliverEveryMessageIntactAndInOrder(t *testing.T) {
	a, b := startPair(t, transport.Config{}, transport.Config{})
	const n = 600
	var toB, toA []raftpb.Message
	for i := uint64(1); i <= n; i++ {
		if i == n/2 {
			toB = append(toB, msgSnap(1, 2, i, 8<<20))
		} else {
			toB = append(toB, msgApp(1, 2, i, 4, 100))
		}
		toA = append(toA, raftpb.Message{Type: raftpb.MsgAppResp, From: 2, To: 1, Term: 3, Index: i})
	}
	for i := 0; i < n; i += 50 {
		a.Send(toB[i : i+50])
		b.Send(toA[i : i+50])
	}
	if d := diffMessages(toB, receive(t, b, n)); d != "" {
		t.Fatalf("messages from 1 to 2 differ (-sent +received):\n%s", d)
	}
	if d := diffMessages(toA, receive(t, a, n)); d != "" {
		t.Fatalf("messages from 2 to 1 differ (-sent +received):\n%s", d)
	}
	for i, tr := range []*transport.Transport{a, b} {
		waitFor(t, fmt.Sprintf("node %d to flush its frames", i+1), func() bool { return tr.Stats().FramesSent == n })
		if s := tr.Stats(); s.Drops != 0 || s.DecodeErrors != 0 || s.FramesReceived != n || s.Unreachable != 0 {
			t.Fatalf("node %d stats = %+v, want no drops, decode errors or reports and %d frames received", i+1, s, n)
		}
	}
}

func TestThreeTransportsKeepEveryLinkInOrder(t *testing.T) {
	trs := make([]*transport.Transport, 3)
	for i := range trs {
		trs[i] = start(t, transport.Config{ID: uint64(i + 1)})
	}
	for i, tr := range trs {
		for j, peer := range trs {
			if i != j {
				if err := tr.AddPeer(uint64(j+1), peer.Addr().String()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	const perLink = 300
	want := map[[2]uint64][]raftpb.Message{} // by (from, to)
	for k := uint64(1); k <= perLink; k++ {
		for i, tr := range trs {
			from := uint64(i + 1)
			var batch []raftpb.Message
			for to := uint64(1); to <= 3; to++ {
				if to != from {
					m := msgApp(from, to, k, int(k%5), 32)
					batch = append(batch, m)
					want[[2]uint64{from, to}] = append(want[[2]uint64{from, to}], m)
				}
			}
			tr.Send(batch)
		}
	}
	for i, tr := range trs {
		to := uint64(i + 1)
		got := map[[2]uint64][]raftpb.Message{}
		for _, m := range receive(t, tr, 2*perLink) {
			got[[2]uint64{m.From, m.To}] = append(got[[2]uint64{m.From, m.To}], m)
		}
		for from := uint64(1); from <= 3; from++ {
			if from == to {
				continue
			}
			link := [2]uint64{from, to}
			if d := diffMessages(want[link], got[link]); d != "" {
				t.Fatalf("link %d->%d differs (-sent +received):\n%s", from, to, d)
			}
		}
		if s := tr.Stats(); s.Drops != 0 || s.DecodeErrors != 0 {
			t.Fatalf("node %d stats = %+v, want no drops or decode errors", to, s)
		}
	}
}

func TestSendDropsWhatItCannotQueueAndReportsThePeer(t *testing.T) {
	down := reserveAddr(t)
	u := newUnreachableLog()
	a := start(t, transport.Config{
		ID: 1, Peers: map[uint64]string{2: down}, Unreachable: u.report,
		MaxQueueMsgs: 100, MaxQueueBytes: 1000, MaxFrameBytes: 4000,
	})
	big := msgApp(1, 2, 1, 1, 2000)    // above MaxQueueBytes, fits an empty queue
	small := msgApp(1, 2, 2, 1, 100)   // does not fit behind big
	huge := msgApp(1, 2, 3, 1, 5000)   // above MaxFrameBytes
	unknown := msgApp(1, 9, 4, 1, 100) // 9 is not a peer
	local := raftpb.Message{Type: raftpb.MsgHup, To: 2}
	a.Send([]raftpb.Message{big, small, huge, unknown, unknown, local})

	if s := a.Stats(); s.Drops != 5 {
		t.Fatalf("Drops = %d, want 5 (small, huge, unknown twice, local)", s.Drops)
	}
	if got := u.count(9); got != 1 {
		t.Fatalf("unknown peer 9 reported %d times by one Send, want 1", got)
	}
	if got := u.count(2); got < 1 {
		t.Fatalf("peer 2 reported %d times, want at least 1", got)
	}
}

func TestDownPeerOverflowsItsQueueThenTheLinkReconnects(t *testing.T) {
	addrB := reserveAddr(t)
	u := newUnreachableLog()
	a := start(t, transport.Config{
		ID: 1, Peers: map[uint64]string{2: addrB}, Unreachable: u.report, MaxQueueMsgs: 8,
	})
	var first []raftpb.Message
	for i := uint64(1); i <= 20; i++ {
		first = append(first, msgApp(1, 2, i, 2, 64))
	}
	a.Send(first)
	if s := a.Stats(); s.Drops != 12 {
		t.Fatalf("with 2 down and a queue of 8, Drops = %d after 20 sends, want 12", s.Drops)
	}
	if u.count(2) < 1 {
		t.Fatal("peer 2 not reported unreachable when its queue overflowed")
	}
	waitFor(t, "a failed dial to be reported", func() bool {
		return a.Stats().DialFailures >= 1 && u.count(2) >= 2
	})

	// 2 comes up: the eight queued messages arrive first, in order.
	b := start(t, transport.Config{ID: 2, ListenAddr: addrB})
	if d := diffMessages(first[:8], receive(t, b, 8)); d != "" {
		t.Fatalf("queued messages differ (-queued +received):\n%s", d)
	}
	if s := a.Stats(); s.Reconnects != 1 {
		t.Fatalf("Reconnects = %d, want 1", s.Reconnects)
	}
	sendAndExpectInOrder(t, a, b, 100, 50)

	// 2 is killed: 1 notices the closed connection and reports it.
	reports := u.count(2)
	b.Close()
	waitFor(t, "the lost connection to be reported", func() bool { return u.count(2) > reports })

	// 2 restarts on the same address and the link comes back.
	b2 := start(t, transport.Config{ID: 2, ListenAddr: addrB})
	sendAndExpectInOrder(t, a, b2, 1000, 50)
	if s := a.Stats(); s.Reconnects < 2 {
		t.Fatalf("Reconnects = %d, want at least 2", s.Reconnects)
	}
}

// sendAndExpectInOrder sends heartbeats from a to b until one arrives,
// then n messages numbered from base+1 in chunks of four, each once the
// previous chunk arrived (so that a queue of eight never overflows), and
// checks that they arrive in order.
func sendAndExpectInOrder(t *testing.T, a, b *transport.Transport, base uint64, n int) {
	t.Helper()
	marker := raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 3, Commit: base}
	waitFor(t, "a heartbeat to cross the link", func() bool {
		a.Send([]raftpb.Message{marker})
		select {
		case <-b.Receive():
			return true
		default:
			return false
		}
	})
	var want, got []raftpb.Message
	for i := range uint64(n) {
		want = append(want, msgApp(1, 2, base+1+i, 1, 64))
	}
	for len(got) < n {
		a.Send(want[len(got):min(len(got)+4, n)])
		for chunkEnd := min(len(got)+4, n); len(got) < chunkEnd; {
			if m := receive(t, b, 1)[0]; m.Type == raftpb.MsgApp {
				got = append(got, m)
			}
		}
	}
	if d := diffMessages(want, got); d != "" {
		t.Fatalf("messages after reconnection differ (-sent +received):\n%s", d)
	}
}

func TestAddPeerAndRemovePeerChangeWhereMessagesGo(t *testing.T) {
	u := newUnreachableLog()
	a := start(t, transport.Config{ID: 1, Unreachable: u.report})
	b := start(t, transport.Config{ID: 2})
	m := msgApp(1, 2, 1, 1, 8)

	a.Send([]raftpb.Message{m})
	if s := a.Stats(); s.Drops != 1 || u.count(2) != 1 {
		t.Fatalf("before AddPeer: Drops = %d, reports = %d; want 1 and 1", s.Drops, u.count(2))
	}
	if err := a.AddPeer(2, b.Addr().String()); err != nil {
		t.Fatal(err)
	}
	a.Send([]raftpb.Message{m})
	receive(t, b, 1)

	a.RemovePeer(2)
	a.Send([]raftpb.Message{m})
	if s := a.Stats(); s.Drops != 2 {
		t.Fatalf("after RemovePeer: Drops = %d, want 2", s.Drops)
	}

	// 2 moves to a new address.
	b.Close()
	b2 := start(t, transport.Config{ID: 2})
	if err := a.AddPeer(2, b2.Addr().String()); err != nil {
		t.Fatal(err)
	}
	sendAndExpectInOrder(t, a, b2, 10, 5)

	for _, tc := range []struct {
		id   uint64
		addr string
	}{{0, "127.0.0.1:1"}, {1, "127.0.0.1:1"}, {3, ""}} {
		if err := a.AddPeer(tc.id, tc.addr); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Errorf("AddPeer(%d, %q) = %v, want ErrInvalidConfig", tc.id, tc.addr, err)
		}
	}
	a.Close()
	if err := a.AddPeer(3, "127.0.0.1:1"); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("AddPeer after Close = %v, want ErrClosed", err)
	}
}

func TestNewRefusesInvalidConfig(t *testing.T) {
	cases := []transport.Config{
		{ListenAddr: "127.0.0.1:0"},
		{ID: 1},
		{ID: 1, ListenAddr: "127.0.0.1:0", Peers: map[uint64]string{1: "127.0.0.1:1"}},
		{ID: 1, ListenAddr: "127.0.0.1:0", Peers: map[uint64]string{0: "127.0.0.1:1"}},
		{ID: 1, ListenAddr: "127.0.0.1:0", Peers: map[uint64]string{2: ""}},
		{ID: 1, ListenAddr: "127.0.0.1:0", MaxQueueMsgs: -1},
		{ID: 1, ListenAddr: "127.0.0.1:0", MaxFrameBytes: 1 << 33},
		{ID: 1, ListenAddr: "127.0.0.1:0", MinBackoff: 2e9, MaxBackoff: 1e9},
	}
	for i, cfg := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if tr, err := transport.New(cfg); !errors.Is(err, transport.ErrInvalidConfig) {
				if tr != nil {
					tr.Close()
				}
				t.Fatalf("New(%+v) error = %v, want ErrInvalidConfig", cfg, err)
			}
		})
	}
	busy := start(t, transport.Config{ID: 1})
	if tr, err := transport.New(transport.Config{ID: 2, ListenAddr: busy.Addr().String()}); err == nil {
		tr.Close()
		t.Fatal("New on an address in use succeeded")
	}
}
