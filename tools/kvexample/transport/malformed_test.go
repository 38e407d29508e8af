package transport_test

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// malformedInput is a byte stream that breaks node 2's framing.
type malformedInput struct {
	name  string
	input []byte
}

// malformedInputs are the streams written to node 2's listen port by a raw
// connection, one per connection.
func malformedInputs() []malformedInput {
	hello := transport.AppendHello(nil, 7, 2)
	frame := func(m raftpb.Message) []byte { return transport.AppendFrame(append([]byte(nil), hello...), &m) }
	return []malformedInput{
		{"http request", []byte("GET /kv/x HTTP/1.1\r\nHost: localhost\r\n\r\n")},
		{"hello to node 3", transport.AppendHello(nil, 7, 3)},
		{"hello from node 2", transport.AppendHello(nil, 2, 2)},
		{"4 GiB length prefix", binary.BigEndian.AppendUint32(append([]byte(nil), hello...), 0xffffffff)},
		{"length one over max", binary.BigEndian.AppendUint32(append([]byte(nil), hello...), 1<<20+1)},
		{"body does not decode", append(binary.BigEndian.AppendUint32(append([]byte(nil), hello...), 3), 0xff, 0xff, 0xff)},
		{"another sender", frame(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 8, To: 2})},
		{"another recipient", frame(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 7, To: 3})},
		{"local message type", frame(raftpb.Message{Type: raftpb.MsgHup, From: 7, To: 2})},
	}
}

func TestMalformedInputClosesOnlyItsConnectionAndIsCounted(t *testing.T) {
	a, b := startPair(t, transport.Config{}, transport.Config{MaxFrameBytes: 1 << 20})
	seq := uint64(0)
	flows := func(t *testing.T) {
		t.Helper()
		seq++
		m := msgApp(1, 2, seq, 2, 64)
		a.Send([]raftpb.Message{m})
		if d := diffMessages([]raftpb.Message{m}, receive(t, b, 1)); d != "" {
			t.Fatalf("real peer's message differs (-sent +received):\n%s", d)
		}
	}
	flows(t)
	for _, tc := range malformedInputs() {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			before := b.Stats().DecodeErrors
			conn, err := net.Dial("tcp", b.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write(tc.input); err != nil {
				t.Fatal(err)
			}
			expectClosedByPeer(t, conn)
			waitFor(t, "the decode error to be counted", func() bool { return b.Stats().DecodeErrors == before+1 })
			flows(t)
		})
	}
	if s := a.Stats(); s.Unreachable != 0 || s.Drops != 0 {
		t.Fatalf("the real link suffered: stats of node 1 = %+v", s)
	}
}

// expectClosedByPeer reads from conn until the other side closes it,
// failing the test if that takes longer than waitTimeout.
func expectClosedByPeer(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(waitTimeout))
	var buf [64]byte
	for {
		_, err := conn.Read(buf[:])
		if err == nil {
			continue // the transport never writes back, but be lenient
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection still open after %v", waitTimeout)
		}
		return // io.EOF or a reset: closed
	}
}
