package wal

import (
	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// memReads serves the reads of raft.Storage from the raft.MemoryStorage
// a storage keeps in step with its log (Storage, GroupStorage); the
// writes go through the storage, which writes the log first.
type memReads struct{ mem *raft.MemoryStorage }

// InitialState implements raft.Storage.
func (r memReads) InitialState() (raftpb.HardState, raftpb.ConfState, error) {
	return r.mem.InitialState()
}

// Entries implements raft.Storage.
func (r memReads) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	return r.mem.Entries(lo, hi, maxSize)
}

// Term implements raft.Storage.
func (r memReads) Term(i uint64) (uint64, error) { return r.mem.Term(i) }

// LastIndex implements raft.Storage.
func (r memReads) LastIndex() (uint64, error) { return r.mem.LastIndex() }

// FirstIndex implements raft.Storage.
func (r memReads) FirstIndex() (uint64, error) { return r.mem.FirstIndex() }

// Snapshot implements raft.Storage.
func (r memReads) Snapshot() (raftpb.Snapshot, error) { return r.mem.Snapshot() }
