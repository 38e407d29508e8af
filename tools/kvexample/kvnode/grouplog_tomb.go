package kvnode

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// This file holds the drop and re-creation of a group's replica in a
// sharedGroupLog (see groupLog.create and groupDisk.drop).

// snapDir is the directory of group's snapshots.
func (l *sharedGroupLog) snapDir(group uint64) string {
	return filepath.Join(l.dir, "snap", strconv.FormatUint(group, 10))
}

// dropLeftovers removes the snapshot directory a dropped group may have
// left: a crash between its tombstone and the directory's deletion
// (groupDisk.drop) leaves it behind, and a dropped group is not opened.
func (l *sharedGroupLog) dropLeftovers(group uint64) error {
	return os.RemoveAll(l.snapDir(group))
}

// tombstone returns the group's tombstone while the log holds it as
// dropped (wal.SharedLog.Tombstone).
func (l *sharedGroupLog) tombstone(group uint64) (raftpb.HardState, bool) {
	return l.log.Tombstone(group)
}

// create returns an empty disk for a new replica of group. The snapshot
// files a dropped replica of it may have left (a crash between its
// tombstone and their deletion) go first; hs is saved with the next
// write, which starts the group afresh in the log.
func (l *sharedGroupLog) create(group uint64, hs raftpb.HardState) (groupDisk, error) {
	if err := l.dropLeftovers(group); err != nil {
		return nil, err
	}
	d := &sharedGroupDisk{l: l, id: group, mem: raft.NewMemoryStorage()}
	if !hs.IsEmpty() {
		if err := d.mem.SetHardState(hs); err != nil {
			return nil, err
		}
		l.pending = append(l.pending, wal.Update{Group: group, HardState: hs})
	}
	return d, nil
}

// drop records the group's tombstone durably (wal.SharedLog.Drop, which
// also frees the segments only the group needed), then deletes its
// snapshot files. Updates of the group not yet written are forgotten: a
// later write must not start the group again.
func (d *sharedGroupDisk) drop(hs raftpb.HardState) error {
	l := d.l
	l.pending = slices.DeleteFunc(l.pending, func(u wal.Update) bool { return u.Group == d.id })
	if err := l.log.Drop(d.id, hs); err != nil {
		return err
	}
	l.nsyncs.Add(1)
	d.snaps = nil
	return os.RemoveAll(l.snapDir(d.id))
}
