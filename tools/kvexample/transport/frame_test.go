package transport_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

func TestFrameRoundTripsMessages(t *testing.T) {
	msgs := []raftpb.Message{
		{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 5, Commit: 9},
		msgApp(1, 2, 7, 64, 128),
		msgSnap(1, 2, 100, 300<<10),
		{Type: raftpb.MsgAppResp, From: 2, To: 1, Term: 5, Index: 7, Reject: true, RejectHint: 3},
		{Type: raftpb.MsgReadIndex, From: 2, To: 1, Entries: []raftpb.Entry{{Data: []byte("ctx")}}},
	}
	var stream []byte
	for i := range msgs {
		stream = transport.AppendFrame(stream, &msgs[i])
	}
	r := bytes.NewReader(stream)
	var got []raftpb.Message
	for {
		m, err := transport.ReadFrame(r, transport.DefaultMaxFrameBytes)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("ReadFrame: %v", err)
		}
		got = append(got, m)
	}
	if d := diffMessages(msgs, got); d != "" {
		t.Fatalf("decoded messages differ (-want +got):\n%s", d)
	}
}

func TestReadFrameGivesEachMessageItsOwnBuffer(t *testing.T) {
	m := msgApp(1, 2, 7, 2, 16)
	frame := transport.AppendFrame(nil, &m)
	got, err := transport.ReadFrame(bytes.NewReader(frame), transport.DefaultMaxFrameBytes)
	if err != nil {
		t.Fatal(err)
	}
	clear(frame) // the reader's source is reused for the next frame
	if d := diffMessages([]raftpb.Message{m}, []raftpb.Message{got}); d != "" {
		t.Fatalf("message changed when its source buffer was overwritten (-want +got):\n%s", d)
	}
}

func TestReadFrameTellsTruncationFromMalformation(t *testing.T) {
	m := msgApp(1, 2, 7, 2, 16)
	frame := transport.AppendFrame(nil, &m)
	cases := []struct {
		name          string
		input         []byte
		want          error
		wantMalformed bool
	}{
		{"empty stream", nil, io.EOF, false},
		{"inside the prefix", frame[:2], io.ErrUnexpectedEOF, false},
		{"inside the body", frame[:len(frame)-1], io.ErrUnexpectedEOF, false},
		{"body that does not decode", []byte{0, 0, 0, 3, 0xff, 0xff, 0xff}, transport.ErrMalformed, true},
		{"length above the limit", binary.BigEndian.AppendUint32(nil, 1<<20+1), transport.ErrFrameTooLarge, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := transport.ReadFrame(bytes.NewReader(tc.input), 1<<20)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ReadFrame error = %v, want %v", err, tc.want)
			}
			if got := errors.Is(err, transport.ErrMalformed); got != tc.wantMalformed {
				t.Fatalf("errors.Is(%v, ErrMalformed) = %v, want %v", err, got, tc.wantMalformed)
			}
		})
	}
}

// allocatedBytes returns the bytes the process allocated while f ran.
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestOversizedLengthPrefixIsRefusedWithoutAllocatingIt(t *testing.T) {
	input := binary.BigEndian.AppendUint32(nil, math.MaxUint32)
	var err error
	n := allocatedBytes(func() {
		_, err = transport.ReadFrame(bytes.NewReader(input), transport.DefaultMaxFrameBytes)
	})
	if !errors.Is(err, transport.ErrFrameTooLarge) || !errors.Is(err, transport.ErrMalformed) {
		t.Fatalf("ReadFrame error = %v, want ErrFrameTooLarge and ErrMalformed", err)
	}
	if n > 16<<10 {
		t.Fatalf("refusing a 4 GiB length prefix allocated %d bytes", n)
	}
}

func TestLyingLengthPrefixAllocatesOnlyWhatArrives(t *testing.T) {
	// A length just under the limit followed by 100 bytes and the end.
	input := binary.BigEndian.AppendUint32(nil, transport.DefaultMaxFrameBytes-1)
	input = append(input, make([]byte, 100)...)
	var err error
	n := allocatedBytes(func() {
		_, err = transport.ReadFrame(bytes.NewReader(input), transport.DefaultMaxFrameBytes)
	})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadFrame error = %v, want io.ErrUnexpectedEOF", err)
	}
	if n > 256<<10 {
		t.Fatalf("a 64 MiB length prefix with 100 bytes behind it allocated %d bytes", n)
	}
}

func TestReadHelloChecksMagicAndIDs(t *testing.T) {
	const local = 2
	cases := []struct {
		name     string
		input    []byte
		wantFrom uint64
		wantErr  error
	}{
		{"valid", transport.AppendHello(nil, 7, local), 7, nil},
		{"wrong magic", append([]byte("GET "), make([]byte, transport.HelloBytes-4)...), 0, transport.ErrMalformed},
		{"previous version", append([]byte("tkr\x01"), make([]byte, transport.HelloBytes-4)...), 0, transport.ErrMalformed},
		{"another cluster", transport.AppendClusterHello(nil, "other", 7, local), 0, transport.ErrIdentity},
		{"zero sender", transport.AppendHello(nil, 0, local), 0, transport.ErrMalformed},
		{"sender is the receiver", transport.AppendHello(nil, local, local), 0, transport.ErrMalformed},
		{"another recipient", transport.AppendHello(nil, 7, 3), 0, transport.ErrMalformed},
		{"truncated", transport.AppendHello(nil, 7, local)[:10], 0, io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from, err := transport.ReadHello(bytes.NewReader(tc.input), local)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("ReadHello error = %v, want %v", err, tc.wantErr)
			}
			if from != tc.wantFrom {
				t.Fatalf("ReadHello sender = %d, want %d", from, tc.wantFrom)
			}
		})
	}
	if n := len(transport.AppendHello(nil, 1, 2)); n != transport.HelloBytes {
		t.Fatalf("hello is %d bytes, HelloBytes is %d", n, transport.HelloBytes)
	}
}

func TestBackoffDoublesUpToTheCapWithJitterInTheUpperHalf(t *testing.T) {
	const lo, hi = 10 * time.Millisecond, 200 * time.Millisecond
	rng := rand.New(rand.NewPCG(1, 2))
	wantCeil := []time.Duration{10, 20, 40, 80, 160, 200, 200, 200}
	for i, ceil := range wantCeil {
		ceil *= time.Millisecond
		for range 50 {
			d := transport.BackoffDelay(lo, hi, i+1, rng)
			if d < ceil/2 || d > ceil {
				t.Fatalf("after %d failures the backoff is %v, want within [%v, %v]", i+1, d, ceil/2, ceil)
			}
		}
	}
}
