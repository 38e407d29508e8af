package transport_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// batchBody returns the body of the frame AppendBatch writes for msgs.
func batchBody(t testing.TB, from, to uint64, msgs []transport.GroupMessage) []byte {
	t.Helper()
	frame := transport.AppendBatch(nil, from, to, msgs)
	if n := binary.BigEndian.Uint32(frame); int(n) != len(frame)-transport.FrameHeaderBytes {
		t.Fatalf("length prefix %d, body of %d bytes", n, len(frame)-transport.FrameHeaderBytes)
	}
	return frame[transport.FrameHeaderBytes:]
}

// Claim: a batch of messages of many groups decodes into the same groups
// and messages in the same order.
func TestBatchRoundTripsMessagesOfManyGroups(t *testing.T) {
	var msgs []transport.GroupMessage
	for k := uint64(1); k <= 8; k++ {
		msgs = append(msgs, groupMix(1, 2, k, 9)...)
	}
	msgs = append(msgs, transport.GroupMessage{Group: 1 << 63, Message: raftpb.Message{Type: raftpb.MsgVote, From: 1, To: 2, Term: 9}})
	got, err := transport.DecodeBatch(batchBody(t, 1, 2, msgs), 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffGroupMessages(msgs, got); d != "" {
		t.Fatal(d)
	}
}

// Claim: a batch is refused whole, with an error wrapping ErrMalformed and
// ErrBatchMisaddressed, when any of its messages is not from the
// connection's sender, not to the receiver, or of a local type.
func TestBatchWithAMisaddressedMessageIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  raftpb.Message
	}{
		{"another sender", raftpb.Message{Type: raftpb.MsgAppResp, From: 3, To: 2}},
		{"another recipient", raftpb.Message{Type: raftpb.MsgAppResp, From: 1, To: 3}},
		{"local type", raftpb.Message{Type: raftpb.MsgHup, From: 1, To: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs := groupMix(1, 2, 1, 4)
			msgs = append(msgs[:2], append([]transport.GroupMessage{{Group: 9, Message: tc.bad}}, msgs[2:]...)...)
			got, err := transport.DecodeBatch(batchBody(t, 1, 2, msgs), 1, 2)
			if !errors.Is(err, transport.ErrMalformed) || !errors.Is(err, transport.ErrBatchMisaddressed) || got != nil {
				t.Fatalf("DecodeBatch = %d messages, %v; want nothing and ErrBatchMisaddressed", len(got), err)
			}
		})
	}
}
