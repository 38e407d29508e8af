package kvnode

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LockFile is the name of the file, in the data directory, that a running
// node holds locked so that a second process cannot open the same
// directory.
const LockFile = "LOCK"

// ErrDataDirLocked is wrapped by the error Start returns when another node,
// in this process or another, holds the data directory.
var ErrDataDirLocked = errors.New("kvnode: the data directory is in use by another node")

// lockDataDir creates dir if needed and takes an exclusive lock on its
// LockFile without waiting. The lock lives as long as the returned file is
// open; the kernel releases it when the process exits, however it exits.
func lockDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s is locked (%v); stop the other node or give this one its own -data", ErrDataDirLocked, path, err)
	}
	return f, nil
}
