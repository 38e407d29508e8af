package transport_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// BenchmarkMsgAppLoopback measures one-way throughput of MsgApp frames of
// 64 entries of 128 bytes from node 1 to node 2 over loopback, with at most
// window messages in flight (so that no queue overflows) and sends batched
// batch at a time, as a leader's Ready loop would.
func BenchmarkMsgAppLoopback(b *testing.B) {
	for _, bc := range []struct {
		name          string
		batch, window int
	}{
		{"batch=1", 1, 256},
		{"batch=16", 16, 256},
	} {
		b.Run(bc.name, func(b *testing.B) { benchmarkMsgApp(b, bc.batch, bc.window) })
	}
}

func benchmarkMsgApp(b *testing.B, batch, window int) {
	src, dst := startPair(b, transport.Config{MaxQueueMsgs: 4 * window}, transport.Config{RecvBufferMsgs: window})
	msgs := make([]raftpb.Message, batch)
	for i := range msgs {
		msgs[i] = msgApp(1, 2, uint64(i+1), 64, 128)
	}
	b.SetBytes(int64(transport.FrameHeaderBytes + msgs[0].Size()))
	b.ReportAllocs()

	credits := make(chan struct{}, window) // one per message in flight
	received := make(chan struct{})
	go func() {
		for range b.N {
			<-dst.Receive()
			<-credits
		}
		close(received)
	}()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += batch {
		n := min(batch, b.N-sent)
		for range n {
			credits <- struct{}{}
		}
		src.Send(msgs[:n])
	}
	<-received
	b.StopTimer()
	if s := src.Stats(); s.Drops != 0 {
		b.Fatalf("%d messages dropped", s.Drops)
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkHeartbeatRoundOfManyGroups measures one heartbeat round of
// groups groups from process 1 to process 2 over loopback: their
// heartbeats (with a read-round context) given to the transport in one
// call and all received before the next round. "single" sends them as a
// single-group transport would, one frame each; "batched" as one
// multi-group batch with coalesced heartbeats. Compare ns/heartbeat and
// wire-bytes/heartbeat between the two in the same run.
func BenchmarkHeartbeatRoundOfManyGroups(b *testing.B) {
	for _, groups := range []int{100, 1000} {
		for _, mode := range []string{"single", "batched"} {
			b.Run(fmt.Sprintf("groups=%d/%s", groups, mode), func(b *testing.B) {
				benchmarkHeartbeatRound(b, groups, mode == "batched")
			})
		}
	}
}

func benchmarkHeartbeatRound(b *testing.B, groups int, batched bool) {
	cfg := transport.Config{Groups: batched, MaxQueueMsgs: 2 * groups, RecvBufferMsgs: 2 * groups, MaxRecvMsgsPerSec: 1 << 30}
	src, dst := startPair(b, cfg, cfg)
	msgs := make([]transport.GroupMessage, groups)
	plain := make([]raftpb.Message, groups)
	for g := range msgs {
		ctx := raftpb.HeartbeatContext{Round: 17, Tick: 90000 + uint64(g)}.Encode()
		plain[g] = raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 5, LogTerm: 5, Commit: 123456, Context: ctx}
		msgs[g] = transport.GroupMessage{Group: uint64(g + 1), Message: plain[g]}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if batched {
			src.SendGroups(msgs)
			for got := 0; got < groups; {
				got += len(<-dst.ReceiveGroups())
			}
		} else {
			src.Send(plain)
			for range groups {
				<-dst.Receive()
			}
		}
	}
	b.StopTimer()
	s := src.Stats()
	if s.Drops != 0 {
		b.Fatalf("%d messages dropped", s.Drops)
	}
	n := float64(b.N * groups)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/heartbeat")
	b.ReportMetric(float64(s.BytesSent)/n, "wire-bytes/heartbeat")
	b.ReportMetric(n/float64(max(s.FramesSent, 1)), "heartbeats/frame")
}

// BenchmarkHeartbeatCodec measures the encoding and decoding alone, no
// sockets, of 1,000 heartbeats of as many groups: "frames" as 1,000
// single-group frames (AppendFrame, ReadFrame), "batch" as one
// multi-group batch (AppendBatch, DecodeBatch).
func BenchmarkHeartbeatCodec(b *testing.B) {
	const groups = 1000
	msgs := make([]transport.GroupMessage, groups)
	for g := range msgs {
		ctx := raftpb.HeartbeatContext{Round: 17, Tick: 90000 + uint64(g)}.Encode()
		msgs[g] = transport.GroupMessage{Group: uint64(g + 1), Message: raftpb.Message{
			Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 5, Commit: 123456, Context: ctx}}
	}
	b.Run("frames", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for range b.N {
			buf = buf[:0]
			for i := range msgs {
				buf = transport.AppendFrame(buf, &msgs[i].Message)
			}
			r := bytes.NewReader(buf)
			for range groups {
				if _, err := transport.ReadFrame(r, transport.DefaultMaxFrameBytes); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*groups), "ns/heartbeat")
	})
	b.Run("batch", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for range b.N {
			buf = transport.AppendBatch(buf[:0], 1, 2, msgs)
			body := append([]byte(nil), buf[transport.FrameHeaderBytes:]...) // a receiver reads each frame into its own buffer
			if _, err := transport.DecodeBatch(body, 1, 2); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*groups), "ns/heartbeat")
	})
}
