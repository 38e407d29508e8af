package wal_test

import (
	"bytes"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// BenchmarkOpen measures opening and replaying a log of 100,000 entries
// of 128 bytes, saved 64 to a Save, from the page cache (warm).
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	w, _, err := wal.Open(dir, wal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	es := make([]raftpb.Entry, 64)
	for i := range es {
		es[i] = raftpb.Entry{Term: 1, Data: bytes.Repeat([]byte{'x'}, 128)}
	}
	const total = 100_000
	for next := uint64(1); next <= total; next += uint64(len(es)) {
		n := min(uint64(len(es)), total-next+1)
		for j := range es[:n] {
			es[j].Index = next + uint64(j)
		}
		if err := w.Save(raftpb.HardState{Term: 1, Vote: 1, Commit: next - 1}, es[:n], false); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, rp, err := wal.Open(dir, wal.Options{})
		if err != nil || len(rp.Entries) != total {
			b.Fatalf("Open: %v, %d entries", err, len(rp.Entries))
		}
		w.Close()
	}
}
