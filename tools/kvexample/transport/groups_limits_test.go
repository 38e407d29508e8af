package transport_test

import (
	"net"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// Claim: in multi-group mode each process's queue is bounded by count and
// bytes as in single-group mode: what does not fit, is too large for a
// frame, goes to an unknown process or is of a local type is dropped,
// and the unknown process reported once per call. The wire, once the
// peer comes up, carries exactly what was queued.
func TestSendGroupsDropsWhatItCannotQueueAndReportsThePeer(t *testing.T) {
	down, down3 := reserveAddr(t), reserveAddr(t)
	u := newUnreachableLog()
	a := start(t, transport.Config{
		ID: 1, Groups: true, Peers: map[uint64]string{2: down, 3: down3}, Unreachable: u.report,
		MaxQueueMsgs: 3, MaxQueueBytes: 1500, MaxFrameBytes: 4000,
	})
	big := msgApp(1, 2, 1, 1, 2000)    // above MaxQueueBytes, fits an empty queue
	small := msgApp(1, 2, 2, 1, 100)   // does not fit behind big
	huge := msgApp(1, 2, 3, 1, 3990)   // its record would pass MaxFrameBytes
	unknown := msgApp(1, 9, 4, 1, 100) // 9 is not a peer
	local := raftpb.Message{Type: raftpb.MsgHup, From: 1, To: 2}
	var msgs []transport.GroupMessage
	for g, m := range []raftpb.Message{big, small, huge, unknown, unknown, local} {
		msgs = append(msgs, transport.GroupMessage{Group: uint64(g), Message: m})
	}
	a.SendGroups(msgs)
	if got := u.count(9); got != 1 {
		t.Fatalf("unknown process 9 reported %d times by one call, want 1", got)
	}
	if got := u.count(2); got < 1 {
		t.Fatalf("process 2 reported %d times, want at least 1", got)
	}
	if s := a.Stats(); s.Drops != 5 {
		t.Fatalf("Drops = %d, want 5 (small, huge, unknown twice, local)", s.Drops)
	}

	// Five messages to process 3 against a count bound of three: two drop.
	var five []transport.GroupMessage
	for g := uint64(10); g < 15; g++ {
		five = append(five, transport.GroupMessage{Group: g, Message: raftpb.Message{Type: raftpb.MsgAppResp, From: 1, To: 3, Index: g}})
	}
	a.SendGroups(five)
	if s := a.Stats(); s.Drops != 7 || u.count(3) < 1 {
		t.Fatalf("Drops = %d and process 3 reported %d times, want 7 and at least 1", s.Drops, u.count(3))
	}

	// Process 2 comes up: the wire carries big, then a marker sent after
	// it, and nothing else.
	_, read := rawGroupsPeerAt(t, down)
	got := flatten(framesMsgs(read(1)))
	marker := transport.GroupMessage{Group: 99, Message: raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 9}}
	a.SendGroups([]transport.GroupMessage{marker})
	got = append(got, flatten(framesMsgs(read(1)))...)
	if d := diffGroupMessages([]transport.GroupMessage{msgs[0], marker}, got); d != "" {
		t.Fatalf("the wire carried other messages than those queued: %s", d)
	}
}

// framesMsgs returns the messages of each frame.
func framesMsgs(frames []wireFrame) [][]transport.GroupMessage {
	var out [][]transport.GroupMessage
	for _, f := range frames {
		out = append(out, f.msgs)
	}
	return out
}

// Claim: in multi-group mode the receive rate bound counts messages, not
// frames: a flood of batches of ten delivers MaxRecvMsgsPerSec messages
// per second of the transport's clock (counted at ReceiveGroups), whole
// batches being delivered or dropped, and the bucket refills with time.
func TestAFloodOfBatchesIsBoundedPerSecondInMessages(t *testing.T) {
	const rate, batches, perBatch = 50, 40, 10
	clock := &fakeClock{now: time.Unix(1000, 0)}
	cfg := transport.Config{ID: 2, Groups: true, MaxRecvMsgsPerSec: rate, RecvBufferMsgs: 2 * batches}
	transport.SetClock(&cfg, clock.Now)
	b := start(t, cfg)
	batch := func(k uint64) []transport.GroupMessage {
		var out []transport.GroupMessage
		for g := uint64(1); g <= perBatch; g++ {
			out = append(out, transport.GroupMessage{Group: g, Message: raftpb.Message{Type: raftpb.MsgHeartbeat, From: 7, To: 2, Term: 1, Commit: k}})
		}
		return out
	}
	stream := transport.AppendGroupsHello(nil, "", 7, 2)
	for k := uint64(1); k <= batches; k++ {
		stream = transport.AppendBatch(stream, 7, 2, batch(k))
	}
	flooder := dialRaw(t, b.Addr().String(), stream)
	delivered := 0
	for _, got := range receiveGroups(t, b, rate) {
		if len(got) != perBatch {
			t.Fatalf("a batch of %d messages was delivered as %d", perBatch, len(got))
		}
		delivered += len(got)
	}
	// Move the clock on by a second only once every batch was read (the
	// drop counter serves to wait, not as the oracle: that is what
	// ReceiveGroups delivered), then send a marker batch, which the
	// refilled bucket lets through after anything else delivered.
	waitFor(t, "the flood to be read", func() bool { return b.Stats().RateDrops == batches*perBatch-rate })
	clock.advance(time.Second)
	if _, err := flooder.Write(transport.AppendBatch(nil, 7, 2, batch(batches+1))); err != nil {
		t.Fatal(err)
	}
	for {
		got := receiveGroups(t, b, 1)[0]
		if got[0].Message.Commit == batches+1 {
			break
		}
		delivered += len(got)
	}
	if delivered != rate {
		t.Fatalf("delivered %d of the flood's %d messages within one second, want %d", delivered, batches*perBatch, rate)
	}
}

// Claim: in multi-group mode the messages delivered at one instant of the
// transport's clock never exceed the larger of MaxRecvMsgsPerSec and one
// batch (counted at ReceiveGroups): of batches of 40 against a bucket of
// 50, one passes and the rest are dropped; a batch of 60, larger than the
// bucket, passes from a full bucket, and one sent after it at the same
// instant is dropped.
func TestBatchesAtOneInstantDeliverAtMostTheRateOrOneBatch(t *testing.T) {
	const rate = 50
	clock := &fakeClock{now: time.Unix(1000, 0)}
	cfg := transport.Config{ID: 2, Groups: true, MaxRecvMsgsPerSec: rate, RecvBufferMsgs: 64}
	transport.SetClock(&cfg, clock.Now)
	b := start(t, cfg)
	batch := func(n int, k uint64) []transport.GroupMessage {
		var out []transport.GroupMessage
		for g := 1; g <= n; g++ {
			out = append(out, transport.GroupMessage{Group: uint64(g), Message: raftpb.Message{Type: raftpb.MsgHeartbeat, From: 7, To: 2, Term: 1, Commit: k}})
		}
		return out
	}
	sent := 0
	// instant sends batches of the sizes given and returns the messages
	// ReceiveGroups delivered of them (the counters serve to wait until
	// every batch was read, not as the oracle).
	var conn net.Conn
	instant := func(sizes ...int) int {
		var stream []byte
		if conn == nil {
			stream = transport.AppendGroupsHello(nil, "", 7, 2)
		}
		for i, n := range sizes {
			stream = transport.AppendBatch(stream, 7, 2, batch(n, uint64(i)))
			sent += n
		}
		if conn == nil {
			conn = dialRaw(t, b.Addr().String(), stream)
		} else if _, err := conn.Write(stream); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "every batch to be read", func() bool {
			st := b.Stats()
			return st.RateDrops+st.MsgsReceived == uint64(sent)
		})
		delivered := 0
		for {
			select {
			case got := <-b.ReceiveGroups():
				delivered += len(got)
			default:
				return delivered
			}
		}
	}
	if got := instant(40, 40, 40, 40, 40); got != 40 {
		t.Errorf("five batches of 40 at one instant, bucket of %d: %d messages delivered, want one batch (40)", rate, got)
	}
	clock.advance(time.Second)
	if got := instant(60, 40); got != 60 {
		t.Errorf("a batch of 60 then one of 40 from a full bucket of %d: %d messages delivered, want the first batch (60)", rate, got)
	}
}
