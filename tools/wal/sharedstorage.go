package wal

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"path/filepath"
	"sync"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal/snapfile"
	"github.com/tickraft/raft/tools/wal/walfs"
)

// This file holds the storage of many groups on one shared log: a
// raft.Storage per group, as Storage is for a node of one group.

// SharedStorage is the durable storage of many Raft groups of one
// process: one shared log in DIR/wal (OpenShared), each group's snapshots
// in DIR/snap/GROUP (GROUP as 16 hexadecimal digits, package snapfile),
// and for each group a raft.Storage (GroupStorage) that holds its entries
// after its snapshot in memory. Save persists several groups' Readys with
// one write and one sync. Its methods are safe for concurrent use.
type SharedStorage struct {
	mu     sync.Mutex // orders writes: the log and the memories change together
	dir    string
	opts   Options
	log    *SharedLog
	replay *SharedReplay
	groups map[uint64]*GroupStorage
	batch  []Update // Save's scratch, reused
}

// GroupReady is one group's Ready for SharedStorage.Save.
type GroupReady struct {
	// Group is the Raft group whose Ready it is.
	Group uint64
	// Ready is the group's Ready: its Snapshot, Entries and HardState are
	// persisted, and its MustSync asks for the sync.
	Ready raft.Ready
}

// OpenSharedStorage opens (or creates) the storage of many groups in dir.
// Each group's storage loads when Group first asks for it. The errors are
// OpenShared's.
func OpenSharedStorage(dir string, opts Options) (*SharedStorage, error) {
	log, rp, err := OpenShared(filepath.Join(dir, "wal"), opts)
	if err != nil {
		return nil, err
	}
	s := &SharedStorage{dir: dir, opts: opts, log: log, replay: rp, groups: map[uint64]*GroupStorage{}}
	// A crash after a Drop's tombstone and before its snapshot files went
	// leaves them behind: they go now.
	for _, t := range rp.Dropped() {
		if err := s.removeSnapshots(t.Group); err != nil {
			return nil, errors.Join(err, log.Close())
		}
	}
	return s, nil
}

// snapDir returns the directory of group id's snapshot files.
func (s *SharedStorage) snapDir(id uint64) string {
	return filepath.Join(s.dir, "snap", fmt.Sprintf("%016x", id))
}

// Group returns the storage of group id, loading it the first time from
// what the log held (the snapshot the log names, from the group's
// snapshot files, then its entries and hard state); a group the log does
// not hold starts empty, to Bootstrap or to join, and a dropped group
// (Drop, Tombstone) starts with an empty log and its tombstone's term and
// vote, to join again as a replica added back under the same ID. A restarting node of the
// group restores its state machine from Snapshot() and boots with
// Config.Applied set to that snapshot's index. A missing or damaged
// snapshot file the log names is an error.
func (s *SharedStorage) Group(id uint64) (*GroupStorage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.group(id)
}

// group returns group id's storage, loaded. s.mu is held.
func (s *SharedStorage) group(id uint64) (*GroupStorage, error) {
	if g := s.groups[id]; g != nil {
		return g, nil
	}
	snaps, err := snapfile.Open(s.snapDir(id), snapfile.Options{Logger: s.opts.Logger, FS: s.opts.FS})
	if err != nil {
		return nil, err
	}
	rp := s.replay.Group(id)
	if tomb, ok := s.log.Tombstone(id); ok {
		// A dropped group starts afresh from its tombstone's term and
		// vote: a replica added back under the same ID.
		rp = &Replay{HardState: tomb, TruncatedBytes: rp.TruncatedBytes, Loss: s.replay.every}
	}
	g := &GroupStorage{s: s, id: id, memReads: memReads{raft.NewMemoryStorage()}, snaps: snaps, loss: rp.Loss}
	if err := loadReplay(g.mem, snaps, rp); err != nil {
		return nil, fmt.Errorf("%w (group %d)", err, id)
	}
	s.groups[id] = g
	return g, nil
}

// Save persists the Readys of several groups (a group may have more than
// one, in order): each received snapshot's file first, then every group's
// snapshot marker, entries and hard state in one write of the log, with
// one sync when any Ready's MustSync asks; then it makes them readable
// through each group's raft.Storage methods. Call it before sending the
// Readys' MessagesAfterPersist and before their Advance. After an error
// the storage's state on disk is unknown: stop every group.
func (s *SharedStorage) Save(rds []GroupReady) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	batch := s.batch[:0]
	sync := false
	for i := range rds {
		rd := &rds[i].Ready
		g, err := s.group(rds[i].Group)
		if err != nil {
			return err
		}
		u := Update{Group: g.id, Entries: rd.Entries, HardState: rd.HardState}
		if !rd.Snapshot.IsEmpty() {
			// The file first: the marker must never name a missing file.
			if err := g.snaps.Save(rd.Snapshot); err != nil {
				return err
			}
			u.Snapshot = &rd.Snapshot.Metadata
		}
		batch = append(batch, u)
		sync = sync || rd.MustSync
	}
	err := s.log.Save(batch, sync)
	clear(batch) // the caller's entries are not kept
	s.batch = batch[:0]
	if err != nil {
		return err
	}
	for i := range rds {
		if err := s.groups[rds[i].Group].remember(&rds[i].Ready); err != nil {
			return err
		}
	}
	return nil
}

// Drop deletes this process's state of group, whose replica was removed
// from the group's configuration, but for its term and vote: it records
// the group's tombstone in the log, durably, with the group's current
// hard state (SharedLog.Drop), then deletes the group's snapshot files
// (DIR/snap/GROUP). Stop the group's node first: the GroupStorage Group
// returned before must not be used again, and any later Save of the
// group starts it afresh from the tombstone, as a later Group call does
// (a replica added back). Dropping a group dropped already does nothing
// more; a group the storage never held is dropped with a zero term and
// vote.
func (s *SharedStorage) Drop(group uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.log.Drop(group, s.hardState(group))
	if _, dropped := s.log.Tombstone(group); !dropped {
		return err
	}
	// The tombstone is durable (an error may still come from deleting the
	// segments it freed): the group's state goes.
	delete(s.groups, group)
	delete(s.replay.Groups, group)
	return errors.Join(err, s.removeSnapshots(group))
}

// hardState returns group's current hard state: its storage's when
// loaded, its tombstone's when dropped, or what the log held at open.
// s.mu is held.
func (s *SharedStorage) hardState(group uint64) raftpb.HardState {
	if g := s.groups[group]; g != nil {
		hs, _, _ := g.mem.InitialState()
		return hs
	}
	if tomb, ok := s.log.Tombstone(group); ok {
		return tomb
	}
	return s.replay.Group(group).HardState
}

// Tombstone returns the term and vote kept of group, and true, when the
// group is dropped (Drop, here or before the storage was opened) and was
// not saved again since; otherwise false. A host that opens the storage
// learns from it which groups it no longer replicates.
func (s *SharedStorage) Tombstone(group uint64) (raftpb.HardState, bool) {
	return s.log.Tombstone(group)
}

// Dropped returns the groups that are dropped (Drop, here or before the
// storage was opened) and were not saved again since, with their
// tombstones, sorted by group: the groups a host that opens the storage
// no longer replicates.
func (s *SharedStorage) Dropped() []Tombstone { return s.log.dropped() }

// removeSnapshots deletes group's snapshot directory and what it holds,
// durably.
func (s *SharedStorage) removeSnapshots(group uint64) error {
	fs := s.opts.FS
	if fs == nil {
		fs = walfs.OS()
	}
	if err := removeTree(fs, s.snapDir(group)); err != nil {
		return fmt.Errorf("wal: deleting the snapshots of dropped group %d: %w", group, err)
	}
	return nil
}

// removeTree deletes dir, its files and its directories, syncing each
// directory it empties; a dir that does not exist is no error.
func removeTree(fs walfs.FS, dir string) error {
	names, err := fs.ReadDir(dir)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, name := range names {
		p := filepath.Join(dir, name)
		if _, err := fs.ReadDir(p); err == nil {
			if err := removeTree(fs, p); err != nil {
				return err
			}
			continue
		}
		if err := fs.Remove(p); err != nil {
			return err
		}
	}
	if len(names) > 0 {
		if err := fs.SyncDir(dir); err != nil {
			return err
		}
	}
	if err := fs.Remove(dir); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return err
	}
	return fs.SyncDir(filepath.Dir(dir))
}

// Sync makes every write saved so far durable, for every group.
func (s *SharedStorage) Sync() error { return s.log.Sync() }

// Close syncs and closes the log and releases the directory.
func (s *SharedStorage) Close() error { return s.log.Close() }

// GroupStorage is one group's storage on a SharedStorage
// (SharedStorage.Group). It implements raft.Storage; the group's node
// never writes through that interface, the application does, with
// SharedStorage.Save (or Save for this group alone).
type GroupStorage struct {
	s  *SharedStorage
	id uint64
	memReads
	snaps *snapfile.Store
	loss  error
}

// remember makes what a saved Ready holds readable. s.mu is held.
func (g *GroupStorage) remember(rd *raft.Ready) error {
	if !rd.Snapshot.IsEmpty() {
		if err := g.mem.ApplySnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	if err := g.mem.Append(rd.Entries); err != nil {
		return err
	}
	if !rd.HardState.IsEmpty() {
		return g.mem.SetHardState(rd.HardState)
	}
	return nil
}

// ID returns the group's ID.
func (g *GroupStorage) ID() uint64 { return g.id }

// Loss returns nil, or, when Options.AcceptLoss let the log open over lost
// synced data of this group (or of every group), what was lost (matching
// raft.ErrLostLog): the group's node must then boot with
// Config.Recovering.
func (g *GroupStorage) Loss() error { return g.loss }

// Bootstrap makes the group a new member of a new cluster: it saves,
// durably, the first configuration cs. It refuses a group that holds
// anything already.
func (g *GroupStorage) Bootstrap(cs raftpb.ConfState) error {
	g.s.mu.Lock()
	defer g.s.mu.Unlock()
	hs, old, _ := g.mem.InitialState()
	last, _ := g.mem.LastIndex()
	if !hs.IsEmpty() || last > 0 || len(old.Voters) > 0 {
		return fmt.Errorf("wal: bootstrap: group %d's storage is not empty", g.id)
	}
	if len(cs.Voters) == 0 {
		return fmt.Errorf("wal: bootstrap: a first configuration needs a voter")
	}
	if err := g.s.log.SaveSnapshot(g.id, raftpb.SnapshotMetadata{ConfState: cs}); err != nil {
		return err
	}
	g.mem.SetConfState(cs)
	return nil
}

// Save persists the group's Ready alone, as SharedStorage.Save does.
func (g *GroupStorage) Save(rd raft.Ready) error {
	return g.s.Save([]GroupReady{{Group: g.id, Ready: rd}})
}

// Compact takes a snapshot of the group's state at index (data, with the
// configuration cs in force there), makes it durable, drops the group's
// entries up to index from memory, releases them in the log (whose
// segments go once no group needs them) and deletes the group's older
// snapshot files. index must be applied and above the last snapshot.
func (g *GroupStorage) Compact(index uint64, cs raftpb.ConfState, data []byte) error {
	g.s.mu.Lock()
	defer g.s.mu.Unlock()
	snap, err := g.mem.CreateSnapshot(index, &cs, data)
	if err != nil {
		return err
	}
	if err := g.snaps.Save(snap); err != nil {
		return err
	}
	if err := g.s.log.SaveSnapshot(g.id, snap.Metadata); err != nil {
		return err
	}
	if err := g.mem.Compact(index); err != nil {
		return err
	}
	return errors.Join(g.s.log.ReleaseTo(g.id, index), g.snaps.DeleteBefore(index))
}

var _ raft.Storage = (*GroupStorage)(nil)
