package wal_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// BenchmarkSharedSave measures what sharing a log saves a process of many
// groups: each iteration persists, durably, one Ready of each of N groups
// (one 128-byte entry and a hard state each), either as one batch of a
// shared log (one write, one sync) or as N Saves with sync to N logs of one
// group each, in the same run (BENCHMARKS.md quotes the ratio). entries/s
// counts the groups' entries made durable per second.
func BenchmarkSharedSave(b *testing.B) {
	for _, groups := range []int{8, 64} {
		b.Run(fmt.Sprintf("groups=%d/shared", groups), func(b *testing.B) { benchmarkSharedSave(b, groups) })
		b.Run(fmt.Sprintf("groups=%d/separate", groups), func(b *testing.B) { benchmarkSeparateSaves(b, groups) })
	}
}

// benchEntry returns a 128-byte entry at index.
func benchEntry(index uint64) []raftpb.Entry {
	return []raftpb.Entry{{Term: 1, Index: index, Data: bytes.Repeat([]byte{'x'}, 128)}}
}

func benchmarkSharedSave(b *testing.B, groups int) {
	l, _, err := wal.OpenShared(b.TempDir(), wal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	batch := make([]wal.Update, groups)
	for g := range batch {
		batch[g] = wal.Update{Group: uint64(g + 1), Entries: benchEntry(0)}
	}
	b.SetBytes(int64(groups * 128))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		index := uint64(i + 1)
		for g := range batch {
			batch[g].Entries[0].Index = index
			batch[g].HardState = raftpb.HardState{Term: 1, Vote: 1, Commit: index - 1}
		}
		if err := l.Save(batch, true); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*groups)/b.Elapsed().Seconds(), "entries/s")
}

func benchmarkSeparateSaves(b *testing.B, groups int) {
	dir := b.TempDir()
	logs := make([]*wal.WAL, groups)
	for g := range logs {
		w, _, err := wal.Open(filepath.Join(dir, fmt.Sprint(g)), wal.Options{GroupID: uint64(g + 1)})
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		logs[g] = w
	}
	es := benchEntry(0)
	b.SetBytes(int64(groups * 128))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		index := uint64(i + 1)
		es[0].Index = index
		for _, w := range logs {
			if err := w.Save(raftpb.HardState{Term: 1, Vote: 1, Commit: index - 1}, es, true); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*groups)/b.Elapsed().Seconds(), "entries/s")
}
