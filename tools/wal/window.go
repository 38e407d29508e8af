package wal

import (
	"errors"
	"io"

	"github.com/tickraft/raft/tools/wal/walfs"
)

// This file bounds what a crash can leave unsynced in a segment, and reads
// a segment only as far as that bound lets anything be written.

// unsyncedBytes is the most a segment holds past its last sync: a write
// that would end further past the synced length syncs first, and one
// longer than this is written in pieces with a sync between them (see
// WAL.write). So a crash leaves nothing written further than this past
// the last sync, and Open reads no further than this past the records it
// can follow (see Recovery in the package doc).
const unsyncedBytes = 4 << 20

// readAhead is the least a segment is read by at a time, so that small
// records do not cost a read each.
const readAhead = 256 << 10

// segmentReader reads the prefix of a segment that Open needs.
type segmentReader struct {
	r    walfs.Reader
	size int64
	data []byte
}

// readSegment returns the bytes of the segment at path that can hold
// anything a crash left, with the file's size: every record whose header
// is intact, following each header to the next, and unsyncedBytes past
// the last of them. Headers have their own checksum, so a record whose
// payload is damaged still says where the next one starts.
func readSegment(fsys walfs.FS, path string) ([]byte, int64, error) {
	r, err := fsys.OpenRead(path)
	if err != nil {
		return nil, 0, err
	}
	size, err := r.Size()
	if err != nil {
		return nil, 0, errors.Join(err, r.Close())
	}
	sr := &segmentReader{r: r, size: size}
	err = sr.read()
	return sr.data, size, errors.Join(err, r.Close())
}

// read follows the record headers from the start, then reads
// unsyncedBytes past the end of the last one.
func (sr *segmentReader) read() error {
	off := int64(0)
	for {
		if err := sr.grow(off + headerBytes); err != nil {
			return err
		}
		if int64(len(sr.data)) < off+headerBytes {
			break
		}
		h, ok := decodeHeader(sr.data[off:])
		if !ok || !h.typ.known() || h.length > MaxRecordBytes {
			break
		}
		off += headerBytes + int64(h.length)
	}
	return sr.grow(off + unsyncedBytes)
}

// grow reads the segment up to offset to (or its end), at least
// readAhead more at a time.
func (sr *segmentReader) grow(to int64) error {
	have := int64(len(sr.data))
	if to <= have || have >= sr.size {
		return nil
	}
	to = min(sr.size, max(to, have+readAhead))
	if int64(cap(sr.data)) < to {
		grown := make([]byte, have, max(to, min(sr.size, 2*int64(cap(sr.data)))))
		copy(grown, sr.data)
		sr.data = grown
	}
	sr.data = sr.data[:to]
	n, err := sr.r.ReadAt(sr.data[have:to], have)
	if err == io.EOF && int64(n) == to-have {
		err = nil
	}
	sr.data = sr.data[:have+int64(n)]
	return err
}
