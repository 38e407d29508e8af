package walbench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// ReplayResult is one measurement of reopening a log: how many entries
// the replays gave back, and how long opening it and reading every entry
// back took with none of its files in the page
// cache (Cold) and right after, with all of them there (Warm).
type ReplayResult struct {
	Driver  string
	Payload int
	Entries int
	Cold    time.Duration
	Warm    time.Duration
}

// replayFillPerSave is how many entries each save carries while a log is
// filled for a replay measurement.
const replayFillPerSave = 1024

// MeasureReplay fills d's log in dir (which must be empty) with entries
// of payload bytes, closes it, evicts its files from the page cache, and
// times two replays: the cold one, then a warm one. Each replay must give
// back every entry, in order, with its bytes.
func MeasureReplay(d Driver, dir string, payload, entries int) (ReplayResult, error) {
	res := ReplayResult{Driver: d.Name, Payload: payload}
	wl, err := fill(d, dir, payload, entries)
	if err != nil {
		return res, err
	}
	if err := evictDir(dir); err != nil {
		return res, fmt.Errorf("%s: evicting the log from the page cache: %w", d.Name, err)
	}
	for _, t := range []*time.Duration{&res.Cold, &res.Warm} {
		start := time.Now()
		rec, err := d.Replay(dir, func(Entry) {})
		*t = time.Since(start)
		if err != nil {
			return res, fmt.Errorf("%s: replay: %w", d.Name, err)
		}
		if rec.Entries != entries || rec.First != 1 || rec.Last != wl.Saved() {
			return res, fmt.Errorf("%s: replay gave %d entries [%d, %d], want %d [1, %d]", d.Name, rec.Entries, rec.First, rec.Last, entries, wl.Saved())
		}
		res.Entries = rec.Entries
	}
	return res, nil
}

// fill writes entries entries of payload bytes into a new log of d's and
// closes it.
func fill(d Driver, dir string, payload, entries int) (*Workload, error) {
	w, err := d.Create(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", d.Name, err)
	}
	wl := NewWorkload(Point{Payload: payload, PerSave: replayFillPerSave})
	for left := entries; left > 0; {
		b := wl.NextN(min(left, replayFillPerSave))
		left -= len(b.Entries)
		if err := w.Save(b); err != nil {
			return nil, errors.Join(fmt.Errorf("%s: save: %w", d.Name, err), w.Close())
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("%s: close: %w", d.Name, err)
	}
	return wl, nil
}

// evictDir writes back and then drops from the page cache every file
// under dir (posix_fadvise DONTNEED), so that the next read of them
// comes from the disk. Unlike dropping the whole cache, it touches no
// other process's files.
func evictDir(dir string) error {
	return filepath.WalkDir(dir, func(path string, de os.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fd := int(f.Fd())
		if err := unix.Fdatasync(fd); err != nil {
			return err
		}
		return unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED)
	})
}
