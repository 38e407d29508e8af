package transport_test

import (
	"net"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// Claim: the per-peer counters count what the receiving side actually got
// (frames, and bytes as the frames' own encoding), drops to an unknown
// peer under that peer, and a connection that breaks the framing as
// refused: under the sender a valid hello named, or UnknownPeer before
// one.
func TestPeerStatsCountWhatThePeerReceived(t *testing.T) {
	a, b := startPair(t, transport.Config{}, transport.Config{})
	var sent []raftpb.Message
	var frameBytes uint64
	for i := uint64(1); i <= 50; i++ {
		m := msgApp(1, 2, i, 2, 32)
		sent = append(sent, m)
		frameBytes += uint64(len(transport.AppendFrame(nil, &m)))
	}
	a.Send(sent)
	got := receive(t, b, len(sent))
	waitFor(t, "the sender's counters", func() bool { return a.PeerStats()[2].FramesSent == uint64(len(got)) })
	if s := a.PeerStats()[2]; s.BytesSent != frameBytes || s.Drops != 0 {
		t.Fatalf("sender's counters for peer 2 = %+v, want %d bytes and no drop", s, frameBytes)
	}
	if s := b.PeerStats()[1]; s.FramesReceived != uint64(len(got)) || s.BytesReceived != frameBytes {
		t.Fatalf("receiver's counters for peer 1 = %+v, want %d frames of %d bytes", s, len(got), frameBytes)
	}

	a.Send([]raftpb.Message{msgApp(1, 9, 1, 1, 8)})
	if d := a.PeerStats()[9].Drops; d != 1 {
		t.Fatalf("a message to unknown peer 9: %d drops counted under 9, want 1", d)
	}

	for _, c := range []struct {
		input []byte
		under uint64
	}{
		{[]byte("GET /kv/x HTTP/1.1\r\nHost: localhost\r\n\r\n"), transport.UnknownPeer},
		{transport.AppendFrame(transport.AppendHello(nil, 7, 2), &raftpb.Message{Type: raftpb.MsgHeartbeat, From: 8, To: 2}), 7},
	} {
		before := b.PeerStats()[c.under].RefusedConns
		conn, err := net.Dial("tcp", b.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.Write(c.input)
		expectClosedByPeer(t, conn)
		conn.Close()
		waitFor(t, "the refusal to be counted", func() bool { return b.PeerStats()[c.under].RefusedConns == before+1 })
	}
}
