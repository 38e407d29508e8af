package walbench

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// fileLayout is one way of laying a log's bytes into a file and making
// them durable, with no log format at all: the floor under every library.
type fileLayout struct {
	name string
	// prepare readies a file for n writes of size bytes, outside the
	// clock.
	prepare func(f *os.File, n, size int) error
	// appendOnly writes with write(2) at the end of the file instead of
	// pwrite(2) at the next offset.
	appendOnly bool
	datasync   bool
}

var fileLayouts = []fileLayout{
	// A file that grows with every write, as tickraft's log is today.
	{name: "append/fsync", appendOnly: true},
	{name: "append/fdatasync", appendOnly: true, datasync: true},
	// A file whose blocks are allocated (unwritten) and whose size is set
	// first, as etcd's and raft-wal's segments are: fallocate mode 0.
	{name: "fallocate/fdatasync", prepare: fallocateFile, datasync: true},
	{name: "fallocate/fsync", prepare: fallocateFile},
	// Blocks allocated but the size left alone (FALLOC_FL_KEEP_SIZE).
	{name: "fallocate-keep-size/fdatasync", prepare: fallocateKeepSize, datasync: true},
	// A file already written with zeros and synced: every write
	// overwrites written blocks, as in a recycled segment.
	{name: "zeroed/fdatasync", prepare: zeroFile, datasync: true},
}

func fallocateFile(f *os.File, n, size int) error {
	return unix.Fallocate(int(f.Fd()), 0, 0, int64(n*size))
}

func fallocateKeepSize(f *os.File, n, size int) error {
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, int64(n*size))
}

func zeroFile(f *os.File, n, size int) error {
	zeros := make([]byte, 1<<20)
	for left := n * size; left > 0; left -= len(zeros) {
		if _, err := f.Write(zeros[:min(left, len(zeros))]); err != nil {
			return err
		}
	}
	return f.Sync()
}

// BenchmarkFileLayout writes size bytes and makes them durable per
// iteration, for each file layout: how much of a log's save time the
// file system takes, whatever the log's code. 160 bytes is one 128 B
// entry with its framing; 1 MiB is 1,024 1 KiB entries.
//
//	go test -run XXX -bench FileLayout -count 5
func BenchmarkFileLayout(b *testing.B) {
	for _, size := range []int{160, 1 << 20} {
		for _, l := range fileLayouts {
			b.Run(fmt.Sprintf("%s/bytes=%d", l.name, size), func(b *testing.B) {
				f, err := os.OpenFile(filepath.Join(b.TempDir(), "seg"), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				if l.prepare != nil {
					if err := l.prepare(f, b.N, size); err != nil {
						b.Fatal(err)
					}
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
				if _, err := f.Seek(0, 0); err != nil {
					b.Fatal(err)
				}
				buf := make([]byte, size)
				for i := range buf {
					buf[i] = byte(i)
				}
				b.SetBytes(int64(size))
				b.ResetTimer()
				for i := range b.N {
					if l.appendOnly {
						_, err = f.Write(buf)
					} else {
						_, err = f.WriteAt(buf, int64(i*size))
					}
					if err != nil {
						b.Fatal(err)
					}
					if l.datasync {
						err = unix.Fdatasync(int(f.Fd()))
					} else {
						err = f.Sync()
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
