package walbench

import (
	"fmt"
	"testing"
)

// BenchmarkSaves times one durable save per iteration, for every library
// and point, one library at a time (the interleaved comparison is
// cmd/compare). Its reason to exist is profiling one library:
//
//	go test -run XXX -bench 'Saves/tickraft/size=128/per-save=1$' -cpuprofile /tmp/t.cpu
func BenchmarkSaves(b *testing.B) {
	for _, d := range append(Drivers(), TickraftDefaultDriver()) {
		for _, p := range Points() {
			b.Run(d.Name+"/"+p.String(), func(b *testing.B) {
				w, err := d.Create(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				wl := NewWorkload(p)
				for range WarmupSaves {
					if err := w.Save(wl.Next()); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(p.Payload * p.PerSave))
				b.ResetTimer()
				for range b.N {
					if err := w.Save(wl.Next()); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*p.PerSave)/b.Elapsed().Seconds(), "entries/s")
			})
		}
	}
}

// BenchmarkReplay reopens a log of 100,000 entries and reads every entry
// back per iteration, warm (its files stay in the page cache), for every
// library and both payloads. It exists for profiling one library's
// replay:
//
//	go test -run XXX -bench 'Replay/tickraft/size=1024$' -cpuprofile /tmp/r.cpu
func BenchmarkReplay(b *testing.B) {
	const entries = 100000
	for _, d := range append(Drivers(), TickraftDefaultDriver()) {
		for _, size := range []int{128, 1024} {
			b.Run(fmt.Sprintf("%s/size=%d", d.Name, size), func(b *testing.B) {
				dir := b.TempDir()
				if _, err := fill(d, dir, size, entries); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					rec, err := d.Replay(dir, func(Entry) {})
					if err != nil {
						b.Fatal(err)
					}
					if rec.Entries != entries {
						b.Fatalf("replayed %d entries, want %d", rec.Entries, entries)
					}
				}
			})
		}
	}
}
