package walbench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ChunkTime is how long one library saves before the next one takes its
// turn in an interleaved measurement.
const ChunkTime = 50 * time.Millisecond

// interleaved is one library's part of an interleaved measurement.
type interleaved struct {
	d   Driver
	w   Writer
	wl  *Workload
	lat []time.Duration
	res SaveResult
}

// MeasureInterleaved measures every driver at p in one process, taking
// turns: each library saves for ChunkTime, then the next, round after
// round (the order turning by one each round), until every library has
// saved for budget or maxSaves times, so that all of them see the same
// state of the machine and its disk. Each library's log lives in its own
// directory under dir; each is created and warmed up (WarmupSaves) before
// the first turn. A save's I/O counters are charged to the library whose
// turn it is: every save is durable when it returns, so what it wrote is
// written back within its turn.
func MeasureInterleaved(ds []Driver, dir string, p Point, budget time.Duration, maxSaves int) ([]SaveResult, error) {
	libs := make([]*interleaved, 0, len(ds))
	defer func() {
		for _, l := range libs {
			l.w.Close()
		}
	}()
	for _, d := range ds {
		sub := filepath.Join(dir, d.Name)
		if err := os.Mkdir(sub, 0o755); err != nil {
			return nil, err
		}
		w, err := d.Create(sub)
		if err != nil {
			return nil, fmt.Errorf("%s: create: %w", d.Name, err)
		}
		l := &interleaved{d: d, w: w, wl: NewWorkload(p), res: SaveResult{Driver: d.Name, Point: p}}
		libs = append(libs, l)
		for range WarmupSaves {
			if err := w.Save(l.wl.Next()); err != nil {
				return nil, fmt.Errorf("%s: save: %w", d.Name, err)
			}
		}
	}
	for round := 0; ; round++ {
		busy := false
		for i := range libs {
			l := libs[(i+round)%len(libs)]
			if l.res.Elapsed >= budget || len(l.lat) >= maxSaves {
				continue
			}
			busy = true
			if err := l.turn(min(ChunkTime, budget-l.res.Elapsed), maxSaves); err != nil {
				return nil, err
			}
		}
		if !busy {
			break
		}
	}
	out := make([]SaveResult, 0, len(libs))
	var errs []error
	for _, l := range libs {
		l.res.Saves, l.res.Entries = len(l.lat), len(l.lat)*p.PerSave
		l.res.P50, l.res.P99 = percentile(l.lat, 0.50), percentile(l.lat, 0.99)
		out = append(out, l.res)
		if err := l.w.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: close: %w", l.d.Name, err))
		}
	}
	libs = nil
	return out, errors.Join(errs...)
}

// turn saves until d has passed (at least one save) or maxSaves saves
// are reached, adding the time, latencies and I/O to l's result.
func (l *interleaved) turn(d time.Duration, maxSaves int) error {
	before, err := ReadIOCounters()
	if err != nil {
		return err
	}
	start := time.Now()
	for len(l.lat) < maxSaves {
		b := l.wl.Next()
		t0 := time.Now()
		if err := l.w.Save(b); err != nil {
			return fmt.Errorf("%s: save: %w", l.d.Name, err)
		}
		l.lat = append(l.lat, time.Since(t0))
		if time.Since(start) >= d {
			break
		}
	}
	l.res.Elapsed += time.Since(start)
	after, err := ReadIOCounters()
	if err != nil {
		return err
	}
	io := after.Sub(before)
	l.res.IO.Bytes += io.Bytes
	l.res.IO.Chars += io.Chars
	return nil
}
