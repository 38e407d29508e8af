package kvnode

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tickraft/raft/tools/wal/walfs"
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
func lockDataDir(dir string) (io.Closer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := walfs.OS().Lock(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is locked (%v); stop the other node or give this one its own -data", ErrDataDirLocked, path, err)
	}
	return f, nil
}
