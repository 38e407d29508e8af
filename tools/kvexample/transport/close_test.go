package transport_test

import (
	"encoding/binary"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// TestCloseIsPromptAndLeaksNoGoroutine closes transports whose goroutines
// are in every waiting state: writers idle, in backoff and connected;
// readers waiting for a hello, inside a frame, and blocked on a full
// receive channel.
func TestCloseIsPromptAndLeaksNoGoroutine(t *testing.T) {
	baseline := runtime.NumGoroutine()
	u := newUnreachableLog()
	a := start(t, transport.Config{ID: 1, Unreachable: u.report})
	b := start(t, transport.Config{ID: 2, RecvBufferMsgs: 4})
	c := start(t, transport.Config{ID: 3})
	trs := []*transport.Transport{a, b, c}
	for i, tr := range trs {
		for j, peer := range trs {
			if i != j {
				if err := tr.AddPeer(uint64(j+1), peer.Addr().String()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := a.AddPeer(4, reserveAddr(t)); err != nil {
		t.Fatal(err)
	}

	// Connected writers: a and b talk.
	for i := uint64(1); i <= 20; i++ {
		a.Send([]raftpb.Message{msgApp(1, 2, i, 1, 16)})
		receive(t, b, 1)
		b.Send([]raftpb.Message{{Type: raftpb.MsgAppResp, From: 2, To: 1, Index: i}})
		receive(t, a, 1)
	}
	// A writer in backoff: 4 is down.
	a.Send([]raftpb.Message{msgApp(1, 4, 1, 1, 16)})
	waitFor(t, "the dial to 4 to fail", func() bool { return a.Stats().DialFailures >= 1 })
	// A reader blocked on b's full receive channel: c floods b.
	for i := uint64(1); i <= 50; i++ {
		c.Send([]raftpb.Message{msgApp(3, 2, i, 1, 16)})
	}
	waitFor(t, "b's receive channel to fill", func() bool { return b.Stats().FramesReceived >= 5+20 })
	// A reader waiting for a hello, and one inside a frame.
	idle := dialRaw(t, c.Addr().String(), nil)
	half := transport.AppendHello(nil, 7, 1)
	half = binary.BigEndian.AppendUint32(half, 1000)
	half = append(half, make([]byte, 10)...)
	midFrame := dialRaw(t, a.Addr().String(), half)

	done := make(chan time.Duration)
	go func() {
		began := time.Now()
		for _, tr := range trs {
			tr.Close()
		}
		done <- time.Since(began)
	}()
	select {
	case took := <-done:
		t.Logf("closing three busy transports took %v", took)
	case <-time.After(waitTimeout):
		t.Fatalf("Close did not return within %v", waitTimeout)
	}
	idle.Close()
	midFrame.Close()

	reports, drops := u.count(2), a.Stats().Drops
	a.Send([]raftpb.Message{msgApp(1, 2, 99, 1, 16)})
	if got := a.Stats().Drops; got != drops+1 {
		t.Fatalf("Send after Close: Drops = %d, want %d", got, drops+1)
	}
	if u.count(2) != reports {
		t.Fatal("Send after Close reported the peer unreachable")
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	waitFor(t, "the transports' goroutines to end", func() bool { return runtime.NumGoroutine() <= baseline })
}

// dialRaw opens a raw connection to addr and writes data on it.
func dialRaw(t *testing.T, addr string, data []byte) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write(data); err != nil {
		t.Fatal(err)
	}
	return conn
}
