package snapfile

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/tickraft/raft/tools/wal/walfs"
)

// tempSuffix ends the names of files being written.
const tempSuffix = ".tmp"

// writeAtomic writes parts, one after the other, to dir/name durably and
// atomically: a temporary file in dir, synced, renamed to name, and the
// directory synced. After a crash dir/name holds either all of it or what
// it held before.
func writeAtomic(fs walfs.FS, dir, name string, parts ...[]byte) error {
	tmp := filepath.Join(dir, name+tempSuffix)
	if err := fs.Remove(tmp); err != nil && !isNotExist(err) {
		return err
	}
	f, err := fs.Create(tmp)
	if err != nil {
		return err
	}
	var off int64
	for _, p := range parts {
		if err == nil {
			_, err = f.WriteAt(p, off)
			off += int64(len(p))
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		return errors.Join(err, fs.Remove(tmp))
	}
	return fs.SyncDir(dir)
}

// removeTemps removes the temporary files a crash left in dir and returns
// their names.
func removeTemps(fs walfs.FS, dir string) ([]string, error) {
	names, err := fs.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, n := range names {
		if !strings.HasSuffix(n, tempSuffix) {
			continue
		}
		path := filepath.Join(dir, n)
		if err := fs.Remove(path); err != nil {
			return nil, err
		}
		removed = append(removed, path)
	}
	return removed, nil
}
