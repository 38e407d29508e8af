package transport_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tickraft/raft/tools/kvexample/transport"
)

// claimingBatch returns the body of a batch that claims count messages,
// holds valid coalesced heartbeat responses from process 7 to process 2
// (4 bytes each: kind 3, group, term, no context) and then, after valid
// of them, a record of an unknown kind followed by zeros up to the
// smallest body that may claim count messages.
func claimingBatch(count, valid int) []byte {
	body := binary.AppendUvarint(nil, uint64(count))
	for i := 0; i < valid; i++ {
		body = append(body, 3, byte(1+i%100), 1, 0)
	}
	if valid < count {
		body = append(body, 0xff)
		for len(body) < 1+3*count+2 {
			body = append(body, 0)
		}
	}
	return body
}

// Claim: what DecodeBatch allocates follows the records it reads, not the
// count a batch claims: a 12 KiB batch claiming MaxBatchMsgs messages
// whose ninth record is bad is refused having allocated less than its own
// size (room for all it claims would be 4096 GroupMessages, over 600 KiB).
func TestDecodeBatchAllocatesForWhatItReadsNotWhatItClaims(t *testing.T) {
	body := claimingBatch(transport.MaxBatchMsgs, 8)
	if _, err := transport.DecodeBatch(body, 7, 2); !errors.Is(err, transport.ErrBatchRecord) {
		t.Fatalf("DecodeBatch = %v, want ErrBatchRecord", err)
	}
	const runs = 50
	got := allocatedBytes(func() {
		for i := 0; i < runs; i++ {
			_, _ = transport.DecodeBatch(body, 7, 2)
		}
	}) / runs
	t.Logf("a %d-byte batch claiming %d messages, refused at the ninth: %d bytes allocated per decode", len(body), transport.MaxBatchMsgs, got)
	if got > uint64(len(body)) {
		t.Errorf("decoding a %d-byte batch claiming %d messages allocated %d bytes; want at most its size", len(body), transport.MaxBatchMsgs, got)
	}
}

// BenchmarkDecodeBatchClaims decodes a full batch of MaxBatchMsgs
// coalesced heartbeat responses, and a batch as large that claims as many
// and is refused at its ninth record; bytes/op is the figure to read.
func BenchmarkDecodeBatchClaims(b *testing.B) {
	for _, c := range []struct {
		name  string
		valid int
	}{{"full", transport.MaxBatchMsgs}, {"refused-at-9", 8}} {
		body := claimingBatch(transport.MaxBatchMsgs, c.valid)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				_, _ = transport.DecodeBatch(body, 7, 2)
			}
		})
	}
}
