package kvnode

import (
	"errors"

	"github.com/tickraft/raft/raftpb"
)

// errDropUnsupported: placeholder until the shared log can drop a group.
var errDropUnsupported = errors.New("kvnode: the shared log cannot drop a group yet")

func (l *sharedGroupLog) tombstone(group uint64) (raftpb.HardState, bool) {
	return raftpb.HardState{}, false
}

func (l *sharedGroupLog) create(group uint64, hs raftpb.HardState) (groupDisk, error) {
	return nil, errDropUnsupported
}

func (d *sharedGroupDisk) drop(hs raftpb.HardState) error { return errDropUnsupported }
