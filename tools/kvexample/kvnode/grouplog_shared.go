package kvnode

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
	"github.com/tickraft/raft/tools/wal/snapfile"
)

// sharedGroupLog is the groupLog of a Host on disk: one tools/wal log
// shared by every group (DataDir/groups/wal), whose records name their
// group, and a snapshot store per group (DataDir/groups/snap/<group>,
// opened when the group first has a snapshot). A round's updates of all
// groups are one write and, when a Ready asks for it, one fsync
// (wal.SharedLog.Save); a group's compaction releases its own entries and
// never rewrites another group's records.
type sharedGroupLog struct {
	dir    string
	logger *slog.Logger
	log    *wal.SharedLog
	replay *wal.SharedReplay
	// pending are the updates saved since the last write, in order.
	pending []wal.Update
	nsyncs  atomic.Uint64
}

// openSharedGroupLog opens (or creates) the shared log under dir.
// segmentBytes is the log's segment size (0: the wal's default).
func openSharedGroupLog(dir string, segmentBytes int64, logger *slog.Logger, observeSync func(time.Duration)) (*sharedGroupLog, error) {
	l, rp, err := wal.OpenShared(filepath.Join(dir, "wal"), wal.Options{SegmentBytes: segmentBytes, Logger: logger, ObserveSync: observeSync})
	if err != nil {
		return nil, fmt.Errorf("opening the shared log: %w", err)
	}
	return &sharedGroupLog{dir: dir, logger: logger, log: l, replay: rp}, nil
}

// sharedGroupDisk is one group's part of a sharedGroupLog: the in-memory
// storage the group's node reads, loaded from the group's records and
// snapshot at open and then kept in step with every Save.
type sharedGroupDisk struct {
	l     *sharedGroupLog
	id    uint64
	mem   *raft.MemoryStorage
	snaps *snapfile.Store // nil until the group has a snapshot
}

// open loads group from what the log held, or bootstraps it: its first
// configuration is saved with the next write (the host writes and syncs
// once after opening every group). A dropped group, or one the log holds
// nothing of when there are no voters, is not opened; the snapshot
// directory a dropped group's replica may have left goes.
func (l *sharedGroupLog) open(group uint64, voters []uint64) (groupDisk, error) {
	if _, dropped := l.log.Tombstone(group); dropped {
		return nil, l.dropLeftovers(group)
	}
	d := &sharedGroupDisk{l: l, id: group, mem: raft.NewMemoryStorage()}
	rp := l.replay.Group(group)
	if rp.Loss != nil {
		return nil, fmt.Errorf("the shared log lost records of group %d: %w", group, rp.Loss)
	}
	if rp.Snapshot.Index == 0 && len(rp.Snapshot.ConfState.Voters) == 0 && rp.HardState.IsEmpty() && len(rp.Entries) == 0 {
		if len(voters) == 0 {
			return nil, nil
		}
		cs := raftpb.ConfState{Voters: voters}
		d.mem.SetConfState(cs)
		l.pending = append(l.pending, wal.Update{Group: group, Snapshot: &raftpb.SnapshotMetadata{ConfState: cs}})
		return d, nil
	}
	if err := d.load(rp); err != nil {
		return nil, fmt.Errorf("group %d: %w", group, err)
	}
	return d, nil
}

// load fills the group's storage with its snapshot, entries and hard
// state, in the order they were written.
func (d *sharedGroupDisk) load(rp *wal.Replay) error {
	switch {
	case rp.Snapshot.Index > 0:
		snaps, err := d.store()
		if err != nil {
			return err
		}
		snap, err := snaps.LoadAt(rp.Snapshot.Index, rp.Snapshot.Term)
		if err != nil {
			return fmt.Errorf("loading the snapshot the log names: %w", err)
		}
		if err := d.mem.ApplySnapshot(snap); err != nil {
			return err
		}
	default:
		d.mem.SetConfState(rp.Snapshot.ConfState)
	}
	if err := d.mem.Append(rp.Entries); err != nil {
		return err
	}
	return d.mem.SetHardState(rp.HardState)
}

// store returns the group's snapshot store, opening it the first time.
func (d *sharedGroupDisk) store() (*snapfile.Store, error) {
	if d.snaps == nil {
		s, err := snapfile.Open(d.l.snapDir(d.id), snapfile.Options{Logger: d.l.logger})
		if err != nil {
			return nil, err
		}
		d.snaps = s
	}
	return d.snaps, nil
}

// write writes every update saved since the last write as one batch, and
// with sync makes it durable with one fsync.
func (l *sharedGroupLog) write(sync bool) error {
	if len(l.pending) == 0 {
		if !sync {
			return nil
		}
		l.nsyncs.Add(1)
		return l.log.Sync()
	}
	err := l.log.Save(l.pending, sync)
	clear(l.pending) // release the entries
	l.pending = l.pending[:0]
	if sync {
		l.nsyncs.Add(1)
	}
	return err
}

func (l *sharedGroupLog) pinning() []wal.Pin {
	if l.log.Usage().Segments <= keptSegments {
		return nil
	}
	return l.log.Pinning()
}

func (l *sharedGroupLog) syncs() uint64 { return l.nsyncs.Load() }

func (l *sharedGroupLog) close() error { return l.log.Close() }

func (l *sharedGroupLog) abandon() { _ = l.log.Abandon() }

// Storage returns the storage the group's node reads.
func (d *sharedGroupDisk) Storage() raft.Storage { return d.mem }

// Save queues the group's update for the round's write: a snapshot's
// file is written (and synced) first, so that its marker never names a
// missing file. The storage shows the update at once.
func (d *sharedGroupDisk) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	if hs.IsEmpty() && len(ents) == 0 && snap.IsEmpty() {
		return nil
	}
	u := wal.Update{Group: d.id, Entries: ents, HardState: hs}
	if !snap.IsEmpty() {
		if err := d.saveSnapshotFile(snap); err != nil {
			return err
		}
		if err := d.mem.ApplySnapshot(snap); err != nil {
			return err
		}
		u.Snapshot = &snap.Metadata
	}
	if err := d.mem.Append(ents); err != nil {
		return err
	}
	if !hs.IsEmpty() {
		if err := d.mem.SetHardState(hs); err != nil {
			return err
		}
	}
	d.l.pending = append(d.l.pending, u)
	return nil
}

// saveSnapshotFile writes a snapshot's file durably.
func (d *sharedGroupDisk) saveSnapshotFile(snap raftpb.Snapshot) error {
	snaps, err := d.store()
	if err != nil {
		return err
	}
	return snaps.Save(snap)
}

// Sync syncs the shared log.
func (d *sharedGroupDisk) Sync() error { return d.l.log.Sync() }

// compact records a snapshot of the group at index: its file, then its
// marker in the shared log (synced), then the group's entries up to index
// are released (segments go once no group needs them) and its older
// snapshot files deleted.
func (d *sharedGroupDisk) compact(index uint64, cs raftpb.ConfState, data []byte) error {
	snap, err := d.mem.CreateSnapshot(index, &cs, data)
	if err != nil {
		return err
	}
	if err := d.saveSnapshotFile(snap); err != nil {
		return err
	}
	if err := d.l.log.SaveSnapshot(d.id, snap.Metadata); err != nil {
		return err
	}
	d.l.nsyncs.Add(1)
	if err := d.mem.Compact(index); err != nil {
		return err
	}
	return errors.Join(d.l.log.ReleaseTo(d.id, index), d.snaps.DeleteBefore(index))
}
