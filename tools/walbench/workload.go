package walbench

import "fmt"

// Point is one workload of the comparison: saves of PerSave entries of
// Payload bytes each.
type Point struct {
	Payload int
	PerSave int
}

// String names the point as the tables do.
func (p Point) String() string { return fmt.Sprintf("size=%d/per-save=%d", p.Payload, p.PerSave) }

// Points returns the six points of the comparison: 128 B and 1 KiB
// payloads at 1, 64 and 1,024 entries per save.
func Points() []Point {
	var ps []Point
	for _, size := range []int{128, 1024} {
		for _, n := range []int{1, 64, 1024} {
			ps = append(ps, Point{Payload: size, PerSave: n})
		}
	}
	return ps
}

// payloadSlots is how many distinct payloads a workload cycles through:
// entry i carries payload i mod payloadSlots, so that a replay can check
// every entry's bytes without the benchmark building one per entry.
const payloadSlots = 1031

// Workload hands out the batches a leader in steady state saves: entries
// with consecutive indexes from 1 in term 1, and a hard state that votes
// for node 1 and commits what the previous batch saved (the commit index
// lags one round behind the log, as it does on a leader that waits for
// its followers).
type Workload struct {
	point    Point
	payloads [][]byte
	next     uint64 // the index of the next entry
	batch    Batch  // reused
}

// NewWorkload returns a workload for p whose first entry has index 1.
func NewWorkload(p Point) *Workload {
	w := &Workload{point: p, next: 1, payloads: make([][]byte, payloadSlots)}
	x := uint64(0x9e3779b97f4a7c15)
	for i := range w.payloads {
		b := make([]byte, p.Payload)
		for j := range b {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b[j] = byte(x)
		}
		w.payloads[i] = b
	}
	w.batch.Entries = make([]Entry, 0, p.PerSave)
	return w
}

// Next returns the next batch of the point's size. It is valid until the
// following call.
func (w *Workload) Next() Batch { return w.NextN(w.point.PerSave) }

// NextN returns the next batch, of n entries. It is valid until the
// following call.
func (w *Workload) NextN(n int) Batch {
	b := &w.batch
	b.HardState = HardState{Term: 1, Vote: 1, Commit: w.next - 1}
	b.Entries = b.Entries[:0]
	for range n {
		b.Entries = append(b.Entries, Entry{Index: w.next, Term: 1, Data: w.Payload(w.next)})
		w.next++
	}
	return *b
}

// Saved returns the index of the last entry handed out.
func (w *Workload) Saved() uint64 { return w.next - 1 }

// Payload returns the bytes entry index carries.
func (w *Workload) Payload(index uint64) []byte { return w.payloads[index%payloadSlots] }
