package wal

import (
	"os"
	"path/filepath"
)

// Usage is what the log holds on disk: its segments and their bytes.
type Usage struct {
	// Segments is the number of segment files, the one appended to
	// included.
	Segments int
	// Bytes is the sum of their sizes as the file system reports them.
	Bytes int64
}

// Usage returns what the log holds on disk now. A segment whose size
// cannot be read counts no bytes. It returns the zero Usage once the log
// is closed or failed.
func (w *WAL) Usage() Usage {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return Usage{}
	}
	u := Usage{Segments: len(w.segs)}
	for _, s := range w.segs {
		if fi, err := os.Stat(filepath.Join(w.dir, s.name())); err == nil {
			u.Bytes += fi.Size()
		}
	}
	return u
}
