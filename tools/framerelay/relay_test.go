package framerelay_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tickraft/raft/tools/framerelay"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// frame returns a length-prefixed frame of n bytes, each b.
func frame(n int, b byte) []byte {
	f := binary.BigEndian.AppendUint32(nil, uint32(n))
	return append(f, bytes.Repeat([]byte{b}, n)...)
}

// Claim: the relay passes the stream through byte for byte, counts each
// whole frame (and its bytes, prefix included) once it is relayed, and
// does not count a frame cut short; what the target answers comes back.
func TestTheRelayCountsWholeFramesAndPassesTheStreamThrough(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r, err := framerelay.Start(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	stream := transport.AppendHello(nil, 1, 2)
	stream = append(stream, frame(3, 'a')...)
	stream = append(stream, frame(0, 0)...)
	stream = append(stream, frame(100, 'c')...)
	partial := frame(50, 'd')[:20]

	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(append(append([]byte(nil), stream...), partial...)); err != nil {
		t.Fatal(err)
	}
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	target, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	want := append(append([]byte(nil), stream...), partial[:4]...) // a frame's prefix goes ahead of its body
	got := make([]byte, len(want))
	target.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(target, got); err != nil {
		t.Fatalf("the target read %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the target received %x, want %x", got, want)
	}
	if f, b := r.Frames(), r.Bytes(); f != 3 || b != 4*3+3+0+100 {
		t.Fatalf("counted %d frames of %d bytes, want 3 of %d", f, b, 4*3+3+100)
	}
	if _, err := target.Write([]byte("answer")); err != nil {
		t.Fatal(err)
	}
	back := make([]byte, 6)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, back); err != nil || string(back) != "answer" {
		t.Fatalf("the dialer read %q, %v; want the target's answer", back, err)
	}
}
