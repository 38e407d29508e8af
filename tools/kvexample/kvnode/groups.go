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

// checkGroupsFile records groups in dir's GroupsFile, or checks that the
// number recorded there is groups.
func checkGroupsFile(dir string, groups int) error {
	path := filepath.Join(dir, GroupsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b, _ = json.Marshal(groupsRecord{Groups: groups})
		if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
			return err
		}
		return os.Rename(path+".tmp", path)
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
