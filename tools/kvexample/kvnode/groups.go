package kvnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
)

// The multi-group mode (Config.Groups above one, the flag -groups N) runs
// N independent Raft groups in one process, a Host, instead of one Node:
//
//   - Sharding. Key k belongs to group GroupOf(k, N): the 64-bit FNV-1a
//     hash of the key's bytes, modulo N, plus one (groups are numbered
//     from 1). The function is fixed: a data directory records its N
//     (GroupsFile) and a Host refuses to start it with another, since
//     every key would move.
//   - Replicas. Every group is replicated on the same processes, and the
//     replica of every group on process P has replica ID P (the
//     replica-ID rule): a Raft message of any group from P to Q has From
//     P and To Q, so one connection between two processes carries the
//     messages of every group, each tagged with its group.
//   - What groups share: the event loop goroutine, which ticks, steps,
//     and hands out the Readys of every group; one connection per pair of
//     processes, on which the messages of a round travel together; the
//     log, written once and synced once per round for all the groups
//     that have something to persist; the HTTP server.
//   - What they do not share: everything Raft: each group has its own
//     RawNode, term, leader, log, commit index, state machine (its keys
//     and nothing else), snapshots and configuration changes.
//
// The HTTP API is the same for clients: a host routes each key to its
// group, and a write to a group this process does not lead answers
// not_leader naming the HTTP address of that group's leader.

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
