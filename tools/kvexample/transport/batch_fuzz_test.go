package transport_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// FuzzDecodeBatch feeds DecodeBatch arbitrary bodies for a connection from
// process 7 to process 2. It must never panic; it either refuses a body
// whole, with an error wrapping ErrMalformed, or returns at most
// MaxBatchMsgs messages, each from 7 to 2 and of a type a peer may send,
// or removed notices from 7 to 2 of a non-zero index and term holding
// nothing else, which encode again into a batch that decodes into the same
// messages.
// `go test` runs the seeds; `go test -fuzz FuzzDecodeBatch` explores.
func FuzzDecodeBatch(f *testing.F) {
	for _, h := range hostileBatches() {
		f.Add(h.body)
	}
	for k := uint64(1); k <= 3; k++ {
		frame := transport.AppendBatch(nil, 7, 2, groupMix(7, 2, k, 6))
		f.Add(frame[transport.FrameHeaderBytes:])
	}
	frame := transport.AppendBatch(nil, 7, 2, []transport.GroupMessage{
		{Group: 1, Message: raftpb.Message{Type: raftpb.MsgHeartbeat, From: 7, To: 2, Term: 1, Context: []byte{}}},
		{Group: 2, Message: raftpb.Message{Type: raftpb.MsgHeartbeatResp, From: 7, To: 2, Term: 1, Context: []byte("etcd")}},
	})
	f.Add(frame[transport.FrameHeaderBytes:])
	frame = transport.AppendBatch(nil, 7, 2, []transport.GroupMessage{
		{Group: 1 << 40, Removed: 1, RemovedTerm: 1, Message: raftpb.Message{From: 7, To: 2}},
		{Group: 3, Message: raftpb.Message{Type: raftpb.MsgAppResp, From: 7, To: 2, Term: 4, Index: 9}},
		{Group: 4, Removed: 1 << 50, RemovedTerm: 1 << 33, Message: raftpb.Message{From: 7, To: 2}},
	})
	f.Add(frame[transport.FrameHeaderBytes:])
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := transport.DecodeBatch(body, 7, 2)
		if err != nil {
			if !errors.Is(err, transport.ErrMalformed) || got != nil {
				t.Fatalf("refused with %v and %d messages; want ErrMalformed and nothing", err, len(got))
			}
			return
		}
		if len(got) == 0 || len(got) > transport.MaxBatchMsgs {
			t.Fatalf("accepted a batch of %d messages", len(got))
		}
		for i, g := range got {
			m := g.Message
			if m.From != 7 || m.To != 2 || g.Removed == 0 && raftpb.IsLocalMsg(m.Type) {
				t.Fatalf("accepted message %d: %v from %d to %d", i, m.Type, m.From, m.To)
			}
			if notice := (raftpb.Message{From: 7, To: 2}); g.Removed != 0 && (g.RemovedTerm == 0 || !cmp.Equal(m, notice)) {
				t.Fatalf("accepted removed notice %d holding %+v", i, m)
			}
		}
		again := transport.AppendBatch(nil, 7, 2, got)
		back, err := transport.DecodeBatch(again[transport.FrameHeaderBytes:], 7, 2)
		if err != nil {
			t.Fatalf("a decoded batch does not decode once encoded again: %v", err)
		}
		if d := cmp.Diff(got, back); d != "" {
			t.Fatalf("a decoded batch changes when encoded again (-first +second):\n%s", d)
		}
	})
}
