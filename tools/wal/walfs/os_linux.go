package walfs

import (
	"errors"
	"os"
	"syscall"
)

// syncData flushes f's data and the metadata needed to read it back (its
// size), not its times: fdatasync.
func syncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// allocate reserves the blocks of [from, size) with fallocate, falling
// back to extending the file (sparse) where the file system has no
// fallocate.
func allocate(f *os.File, from, size int64) error {
	for {
		err := syscall.Fallocate(int(f.Fd()), 0, from, size-from)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENOSYS):
			return f.Truncate(size)
		default:
			return err
		}
	}
}

// lockFile takes an exclusive flock on f, failing at once if it is held.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
