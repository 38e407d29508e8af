package wal_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// BenchmarkSave measures Save of batches of 128-byte entries with a hard
// state, the shape of a busy node's Readys, at the batch sizes of the
// peer comparison (BENCHMARKS.md). With sync=false it measures the
// encoding and the write system call; with sync=true, the disk.
func BenchmarkSave(b *testing.B) {
	for _, sync := range []bool{false, true} {
		for _, batch := range []int{1, 64, 1024} {
			b.Run(fmt.Sprintf("sync=%v/batch=%d", sync, batch), func(b *testing.B) {
				benchmarkSave(b, batch, sync)
			})
		}
	}
}

func benchmarkSave(b *testing.B, batch int, sync bool) {
	w, _, err := wal.Open(b.TempDir(), wal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	es := make([]raftpb.Entry, batch)
	for i := range es {
		es[i] = raftpb.Entry{Term: 1, Type: raftpb.EntryNormal, Data: bytes.Repeat([]byte{'x'}, 128)}
	}
	b.SetBytes(int64(batch * 128))
	b.ReportAllocs()
	b.ResetTimer()
	next := uint64(1)
	for i := 0; i < b.N; i++ {
		for j := range es {
			es[j].Index = next + uint64(j)
		}
		next += uint64(batch)
		if err := w.Save(raftpb.HardState{Term: 1, Vote: 1, Commit: next - 1}, es, sync); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
}
