package wal

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal/snapfile"
)

// Storage is a node's durable storage, ready to use: a write-ahead log in
// DIR/wal, the state machine's snapshots in DIR/snap, and a raft.Storage
// the node reads them back from. It implements raft.Storage; the node
// never writes through that interface, the application does, with Save
// for each Ready. Its methods are safe for concurrent use.
//
// A Storage reads its log into memory at open (raft.MemoryStorage holds
// the entries after the last snapshot), so a node's memory grows with its
// log until Compact.
type Storage struct {
	mu sync.Mutex // orders writes: the log and the memory change together
	memReads
	log   *WAL
	snaps *snapfile.Store
	loss  error
}

// OpenStorage opens (or creates) the storage in dir and loads what it
// holds: the snapshot the log names, the hard state, the entries after
// the snapshot. A restarting node then restores its state machine from
// Snapshot() and boots with Config.Applied set to that snapshot's index.
// A new member of a new cluster calls Bootstrap first. The errors are
// Open's (a loss of synced data matches raft.ErrLostLog and names the
// file), and a missing or damaged snapshot file the log names.
func OpenStorage(dir string, opts Options) (*Storage, error) {
	log, rp, err := Open(filepath.Join(dir, "wal"), opts)
	if err != nil {
		return nil, err
	}
	snaps, err := snapfile.Open(filepath.Join(dir, "snap"), snapfile.Options{Logger: opts.Logger, FS: opts.FS})
	if err != nil {
		return nil, errors.Join(err, log.Close())
	}
	s := &Storage{memReads: memReads{raft.NewMemoryStorage()}, log: log, snaps: snaps, loss: rp.Loss}
	if err := s.load(rp); err != nil {
		return nil, errors.Join(err, log.Close())
	}
	return s, nil
}

// load fills the memory storage with what the log held, in the order the
// node wrote it: the snapshot (or the boot configuration), the entries,
// the hard state.
func (s *Storage) load(rp *Replay) error { return loadReplay(s.mem, s.snaps, rp) }

// loadReplay fills mem with what a replay holds, in the order the node
// wrote it: the snapshot (its data from snaps) or the boot configuration,
// the entries, the hard state.
func loadReplay(mem *raft.MemoryStorage, snaps *snapfile.Store, rp *Replay) error {
	if rp.Snapshot.Index > 0 {
		snap, err := snaps.LoadAt(rp.Snapshot.Index, rp.Snapshot.Term)
		if err != nil {
			return fmt.Errorf("wal: loading the snapshot the log names: %w", err)
		}
		if err := mem.ApplySnapshot(snap); err != nil {
			return err
		}
	} else if !emptyMeta(&rp.Snapshot) {
		mem.SetConfState(rp.Snapshot.ConfState)
	}
	if err := mem.Append(rp.Entries); err != nil {
		return err
	}
	return mem.SetHardState(rp.HardState)
}

// Loss returns nil, or, when Options.AcceptLoss let the log open over lost
// synced data, what was lost (matching raft.ErrLostLog): the node must
// then boot with Config.Recovering.
func (s *Storage) Loss() error { return s.loss }

// Bootstrap makes a new member of a new cluster: it saves, durably, the
// first configuration cs, the same on every first member. It refuses a
// storage that holds anything already.
func (s *Storage) Bootstrap(cs raftpb.ConfState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs, old, _ := s.mem.InitialState()
	last, _ := s.mem.LastIndex()
	if !hs.IsEmpty() || last > 0 || len(old.Voters) > 0 {
		return fmt.Errorf("wal: bootstrap: the storage is not empty")
	}
	if len(cs.Voters) == 0 {
		return fmt.Errorf("wal: bootstrap: a first configuration needs a voter")
	}
	if err := s.log.SaveSnapshot(raftpb.SnapshotMetadata{ConfState: cs}); err != nil {
		return err
	}
	s.mem.SetConfState(cs)
	return nil
}

// Save persists a Ready's Snapshot, Entries and HardState, in that order,
// with one sync of the log when rd.MustSync (a received snapshot's file is
// written and synced before), and then makes them readable through the
// raft.Storage methods. Call it before sending rd.MessagesAfterPersist and
// before Advance. After an error the storage's state on disk is unknown:
// stop the node.
func (s *Storage) Save(rd raft.Ready) error {
	return s.Persist(rd.HardState, rd.Entries, rd.Snapshot, rd.MustSync)
}

// Persist is Save's work on its parts, for a loop that does not hold a
// Ready: an append worker of the asynchronous storage mode passes a
// MsgStorageAppend's m.StorageAppendHardState(), m.Entries and snapshot,
// with sync set, before it delivers the message's responses.
func (s *Storage) Persist(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot, sync bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var meta *raftpb.SnapshotMetadata
	if !snap.IsEmpty() {
		// The file first: the marker must never name a missing file.
		if err := s.snaps.Save(snap); err != nil {
			return err
		}
		meta = &snap.Metadata
	}
	if err := s.log.save(meta, hs, ents, sync); err != nil {
		return err
	}
	if meta != nil {
		if err := s.mem.ApplySnapshot(snap); err != nil {
			return err
		}
	}
	if err := s.mem.Append(ents); err != nil {
		return err
	}
	if !hs.IsEmpty() {
		return s.mem.SetHardState(hs)
	}
	return nil
}

// Sync makes every write Persist made so far durable: a loop that
// persists without syncing (Persist with sync false) and sends what may
// leave before the write is durable syncs here, once.
func (s *Storage) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.Sync()
}

// Compact takes a snapshot of the application's state at index (data,
// with the configuration cs in force there), makes it durable, drops the
// log's entries up to index from memory and disk, and deletes older
// snapshot files. index must be applied (see the library's rules for
// compacting) and above the last snapshot.
func (s *Storage) Compact(index uint64, cs raftpb.ConfState, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := s.mem.CreateSnapshot(index, &cs, data)
	if err != nil {
		return err
	}
	if err := s.snaps.Save(snap); err != nil {
		return err
	}
	if err := s.log.SaveSnapshot(snap.Metadata); err != nil {
		return err
	}
	if err := s.mem.Compact(index); err != nil {
		return err
	}
	return errors.Join(s.log.ReleaseTo(index), s.snaps.DeleteBefore(index))
}

// Close syncs and closes the log and releases the directory.
func (s *Storage) Close() error { return s.log.Close() }

var _ raft.Storage = (*Storage)(nil)
