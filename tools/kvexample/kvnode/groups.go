package kvnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tickraft/raft/tools/wal/walfs"
)

// GroupsFile is the file, in a multi-group host's data directory, that
// records how many groups it holds and the processes every group started
// on (Config.GroupVoters, or every process).
const GroupsFile = "groups.json"

// ErrGroupsChanged is wrapped by the error StartHost returns for a data
// directory written with another number of groups.
var ErrGroupsChanged = errors.New("kvnode: the data directory holds another number of groups")

// ErrGroupVotersChanged is wrapped by the error StartHost returns for a
// data directory created with other first voters (Config.GroupVoters,
// -group-voters; by default every process): the host would bootstrap the
// groups it does not hold on a configuration no other process has.
var ErrGroupVotersChanged = errors.New("kvnode: the data directory was created with other group voters")

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
	// Voters are the first voters of every group, sorted; absent in a
	// directory created before they were recorded, which is not checked.
	Voters []uint64 `json:"voters,omitempty"`
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

// checkGroupsFile records groups and voters (sorted) in dir's GroupsFile,
// or checks that the numbers recorded there are the same. A directory
// holding a single-group node's log is refused.
func checkGroupsFile(dir string, groups int, voters []uint64) error {
	path := filepath.Join(dir, GroupsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(dir, "wal")); err == nil {
			return fmt.Errorf("%w: %s holds the log of a single-group node", ErrGroupsChanged, dir)
		}
		b, _ = json.Marshal(groupsRecord{Groups: groups, Voters: voters})
		return walfs.WriteAtomic(walfs.OS(), dir, GroupsFile, b)
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
	if rec.Voters != nil && !slices.Equal(rec.Voters, voters) {
		return fmt.Errorf("%w: %s says the groups started on %s, the configuration on %s: give -group-voters %s",
			ErrGroupVotersChanged, path, idList(rec.Voters), idList(voters), idList(rec.Voters))
	}
	return nil
}

// idList formats ids as the -group-voters flag takes them: ID,ID,...
func idList(ids []uint64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(id, 10)
	}
	return strings.Join(s, ",")
}
