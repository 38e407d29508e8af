package transport_test

import (
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
