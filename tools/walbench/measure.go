package walbench

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// WarmupSaves is how many saves a measurement makes before its clock
// starts, so that every library has created its first files.
const WarmupSaves = 16

// SaveResult is one measurement of one library at one point: Saves saves
// of Point.PerSave entries in Elapsed, the median and 99th percentile of
// one save's latency, and the process's I/O counters over the timed saves.
type SaveResult struct {
	Driver  string
	Point   Point
	Saves   int
	Entries int
	Elapsed time.Duration
	P50     time.Duration
	P99     time.Duration
	IO      IOCounters
}

// EntriesPerSecond returns the entries saved per second.
func (r SaveResult) EntriesPerSecond() float64 { return float64(r.Entries) / r.Elapsed.Seconds() }

// SavesPerSecond returns the saves per second.
func (r SaveResult) SavesPerSecond() float64 { return float64(r.Saves) / r.Elapsed.Seconds() }

// MeasureSaves creates d's log in dir (which must be empty), makes
// WarmupSaves saves, then saves until budget has passed or maxSaves
// saves were timed (maxSaves zero: no timed save at all, which measures
// only what creating the log costs), and closes the log. Every timed save
// is durable when it returns (each driver saves as its library's Raft
// implementation does).
func MeasureSaves(d Driver, dir string, p Point, budget time.Duration, maxSaves int) (SaveResult, error) {
	res := SaveResult{Driver: d.Name, Point: p}
	w, err := d.Create(dir)
	if err != nil {
		return res, fmt.Errorf("%s: create: %w", d.Name, err)
	}
	wl := NewWorkload(p)
	for range WarmupSaves {
		if err := w.Save(wl.Next()); err != nil {
			return res, errors.Join(fmt.Errorf("%s: save: %w", d.Name, err), w.Close())
		}
	}
	lat := make([]time.Duration, 0, 4096)
	before, err := ReadIOCounters()
	if err != nil {
		return res, errors.Join(err, w.Close())
	}
	start := time.Now()
	for len(lat) < maxSaves && time.Since(start) < budget {
		b := wl.Next()
		t0 := time.Now()
		if err := w.Save(b); err != nil {
			return res, errors.Join(fmt.Errorf("%s: save: %w", d.Name, err), w.Close())
		}
		lat = append(lat, time.Since(t0))
	}
	res.Elapsed = time.Since(start)
	after, err := ReadIOCounters()
	if err != nil {
		return res, errors.Join(err, w.Close())
	}
	res.IO = after.Sub(before)
	res.Saves, res.Entries = len(lat), len(lat)*p.PerSave
	res.P50, res.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	if err := w.Close(); err != nil {
		return res, fmt.Errorf("%s: close: %w", d.Name, err)
	}
	return res, nil
}

// percentile returns the q-quantile of ds (nearest rank), sorting ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q*float64(len(ds)) + 0.5)
	if i >= len(ds) {
		i = len(ds) - 1
	}
	return ds[i]
}
