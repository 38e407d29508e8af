//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package walfs

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on f, failing at once if it is held.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
