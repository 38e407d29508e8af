//go:build !linux

package walfs

import "os"

// syncData flushes f's data (fsync: the system has no fdatasync here).
func syncData(f *os.File) error { return f.Sync() }

// allocate extends f to size; the file system reserves nothing ahead.
func allocate(f *os.File, _, size int64) error { return f.Truncate(size) }
