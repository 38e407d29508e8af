package walbench

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestEveryDriverReplaysWhatItSaved saves a few batches of each size
// with each driver, reopens the log and checks that every entry comes
// back, in index order, with its term and bytes, and that the term and
// vote come back too: a driver that lost or garbled data would make the
// comparison one of a broken driver.
func TestEveryDriverReplaysWhatItSaved(t *testing.T) {
	for _, d := range append(Drivers(), TickraftDefaultDriver()) {
		for _, p := range []Point{{Payload: 128, PerSave: 1}, {Payload: 1024, PerSave: 64}} {
			t.Run(d.Name+"/"+p.String(), func(t *testing.T) {
				dir := t.TempDir()
				w, err := d.Create(dir)
				if err != nil {
					t.Fatal(err)
				}
				wl := NewWorkload(p)
				for range 5 {
					if err := w.Save(wl.Next()); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				next := uint64(1)
				var bad []string
				rec, err := d.Replay(dir, func(e Entry) {
					if e.Index != next || e.Term != 1 || !bytes.Equal(e.Data, wl.Payload(e.Index)) {
						bad = append(bad, fmt.Sprintf("entry %d (term %d, %d bytes) where %d was due", e.Index, e.Term, len(e.Data), next))
					}
					next = e.Index + 1
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(bad) > 0 {
					t.Fatalf("replay: %v", bad)
				}
				want := 5 * p.PerSave
				if rec.Entries != want || rec.First != 1 || rec.Last != uint64(want) {
					t.Fatalf("replay gave %d entries [%d, %d], want %d [1, %d]", rec.Entries, rec.First, rec.Last, want, want)
				}
				if rec.HardState.Term != 1 || rec.HardState.Vote != 1 {
					t.Fatalf("replay gave term %d vote %d, want term 1 vote 1", rec.HardState.Term, rec.HardState.Vote)
				}
			})
		}
	}
}

// TestMeasurementsCountWhatTheyRan runs a tiny save measurement and a
// tiny replay measurement of every driver and checks their counts. A
// save measurement's Entries is Saves*PerSave by construction, so it is
// not checked; what the saves wrote is judged from the process's own I/O
// counters (/proc/self/io): every entry's payload went through a write
// call. A replay's entries are counted by the driver reading its log
// back.
func TestMeasurementsCountWhatTheyRan(t *testing.T) {
	for _, d := range Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			p := Point{Payload: 128, PerSave: 64}
			r, err := MeasureSaves(d, t.TempDir(), p, time.Minute, 3)
			if err != nil {
				t.Fatal(err)
			}
			if r.Saves != 3 || r.P50 <= 0 || r.P99 < r.P50 {
				t.Fatalf("saves %d p50 %v p99 %v, want 3 saves, 0 < p50 <= p99", r.Saves, r.P50, r.P99)
			}
			if want := int64(3 * p.PerSave * p.Payload); r.IO.Chars < want {
				t.Fatalf("%d bytes went through write calls for 3 saves of %d entries of %d bytes, want at least %d",
					r.IO.Chars, p.PerSave, p.Payload, want)
			}
			rr, err := MeasureReplay(d, t.TempDir(), 128, 2500)
			if err != nil {
				t.Fatal(err)
			}
			if rr.Entries != 2500 || rr.Cold <= 0 || rr.Warm <= 0 {
				t.Fatalf("replay result %+v", rr)
			}
		})
	}
}

// TestFloorsWriteEveryBatch checks that each floor writes every batch's
// bytes: the appending floor's file grows by exactly the batch's size,
// and the preallocated one keeps its full size.
func TestFloorsWriteEveryBatch(t *testing.T) {
	p := Point{Payload: 128, PerSave: 64}
	want := int64(3 * (64*(128+floorEntryFraming) + floorHardStateBytes))
	for _, d := range Floors() {
		t.Run(d.Name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := d.Create(dir)
			if err != nil {
				t.Fatal(err)
			}
			wl := NewWorkload(p)
			for range 3 {
				if err := w.Save(wl.Next()); err != nil {
					t.Fatal(err)
				}
			}
			fw := w.(*floorWriter)
			st, err := fw.f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			switch {
			case fw.prealloc && (st.Size() != floorSegmentBytes || fw.off != want):
				t.Fatalf("preallocated floor: size %d, written %d; want %d, %d", st.Size(), fw.off, floorSegmentBytes, want)
			case !fw.prealloc && st.Size() != want:
				t.Fatalf("appending floor: size %d, want %d", st.Size(), want)
			}
		})
	}
}
