package walfs

import (
	"errors"
	"io"
	"os"
	"slices"
)

// OS returns the operating system's file system.
func OS() FS { return osFS{} }

// osFS is FS on the os package.
type osFS struct{}

// MkdirAll implements FS.
func (osFS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

// ReadDir implements FS.
func (osFS) ReadDir(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, de := range des {
		if de.Type().IsRegular() || de.IsDir() {
			names = append(names, de.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// ReadFile implements FS.
func (osFS) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// OpenRead implements FS.
func (osFS) OpenRead(path string) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return osReader{f}, nil
}

// osReader is Reader on an *os.File.
type osReader struct{ *os.File }

// Size implements Reader.
func (r osReader) Size() (int64, error) {
	fi, err := r.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Create implements FS.
func (osFS) Create(path string) (File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// OpenWrite implements FS.
func (osFS) OpenWrite(path string) (File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// Rename implements FS.
func (osFS) Rename(oldPath, newPath string) error { return os.Rename(oldPath, newPath) }

// Remove implements FS.
func (osFS) Remove(path string) error { return os.Remove(path) }

// SyncDir implements FS.
func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// Lock implements FS.
func (osFS) Lock(path string) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return f, nil
}

// osFile is File on an *os.File.
type osFile struct{ f *os.File }

// WriteAt implements File.
func (o osFile) WriteAt(p []byte, off int64) (int, error) { return o.f.WriteAt(p, off) }

// Sync implements File.
func (o osFile) Sync() error { return syncData(o.f) }

// Allocate implements File.
func (o osFile) Allocate(size int64) error {
	fi, err := o.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() >= size {
		return nil
	}
	return allocate(o.f, fi.Size(), size)
}

// Truncate implements File.
func (o osFile) Truncate(size int64) error { return o.f.Truncate(size) }

// Close implements File.
func (o osFile) Close() error { return o.f.Close() }
