package benchcmp

import (
	"fmt"
	"runtime"
	"time"
)

// chunkTime is about how long one chunk of a participant runs before the
// next participant's turn.
const chunkTime = 20 * time.Millisecond

// participant is one side of an interleaved measurement: a library's
// cluster or groups, or the floor. Its totals count the measured chunks
// only.
type participant struct {
	name string
	// step runs n units of work: loop iterations, or tick rounds.
	step func(n int) error
	// sent returns the messages sent so far, or nil if it sends none.
	sent func() int
	// chunk is the units one turn runs. Unless fixedChunk, each turn sets
	// it from the rate measured so far, so that a turn takes about
	// chunkTime even if calibration was disturbed.
	chunk      int
	fixedChunk bool

	units          int
	elapsed        time.Duration
	mallocs, bytes uint64
	msgs           int
}

// calibrate runs p in doubling numbers of units (unmeasured, as warm-up)
// until a run takes a quarter of chunkTime, and sets p.chunk to the units
// that take about chunkTime.
func (p *participant) calibrate() error {
	for n := 1; ; n *= 2 {
		start := time.Now()
		if err := p.step(n); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		d := time.Since(start)
		if d >= chunkTime/4 || n >= 1<<24 {
			p.chunk = max(1, int(float64(n)*float64(chunkTime)/float64(max(d, 1))))
			return nil
		}
	}
}

// runChunk runs one measured chunk of p. It collects garbage first, so that
// a chunk does not pay for the garbage of the participant before it.
func (p *participant) runChunk() error {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	sent := p.sentNow()
	start := time.Now()
	err := p.step(p.chunk)
	p.elapsed += time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	p.units += p.chunk
	p.mallocs += after.Mallocs - before.Mallocs
	p.bytes += after.TotalAlloc - before.TotalAlloc
	p.msgs += p.sentNow() - sent
	if !p.fixedChunk && p.elapsed > 0 {
		p.chunk = max(1, int(float64(p.units)*float64(chunkTime)/float64(p.elapsed)))
	}
	return nil
}

func (p *participant) sentNow() int {
	if p.sent == nil {
		return 0
	}
	return p.sent()
}

// interleave runs one chunk of each participant per round, starting each
// round with the next participant, until done reports true. Alternating
// in short chunks makes every participant see the same state of a noisy
// machine.
func interleave(ps []*participant, done func() bool) error {
	for round := 0; !done(); round++ {
		for i := range ps {
			if err := ps[(round+i)%len(ps)].runChunk(); err != nil {
				return err
			}
		}
	}
	return nil
}

// allElapsed returns a done function for interleave that is true once
// every participant has run for at least d.
func allElapsed(ps []*participant, d time.Duration) func() bool {
	return func() bool {
		for _, p := range ps {
			if p.elapsed < d {
				return false
			}
		}
		return true
	}
}
