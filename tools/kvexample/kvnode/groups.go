package kvnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
)

// GroupsFile is the file, in a multi-group host's data directory, that
// records how many groups it holds.
const GroupsFile = "groups.json"

// ErrGroupsChanged is wrapped by the error StartHost returns for a data
// directory written with another number of groups.
var ErrGroupsChanged = errors.New("kvnode: the data directory holds another number of groups")

// GroupOf returns the group, from 1 to groups, that key belongs to: the
// FNV-1a 64-bit hash of its bytes modulo groups, plus one. groups below
// one count as one.
func GroupOf(key string, groups int) uint64 {
	if groups <= 1 {
		return 1
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()%uint64(groups) + 1
}

// groupsRecord is the content of GroupsFile.
type groupsRecord struct {
	Groups int `json:"groups"`
}

// refuseHostDir returns an error wrapping ErrGroupsChanged when dir is the
// data directory of a multi-group host, which a single-group node must
// not start on: it would find none of the host's data and serve an empty
// store as if nothing had been acknowledged.
func refuseHostDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, GroupsFile)); err == nil {
		return fmt.Errorf("%w: %s is the data directory of a multi-group host (%s); start it with -groups",
			ErrGroupsChanged, dir, GroupsFile)
	}
	return nil
}

// writeDurably writes b to dir/name through a temporary file: synced,
// renamed into place, the directory synced, so that after a crash the
// file is either absent or whole.
func writeDurably(dir, name string, b []byte) error {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	err = errors.Join(err, f.Sync(), f.Close())
	if err != nil {
		return err
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// checkGroupsFile records groups in dir's GroupsFile, or checks that the
// number recorded there is groups. A directory holding a single-group
// node's log is refused.
func checkGroupsFile(dir string, groups int) error {
	path := filepath.Join(dir, GroupsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(dir, "wal")); err == nil {
			return fmt.Errorf("%w: %s holds the log of a single-group node", ErrGroupsChanged, dir)
		}
		b, _ = json.Marshal(groupsRecord{Groups: groups})
		return writeDurably(dir, GroupsFile, b)
	}
	if err != nil {
		return err
	}
	var rec groupsRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if rec.Groups != groups {
		return fmt.Errorf("%w: %s says %d, the configuration %d (keys are sharded by the number of groups)",
			ErrGroupsChanged, path, rec.Groups, groups)
	}
	return nil
}
