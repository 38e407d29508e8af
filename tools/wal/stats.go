package wal

// Usage is what the log holds on disk: its segments and their bytes.
type Usage struct {
	// Segments is the number of segment files, the one written to
	// included.
	Segments int
	// Bytes is the sum of their sizes, as created (segments are reserved
	// on disk at their full size ahead of the writes).
	Bytes int64
}

// Usage returns what the log holds on disk now, as far as this WAL
// knows: the sizes of segments it did not create itself are counted as
// Options.SegmentBytes. It returns the zero Usage once the log is closed
// or failed.
func (w *WAL) Usage() Usage {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return Usage{}
	}
	n := len(w.segs)
	return Usage{Segments: n, Bytes: int64(n-1)*w.opts.SegmentBytes + w.alloc}
}
