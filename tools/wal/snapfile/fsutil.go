package snapfile

import (
	"errors"
	"os"
	"path/filepath"
)

// tempSuffix ends the names of files being written.
const tempSuffix = ".tmp"

// writeAtomic writes parts, one after the other, to dir/name durably and
// atomically: a temporary file in dir, fsynced, renamed to name, and the
// directory fsynced. After a crash dir/name holds either all of it or what
// it held before.
func writeAtomic(dir, name string, parts ...[]byte) error {
	f, err := os.CreateTemp(dir, name+".*"+tempSuffix)
	if err != nil {
		return err
	}
	tmp := f.Name()
	for _, p := range parts {
		if err == nil {
			_, err = f.Write(p)
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return syncDir(dir)
}

// syncDir makes the directory's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// removeTemps removes the temporary files a crash left in dir and returns
// their names.
func removeTemps(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*"+tempSuffix))
	if err != nil {
		return nil, err
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil {
			return nil, err
		}
	}
	return matches, nil
}
