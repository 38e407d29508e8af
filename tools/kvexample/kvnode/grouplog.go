package kvnode

import (
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
	"github.com/tickraft/raft/tools/wal"
)

// groupLog is a Host's durable state: the log and snapshots of every
// group it holds. A round of the host's loop saves the Readys of many
// groups (groupDisk.Save) and then calls write once: one write, and one
// fsync when a Ready asks for it, makes them all durable.
type groupLog interface {
	// open returns the disk of group, loaded with what it holds; a group
	// the log holds nothing of is bootstrapped with voters as its first
	// configuration, or, with no voters, not opened (nil, nil). A group
	// whose last record is its tombstone (dropped) is never opened.
	open(group uint64, voters []uint64) (groupDisk, error)
	// tombstone returns the hard state kept for group when its replica
	// was dropped (groupDisk.drop), and whether the log holds the group as
	// dropped: no record of it after its tombstone.
	tombstone(group uint64) (raftpb.HardState, bool)
	// create returns the disk of a new, empty replica of group, with no
	// configuration and hs as its hard state (the term and vote of its
	// tombstone, or nothing); hs is saved with the next write, so that
	// the group is recorded again with the term and vote it had.
	create(group uint64, hs raftpb.HardState) (groupDisk, error)
	// write writes what every group saved since the last write, and
	// with sync makes it durable. Until then a group's Storage may show
	// what it saved, but nothing of it may be acknowledged.
	write(sync bool) error
	// pinning returns the groups that keep the log's oldest segment on
	// disk once it holds more than keptSegments segments (nothing
	// before, or for a log that is not in segments): the groups the host
	// snapshots so that the log stays bounded (Host.releasePinned), each
	// with the index it must release.
	pinning() []wal.Pin
	// syncs returns the number of fsyncs done so far.
	syncs() uint64
	// close syncs and closes the log; abandon closes it without a sync,
	// as a crash would.
	close() error
	abandon()
}

// groupDisk is one group's part of a groupLog: a raftloop.Disk whose
// Sync the host does not call (groupLog.sync does the work of all), and
// the compaction of the group's log below a snapshot.
type groupDisk interface {
	raftloop.Disk
	// compact records a snapshot of the group's state at index (data, in
	// configuration cs) and drops the group's entries up to it, leaving
	// other groups' data alone.
	compact(index uint64, cs raftpb.ConfState, data []byte) error
	// drop removes the group's replica from the log durably: a
	// tombstone keeping hs's term and vote, then its entries and
	// snapshots go. The disk is not used again.
	drop(hs raftpb.HardState) error
}
