package transport_test

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// startGroupsPair starts multi-group transports 1 and 2, each a peer of
// the other.
func startGroupsPair(t testing.TB, cfg1, cfg2 transport.Config) (*transport.Transport, *transport.Transport) {
	t.Helper()
	cfg1.Groups, cfg2.Groups = true, true
	return startPair(t, cfg1, cfg2)
}

// receiveGroups collects batches from tr until they hold n messages,
// failing the test after waitTimeout.
func receiveGroups(t testing.TB, tr *transport.Transport, n int) [][]transport.GroupMessage {
	t.Helper()
	var got [][]transport.GroupMessage
	total := 0
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for total < n {
		select {
		case b := <-tr.ReceiveGroups():
			got = append(got, b)
			total += len(b)
		case <-timer.C:
			t.Fatalf("received %d of %d messages within %v", total, n, waitTimeout)
		}
	}
	return got
}

// flatten concatenates batches.
func flatten(batches [][]transport.GroupMessage) []transport.GroupMessage {
	var out []transport.GroupMessage
	for _, b := range batches {
		out = append(out, b...)
	}
	return out
}

// diffGroupMessages is diffMessages for GroupMessages.
func diffGroupMessages(want, got []transport.GroupMessage) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if want[i].Group != got[i].Group || want[i].Removed != got[i].Removed || want[i].RemovedTerm != got[i].RemovedTerm {
			return fmt.Sprintf("message %d: group %d removed at %d/%d, want group %d removed at %d/%d", i,
				got[i].Group, got[i].RemovedTerm, got[i].Removed, want[i].Group, want[i].RemovedTerm, want[i].Removed)
		}
		if d := diffMessages([]raftpb.Message{want[i].Message}, []raftpb.Message{got[i].Message}); d != "" {
			return fmt.Sprintf("message %d of group %d (-want +got):\n%s", i, want[i].Group, d)
		}
	}
	return ""
}

// groupMix returns, for round k, one message of each of groups 1..groups
// from from to to: appends, heartbeats with a context, responses and,
// once, a snapshot.
func groupMix(from, to, k uint64, groups int) []transport.GroupMessage {
	var out []transport.GroupMessage
	for g := uint64(1); g <= uint64(groups); g++ {
		var m raftpb.Message
		switch (k + g) % 4 {
		case 0:
			m = msgApp(from, to, k*100+g, int(g%3), 40)
		case 1:
			ctx := raftpb.HeartbeatContext{Round: k, Tick: g}.Encode()
			m = raftpb.Message{Type: raftpb.MsgHeartbeat, From: from, To: to, Term: g, LogTerm: g, Commit: k, Context: ctx}
		case 2:
			m = raftpb.Message{Type: raftpb.MsgAppResp, From: from, To: to, Term: g, Index: k}
		case 3:
			m = raftpb.Message{Type: raftpb.MsgHeartbeatResp, From: from, To: to, Term: g}
		}
		if k == 7 && g == 3 {
			m = msgSnap(from, to, k, 256<<10)
		}
		out = append(out, transport.GroupMessage{Group: g, Message: m})
	}
	return out
}

// Claim: two multi-group transports deliver every group's messages
// intact, in the order sent, in both directions, and count frames and
// messages alike on both sides.
func TestGroupsDeliverEveryGroupsMessagesIntactAndInOrder(t *testing.T) {
	a, b := startGroupsPair(t, transport.Config{}, transport.Config{})
	const rounds, groups = 40, 25
	var toB, toA []transport.GroupMessage
	for k := uint64(1); k <= rounds; k++ {
		ab, ba := groupMix(1, 2, k, groups), groupMix(2, 1, k, groups)
		toB, toA = append(toB, ab...), append(toA, ba...)
		a.SendGroups(ab)
		for g := uint64(1); g <= groups; g++ { // SendGroup, one group per call
			b.SendGroup(g, []raftpb.Message{ba[g-1].Message})
		}
	}
	if d := diffGroupMessages(toB, flatten(receiveGroups(t, b, len(toB)))); d != "" {
		t.Fatalf("1 to 2: %s", d)
	}
	if d := diffGroupMessages(toA, flatten(receiveGroups(t, a, len(toA)))); d != "" {
		t.Fatalf("2 to 1: %s", d)
	}
	for _, pair := range [][2]*transport.Transport{{a, b}, {b, a}} {
		from, to := pair[0], pair[1]
		waitFor(t, "every message to be counted as sent", func() bool { return from.Stats().MsgsSent == rounds*groups })
		s, r := from.Stats(), to.Stats()
		if s.Drops != 0 || r.DecodeErrors != 0 || r.MsgsReceived != rounds*groups || r.FramesReceived != s.FramesSent || s.FramesSent > s.MsgsSent {
			t.Fatalf("sender stats %+v, receiver stats %+v", s, r)
		}
	}
}

// wireFrame is one frame as read off the wire by a raw peer.
type wireFrame struct {
	bytes int // with its length prefix
	msgs  []transport.GroupMessage
}

// rawGroupsPeer listens on loopback as process 2 of a multi-group cluster
// and returns its address and a function that reads frames until they
// carried n messages; its first call accepts one connection, within
// waitTimeout, and reads its hello, and later calls read on. It is the
// oracle of what a transport writes: frames are counted by their length
// prefixes on the wire.
func rawGroupsPeer(t *testing.T) (addr string, read func(n int) []wireFrame) {
	t.Helper()
	return rawGroupsPeerAt(t, "127.0.0.1:0")
}

// rawGroupsPeerAt is rawGroupsPeer listening on listenAddr.
func rawGroupsPeerAt(t *testing.T, listenAddr string) (addr string, read func(n int) []wireFrame) {
	t.Helper()
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conn net.Conn
	accept := func() {
		t.Helper()
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(waitTimeout))
		if conn, err = ln.Accept(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetReadDeadline(time.Now().Add(waitTimeout))
		from, err := transport.ReadGroupsHello(conn, "", 2)
		if err != nil || from != 1 {
			t.Fatalf("hello from %d: %v", from, err)
		}
	}
	return ln.Addr().String(), func(n int) []wireFrame {
		t.Helper()
		if conn == nil {
			accept()
		}
		conn.SetReadDeadline(time.Now().Add(waitTimeout))
		var frames []wireFrame
		for total := 0; total < n; {
			var hdr [transport.FrameHeaderBytes]byte
			if _, err := io.ReadFull(conn, hdr[:]); err != nil {
				t.Fatalf("after %d frames holding %d of %d messages: %v", len(frames), total, n, err)
			}
			body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
			if _, err := io.ReadFull(conn, body); err != nil {
				t.Fatal(err)
			}
			msgs, err := transport.DecodeBatch(body, 1, 2)
			if err != nil {
				t.Fatalf("frame %d: %v", len(frames), err)
			}
			frames = append(frames, wireFrame{bytes: len(hdr) + len(body), msgs: msgs})
			total += len(msgs)
		}
		return frames
	}
}

// Claim: the messages of many groups given to one SendGroups call leave
// in one frame, not one frame per message or per group; the sender's
// counters agree with the wire.
func TestOneSendGroupsCallLeavesInOneFrame(t *testing.T) {
	addr, read := rawGroupsPeer(t)
	a := start(t, transport.Config{ID: 1, Groups: true, Peers: map[uint64]string{2: addr}})
	var sent []transport.GroupMessage
	for k := uint64(1); k <= 4; k++ {
		sent = append(sent, groupMix(1, 2, k, 30)...)
	}
	a.SendGroups(sent)
	frames := read(len(sent))
	if len(frames) != 1 {
		t.Fatalf("%d messages of %d groups left in %d frames, want 1", len(sent), 30, len(frames))
	}
	if d := diffGroupMessages(sent, frames[0].msgs); d != "" {
		t.Fatal(d)
	}
	waitFor(t, "the frame to be counted", func() bool { return a.Stats().FramesSent == 1 })
	if s := a.Stats(); s.MsgsSent != uint64(len(sent)) || s.BytesSent != uint64(frames[0].bytes) {
		t.Fatalf("stats %+v; the wire carried 1 frame of %d messages in %d bytes", s, len(sent), frames[0].bytes)
	}
}

// Claim: the messages of several SendGroups calls queued between two
// writes leave in one frame: here the calls are made while the peer is
// down, so the writer, which takes its queue only once connected, finds
// all of them queued when the peer comes up.
func TestCallsQueuedBetweenTwoWritesLeaveInOneFrame(t *testing.T) {
	down := reserveAddr(t)
	a := start(t, transport.Config{ID: 1, Groups: true, Peers: map[uint64]string{2: down}})
	var sent []transport.GroupMessage
	for k := uint64(1); k <= 3; k++ {
		call := groupMix(1, 2, k, 10)
		a.SendGroups(call)
		sent = append(sent, call...)
	}
	_, read := rawGroupsPeerAt(t, down)
	frames := read(len(sent))
	if len(frames) != 1 {
		t.Fatalf("3 calls of 10 messages left in %d frames, want 1", len(frames))
	}
	if d := diffGroupMessages(sent, frames[0].msgs); d != "" {
		t.Fatal(d)
	}
}

// Claim: a batch larger than MaxFrameBytes, or than MaxBatchMsgs
// messages, leaves in as many frames as needed, each within both bounds,
// with every message in order.
func TestBatchesAreSplitAtMaxFrameBytesAndMaxBatchMsgs(t *testing.T) {
	t.Run("bytes", func(t *testing.T) {
		const limit = 64 << 10
		addr, read := rawGroupsPeer(t)
		a := start(t, transport.Config{ID: 1, Groups: true, MaxFrameBytes: limit, Peers: map[uint64]string{2: addr}})
		var sent []transport.GroupMessage
		for g := uint64(1); g <= 60; g++ {
			sent = append(sent, transport.GroupMessage{Group: g, Message: msgApp(1, 2, g, 5, 1000)})
		}
		a.SendGroups(sent)
		frames := read(len(sent))
		var got []transport.GroupMessage
		for i, f := range frames {
			if f.bytes-transport.FrameHeaderBytes > limit {
				t.Fatalf("frame %d has %d bytes, limit %d", i, f.bytes, limit)
			}
			got = append(got, f.msgs...)
		}
		if len(frames) < 5 || len(frames) > 6 { // 60 messages of about 5 KB in frames of 64 KiB
			t.Fatalf("%d frames, want 5 or 6", len(frames))
		}
		if d := diffGroupMessages(sent, got); d != "" {
			t.Fatal(d)
		}
	})
	t.Run("count", func(t *testing.T) {
		addr, read := rawGroupsPeer(t)
		const n = transport.MaxBatchMsgs + 10
		a := start(t, transport.Config{ID: 1, Groups: true, MaxQueueMsgs: n, Peers: map[uint64]string{2: addr}})
		var sent []transport.GroupMessage
		for g := uint64(1); g <= n; g++ {
			sent = append(sent, transport.GroupMessage{Group: g, Message: raftpb.Message{Type: raftpb.MsgAppResp, From: 1, To: 2, Index: g}})
		}
		a.SendGroups(sent)
		frames := read(n)
		if len(frames) != 2 || len(frames[0].msgs) != transport.MaxBatchMsgs {
			t.Fatalf("%d messages left in %d frames, the first of %d; want 2, the first of MaxBatchMsgs", n, len(frames), len(frames[0].msgs))
		}
		if d := diffGroupMessages(sent, flatten([][]transport.GroupMessage{frames[0].msgs, frames[1].msgs})); d != "" {
			t.Fatal(d)
		}
	})
}

// Claim: a single-group transport and a multi-group one refuse each
// other's connections, counted as group mode errors (not as decode
// errors), and deliver nothing.
func TestSingleGroupAndMultiGroupPeersRefuseEachOther(t *testing.T) {
	for _, tc := range []struct {
		name           string
		dialer, dialed bool // Config.Groups
	}{
		{"single dials multi", false, true},
		{"multi dials single", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := startPair(t, transport.Config{Groups: tc.dialer}, transport.Config{Groups: tc.dialed})
			waitFor(t, "a refused connection", func() bool {
				m := raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 1}
				a.Send([]raftpb.Message{m})
				a.SendGroups([]transport.GroupMessage{{Group: 1, Message: m}})
				return b.Stats().GroupModeErrors >= 2
			})
			if s := b.Stats(); s.DecodeErrors != 0 || s.FramesReceived != 0 || s.MsgsReceived != 0 {
				t.Fatalf("receiver stats %+v", s)
			}
			// The hello is refused before its sender is believed.
			if got := b.PeerStats()[transport.UnknownPeer].RefusedConns; got < 2 {
				t.Fatalf("refused connections of no known peer = %d, want the refusals counted", got)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		hello []byte
		read  func(io.Reader, string, uint64) (uint64, error)
	}{
		{"single hello to a multi-group reader", transport.AppendClusterHello(nil, "", 1, 2), transport.ReadGroupsHello},
		{"multi hello to a single-group reader", transport.AppendGroupsHello(nil, "", 1, 2), transport.ReadClusterHello},
	} {
		_, err := tc.read(bytes.NewReader(tc.hello), "", 2)
		if !errors.Is(err, transport.ErrGroupMode) || !errors.Is(err, transport.ErrMalformed) {
			t.Errorf("%s: error %v, want ErrGroupMode and ErrMalformed", tc.name, err)
		}
	}
}

// Claim: the calls of the other mode drop their messages, counted, and a
// multi-group message whose sender is not the local process is dropped
// without a report, while the others of the call are delivered.
func TestCallsOfTheOtherModeAndForeignSendersAreDropped(t *testing.T) {
	u := newUnreachableLog()
	a, b := startGroupsPair(t, transport.Config{Unreachable: u.report}, transport.Config{})
	hb := raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 1}
	a.Send([]raftpb.Message{hb, hb})
	if got := a.Stats().Drops; got != 2 {
		t.Fatalf("Send on a multi-group transport: %d drops, want 2", got)
	}
	forged := hb
	forged.From = 3
	a.SendGroups([]transport.GroupMessage{{Group: 1, Message: forged}, {Group: 2, Message: hb}})
	if got := flatten(receiveGroups(t, b, 1)); len(got) != 1 || got[0].Group != 2 {
		t.Fatalf("received %+v, want only group 2's heartbeat", got)
	}
	if s := a.Stats(); s.Drops != 3 || u.count(3) != 0 || u.count(2) != 0 {
		t.Fatalf("stats %+v, reports of 3: %d", s, u.count(3))
	}

	single := start(t, transport.Config{ID: 1, Peers: map[uint64]string{2: b.Addr().String()}})
	single.SendGroups([]transport.GroupMessage{{Group: 1, Message: hb}})
	single.SendGroup(1, []raftpb.Message{hb})
	if got := single.Stats().Drops; got != 2 {
		t.Fatalf("SendGroups on a single-group transport: %d drops, want 2", got)
	}
	if single.ReceiveGroups() != nil || a.Receive() != nil {
		t.Fatal("the receive channel of the other mode is not nil")
	}
}

// Claim: the messages of a batch for a group the receiver does not host
// are dropped and counted; the rest of the batch is delivered in order and
// the connection stays open.
func TestMessagesOfUnhostedGroupsAreDroppedAndTheRestDelivered(t *testing.T) {
	hosted := map[uint64]bool{1: true, 3: true}
	b := start(t, transport.Config{ID: 2, Groups: true, HostsGroup: func(g uint64) bool { return hosted[g] }})
	var sent []transport.GroupMessage
	for g := uint64(1); g <= 4; g++ {
		sent = append(sent, transport.GroupMessage{Group: g, Message: raftpb.Message{Type: raftpb.MsgAppResp, From: 7, To: 2, Index: g}})
	}
	conn := dialRaw(t, b.Addr().String(), transport.AppendBatch(transport.AppendGroupsHello(nil, "", 7, 2), 7, 2, sent))
	got := flatten(receiveGroups(t, b, 2))
	if d := diffGroupMessages([]transport.GroupMessage{sent[0], sent[2]}, got); d != "" {
		t.Fatal(d)
	}
	if s := b.Stats(); s.UnhostedDrops != 2 || s.MsgsReceived != 2 || s.DecodeErrors != 0 {
		t.Fatalf("stats %+v, want 2 unhosted drops and 2 messages received", s)
	}
	expectOpen(t, "the connection that sent unhosted groups", conn)
}

// Claim: the messages only a group's leader sends are delivered for a
// group the receiver does not host (they may create its replica); its
// other messages are dropped.
func TestLeaderMessagesOfUnhostedGroupsAreDelivered(t *testing.T) {
	b := start(t, transport.Config{ID: 2, Groups: true, HostsGroup: func(uint64) bool { return false }})
	var sent []transport.GroupMessage
	for i, typ := range []raftpb.MessageType{raftpb.MsgApp, raftpb.MsgVote, raftpb.MsgHeartbeat, raftpb.MsgPreVote, raftpb.MsgSnap, raftpb.MsgAppResp} {
		m := raftpb.Message{Type: typ, From: 7, To: 2, Term: 3, Index: uint64(i)}
		if typ == raftpb.MsgSnap {
			m.Snapshot = &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 5, Term: 2}}
		}
		sent = append(sent, transport.GroupMessage{Group: 9, Message: m})
	}
	dialRaw(t, b.Addr().String(), transport.AppendBatch(transport.AppendGroupsHello(nil, "", 7, 2), 7, 2, sent))
	got := flatten(receiveGroups(t, b, 3))
	if d := diffGroupMessages([]transport.GroupMessage{sent[0], sent[2], sent[4]}, got); d != "" {
		t.Fatal(d)
	}
	if s := b.Stats(); s.UnhostedDrops != 3 {
		t.Fatalf("stats %+v, want 3 unhosted drops", s)
	}
}

// Claim: multi-group transports talk over mutual TLS, and a member's
// certificate cannot send a batch as another process.
func TestGroupsOverTLSBindTheSenderToTheCertificate(t *testing.T) {
	ca := newTestCA(t)
	a, b := startGroupsPair(t, transport.Config{TLS: ca.nodeTLS(t, 1)}, transport.Config{TLS: ca.nodeTLS(t, 2)})
	sent := groupMix(1, 2, 1, 5)
	a.SendGroups(sent)
	if d := diffGroupMessages(sent, flatten(receiveGroups(t, b, len(sent)))); d != "" {
		t.Fatal(d)
	}
	node3 := ca.issue(t, transport.NodeURI("c1", 3))
	conn := sendGroupsAs(t, b.Addr().String(), &node3, 1)
	expectClosedByPeer(t, conn)
	waitFor(t, "the identity error to be counted", func() bool { return b.Stats().IdentityErrors == 1 })
	select {
	case got := <-b.ReceiveGroups():
		t.Fatalf("the forged batch was delivered: %+v", got)
	default:
	}
}

// sendGroupsAs opens a TLS connection to addr with cert and sends the
// multi-group hello of process from and one batch from it.
func sendGroupsAs(t *testing.T, addr string, cert *tls.Certificate, from uint64) net.Conn {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{*cert}})
	tc.SetDeadline(time.Now().Add(waitTimeout))
	if err := tc.Handshake(); err != nil {
		return raw
	}
	tc.SetDeadline(time.Time{})
	batch := []transport.GroupMessage{{Group: 1, Message: raftpb.Message{Type: raftpb.MsgHeartbeat, From: from, To: 2, Term: 1}}}
	tc.Write(transport.AppendBatch(transport.AppendGroupsHello(nil, "c1", from, 2), from, 2, batch))
	return tc
}

// Claim: multi-group transports given different group layouts refuse each
// other's hellos as of another cluster (counted as identity errors) and
// deliver nothing, while transports of the same layout talk: processes
// that would route a key to different groups never exchange messages.
func TestMultiGroupPeersOfAnotherLayoutAreRefused(t *testing.T) {
	a, b := startGroupsPair(t, transport.Config{GroupLayout: "groups=4"}, transport.Config{GroupLayout: "groups=8"})
	hb := raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 1}
	waitFor(t, "a refused hello", func() bool {
		a.SendGroups([]transport.GroupMessage{{Group: 1, Message: hb}})
		return b.Stats().IdentityErrors >= 1
	})
	if s := b.Stats(); s.FramesReceived != 0 || s.MsgsReceived != 0 {
		t.Fatalf("receiver of another layout took frames: %+v", s)
	}

	c, d := startGroupsPair(t, transport.Config{GroupLayout: "groups=4"}, transport.Config{GroupLayout: "groups=4"})
	c.SendGroups([]transport.GroupMessage{{Group: 3, Message: hb}})
	if got := receiveGroups(t, d, 1); got[0][0].Group != 3 || got[0][0].Message.Commit != hb.Commit {
		t.Fatalf("same layout: received %+v", got)
	}
	if s := d.Stats(); s.IdentityErrors != 0 {
		t.Fatalf("same layout: %d identity errors", s.IdentityErrors)
	}
}
