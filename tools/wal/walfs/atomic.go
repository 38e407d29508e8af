package walfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// TempSuffix ends the names of files being written: WriteAtomic's
// temporary file, and the segments package wal creates.
const TempSuffix = ".tmp"

// WriteAtomic writes parts, one after the other, to dir/name durably and
// atomically: a temporary file in dir (name+TempSuffix), synced, renamed
// to name, and the directory synced. After a crash dir/name holds either
// all of it or what it held before, and RemoveTemps clears a temporary
// file left behind.
func WriteAtomic(fs FS, dir, name string, parts ...[]byte) error {
	tmp := filepath.Join(dir, name+TempSuffix)
	if err := fs.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
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

// RemoveTemps removes the temporary files a crash left in dir (those
// ending in TempSuffix) and returns their paths.
func RemoveTemps(fs FS, dir string) ([]string, error) {
	names, err := fs.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, n := range names {
		if !strings.HasSuffix(n, TempSuffix) {
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
