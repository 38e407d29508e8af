package walbench

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The floors are not libraries: they write each batch's bytes (each
// entry's payload with 24 bytes of framing, and 32 bytes of hard state,
// about what tickraft's log writes) into a file and sync it, with no log
// format, no checksum and no replay. They show what a file layout costs
// on this disk by itself, measured in the same turns as the libraries.
const (
	floorEntryFraming   = 24
	floorHardStateBytes = 32
	floorSegmentBytes   = 64 << 20
)

// Floors returns the floor drivers: "floor-append", which appends to a
// file that grows with every save and fsyncs it (the layout of tickraft's
// log), and "floor-prealloc", which writes into 64 MiB segments created
// at their full size with fallocate and fdatasyncs them (the layout of
// etcd's log).
func Floors() []Driver {
	return []Driver{
		{Name: "floor-append", Create: func(dir string) (Writer, error) { return newFloor(dir, false) }, Replay: replayFloor},
		{Name: "floor-prealloc", Create: func(dir string) (Writer, error) { return newFloor(dir, true) }, Replay: replayFloor},
	}
}

type floorWriter struct {
	dir      string
	prealloc bool
	f        *os.File
	seq      int
	off      int64
	buf      []byte
}

func newFloor(dir string, prealloc bool) (*floorWriter, error) {
	w := &floorWriter{dir: dir, prealloc: prealloc}
	return w, w.nextSegment()
}

// nextSegment closes the current file and starts the next one.
func (w *floorWriter) nextSegment() error {
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			return err
		}
	}
	w.seq++
	f, err := os.OpenFile(filepath.Join(w.dir, fmt.Sprintf("%08d.floor", w.seq)), os.O_CREATE|os.O_RDWR|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w.f, w.off = f, 0
	if w.prealloc {
		if err := unix.Fallocate(int(f.Fd()), 0, 0, floorSegmentBytes); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	d, err := os.Open(w.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (w *floorWriter) Save(b Batch) error {
	w.buf = w.buf[:0]
	for _, e := range b.Entries {
		w.buf = append(w.buf, make([]byte, floorEntryFraming)...)
		w.buf = append(w.buf, e.Data...)
	}
	w.buf = append(w.buf, make([]byte, floorHardStateBytes)...)
	if !w.prealloc {
		if _, err := w.f.Write(w.buf); err != nil {
			return err
		}
		return w.f.Sync()
	}
	if w.off+int64(len(w.buf)) > floorSegmentBytes {
		if err := unix.Fdatasync(int(w.f.Fd())); err != nil {
			return err
		}
		if err := w.nextSegment(); err != nil {
			return err
		}
	}
	if _, err := w.f.WriteAt(w.buf, w.off); err != nil {
		return err
	}
	w.off += int64(len(w.buf))
	return unix.Fdatasync(int(w.f.Fd()))
}

func (w *floorWriter) Close() error { return w.f.Close() }

func replayFloor(string, func(Entry)) (Recovered, error) {
	return Recovered{}, fmt.Errorf("walbench: a floor keeps no log to replay")
}
