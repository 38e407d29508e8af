package raftloop

import (
	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// WALDisk is the production Disk: a wal.Storage, the write-ahead log and
// snapshot files of tools/wal. Save writes a Ready's snapshot file, then
// its entries and hard state to the log as one record batch, without
// syncing the log, so that Messages leave while Sync makes it durable.
// It stores no snapshot chunks: a node that fetches snapshots in chunks
// needs a Disk that is also a ChunkDisk.
type WALDisk struct {
	s *wal.Storage
}

// NewWALDisk returns the Disk that writes to s, opened with
// wal.OpenStorage (and, for a new cluster's member, bootstrapped).
func NewWALDisk(s *wal.Storage) *WALDisk { return &WALDisk{s: s} }

// Storage returns the wal.Storage, which the node reads.
func (d *WALDisk) Storage() raft.Storage { return d.s }

// Save writes snap, ents and hs to the log, in that order, unsynced.
func (d *WALDisk) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	return d.s.Persist(hs, ents, snap, false)
}

// Sync makes the writes so far durable.
func (d *WALDisk) Sync() error { return d.s.Sync() }
