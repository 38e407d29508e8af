// Package walfs is the file-system layer under package wal and package
// snapfile: the few operations they need, as an interface, with the
// operating system's implementation for production (OS).
//
// The interface exists so that tests can put a model of a page cache under
// the log (writes that are not yet synced may be lost, torn or kept at a
// crash; a created or renamed file is durable only once its directory is
// synced) and crash it at every write. Production code passes nil, which
// the packages above read as OS().
//
// Paths are ordinary file-system paths. Every method may fail with the
// operating system's error; none retries.
package walfs

import "io"

// FS is a file system as the write-ahead log uses it.
type FS interface {
	// MkdirAll creates dir and its missing parents.
	MkdirAll(dir string) error
	// ReadDir returns the names of the regular files and directories in
	// dir, sorted.
	ReadDir(dir string) ([]string, error)
	// ReadFile returns the whole content of the file at path.
	ReadFile(path string) ([]byte, error)
	// OpenRead opens the existing file at path for reading, so that a
	// reader can read a part of it (package wal reads past a segment's
	// last record only as far as a crash can have written).
	OpenRead(path string) (Reader, error)
	// Create creates the file at path, which must not exist, open for
	// writing. It is durable only once its directory is synced.
	Create(path string) (File, error)
	// OpenWrite opens the existing file at path for writing.
	OpenWrite(path string) (File, error)
	// Rename renames oldPath to newPath, replacing newPath; it is durable
	// only once the directory is synced.
	Rename(oldPath, newPath string) error
	// Remove removes the file at path; it is durable only once the
	// directory is synced.
	Remove(path string) error
	// SyncDir makes the creations, renames and removals in dir durable.
	SyncDir(dir string) error
	// Lock takes an exclusive lock on the file at path (created if
	// missing) without waiting, held until the returned Closer is closed
	// or the process exits. It fails when another holder has it.
	Lock(path string) (io.Closer, error)
}

// Reader is a file open for reading.
type Reader interface {
	io.ReaderAt
	io.Closer
	// Size returns the file's size.
	Size() (int64, error)
}

// File is a file open for writing.
type File interface {
	// WriteAt writes p at offset off, extending the file if it ends
	// before off+len(p).
	WriteAt(p []byte, off int64) (int, error)
	// Sync makes the file's data and size durable (fdatasync where the
	// system has it).
	Sync() error
	// Allocate makes the file at least size bytes long, reserving the
	// disk blocks where the system can (fallocate), so that later writes
	// inside it change no file size. Bytes it adds read as zero.
	Allocate(size int64) error
	// Truncate sets the file's size.
	Truncate(size int64) error
	// Close closes the file.
	Close() error
}
