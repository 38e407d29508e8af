package kvnode

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync/atomic"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// groupSegmentBytes is the segment size of a group's own log in
// walGroupLog: small, since a process holds thousands of them.
const groupSegmentBytes = 256 << 10

// walGroupLog is the groupLog that keeps one tools/wal log and snapshot
// store per group, in DataDir/groups/<group>. Each round writes to the
// logs of the groups that have something to persist and syncs each of
// them: one fsync per group written, not one for the round (see the
// package documentation).
type walGroupLog struct {
	dir    string
	logger *slog.Logger
	disks  []*walGroupDisk
	dirty  []*walGroupDisk
	nsyncs atomic.Uint64
}

// newWALGroupLog returns the groupLog of one log per group under dir.
func newWALGroupLog(dir string, logger *slog.Logger) *walGroupLog {
	return &walGroupLog{dir: dir, logger: logger}
}

// walGroupDisk is one group's log and snapshots.
type walGroupDisk struct {
	l     *walGroupLog
	s     *wal.Storage
	dirty bool
}

// open opens (or bootstraps) group's storage.
func (l *walGroupLog) open(group uint64, voters []uint64) (groupDisk, error) {
	dir := filepath.Join(l.dir, strconv.FormatUint(group, 10))
	s, err := wal.OpenStorage(dir, wal.Options{SegmentBytes: groupSegmentBytes, GroupID: group, Logger: l.logger})
	if err != nil {
		return nil, fmt.Errorf("group %d: %w", group, err)
	}
	if err := bootstrapIfEmpty(s, voters); err != nil {
		return nil, errors.Join(fmt.Errorf("group %d: %w", group, err), s.Close())
	}
	d := &walGroupDisk{l: l, s: s}
	l.disks = append(l.disks, d)
	return d, nil
}

// bootstrapIfEmpty writes the first configuration of a group whose
// storage holds nothing.
func bootstrapIfEmpty(s *wal.Storage, voters []uint64) error {
	hs, cs, _ := s.InitialState()
	last, _ := s.LastIndex()
	if !hs.IsEmpty() || last > 0 || len(cs.Voters) > 0 {
		return nil
	}
	return s.Bootstrap(raftpb.ConfState{Voters: voters})
}

// write fsyncs, with sync, the log of every group written since the
// last sync (Save wrote to each log already).
func (l *walGroupLog) write(sync bool) error {
	if !sync {
		return nil
	}
	var errs []error
	for _, d := range l.dirty {
		d.dirty = false
		errs = append(errs, d.s.Sync())
		l.nsyncs.Add(1)
	}
	l.dirty = l.dirty[:0]
	return errors.Join(errs...)
}

func (l *walGroupLog) syncs() uint64 { return l.nsyncs.Load() }

// close syncs and closes every group's log.
func (l *walGroupLog) close() error {
	var errs []error
	for _, d := range l.disks {
		errs = append(errs, d.s.Close())
	}
	l.disks = nil
	return errors.Join(errs...)
}

// abandon closes every group's log, so that a host started again in the
// same process can lock them. wal.Storage has no close without a sync, so
// a killed host of this log syncs what its last round wrote: a crash
// loses less than it could, and nothing it had acknowledged either way.
func (l *walGroupLog) abandon() { _ = l.close() }

// Storage returns the storage the group's node reads.
func (d *walGroupDisk) Storage() raft.Storage { return d.s }

// Save writes snap, ents and hs to the group's log, unsynced.
func (d *walGroupDisk) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	if hs.IsEmpty() && len(ents) == 0 && snap.IsEmpty() {
		return nil
	}
	if err := d.s.Persist(hs, ents, snap, false); err != nil {
		return err
	}
	if !d.dirty {
		d.dirty = true
		d.l.dirty = append(d.l.dirty, d)
	}
	return nil
}

// Sync fsyncs the group's log.
func (d *walGroupDisk) Sync() error { return d.s.Sync() }

// compact snapshots the group at index and drops its log up to there.
func (d *walGroupDisk) compact(index uint64, cs raftpb.ConfState, data []byte) error {
	return d.s.Compact(index, cs, data)
}
