package raftloop

import (
	"bytes"
	"fmt"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// MemoryDisk is a Disk held in memory: a raft.MemoryStorage, and the
// snapshot chunks saved for the chunked transfer. Sync does nothing.
// It keeps no record of its writes, so a process restart loses it; see
// CrashDisk for a disk a node restarts from.
type MemoryDisk struct {
	st     *raft.MemoryStorage
	chunks chunkStore
}

// NewMemoryDisk returns an empty disk: the disk of a node that joins a
// running cluster, which learns the configuration from the leader.
func NewMemoryDisk() *MemoryDisk { return &MemoryDisk{st: raft.NewMemoryStorage()} }

// NewMemoryDiskOn returns a disk that writes to st, a MemoryStorage the
// application prepared (with SetConfState, for a new cluster's member).
func NewMemoryDiskOn(st *raft.MemoryStorage) *MemoryDisk { return &MemoryDisk{st: st} }

// Bootstrap writes the first configuration of a new cluster, the same
// on every first member.
func (d *MemoryDisk) Bootstrap(cs raftpb.ConfState) { d.st.SetConfState(cs) }

// Storage returns the disk's MemoryStorage.
func (d *MemoryDisk) Storage() raft.Storage { return d.st }

// MemoryStorage returns the disk's MemoryStorage.
func (d *MemoryDisk) MemoryStorage() *raft.MemoryStorage { return d.st }

// Save writes snap, ents and hs to the storage, in that order.
func (d *MemoryDisk) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	return save(d.st, hs, ents, snap)
}

// Sync does nothing: memory holds what Save wrote.
func (d *MemoryDisk) Sync() error { return nil }

// Compact takes a snapshot of the application's state at index (data, in
// configuration cs) and drops the entries up to it. index must be
// applied, so that the snapshot is the state there.
func (d *MemoryDisk) Compact(index uint64, cs raftpb.ConfState, data []byte) error {
	return compact(d.st, index, cs, data)
}

// SaveChunk keeps a copy of a received chunk.
func (d *MemoryDisk) SaveChunk(index, term, chunk uint64, data []byte) error {
	d.chunks.save(index, term, chunk, data)
	return nil
}

// Chunks returns the data of the snapshot at index and term from its
// saved chunks, and forgets the chunks of older snapshots.
func (d *MemoryDisk) Chunks(index, term uint64) ([]byte, error) {
	return d.chunks.assemble(index, term)
}

// save writes a snapshot, entries and a hard state to st, in that order.
func save(st *raft.MemoryStorage, hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	if !snap.IsEmpty() {
		if err := st.ApplySnapshot(snap); err != nil {
			return fmt.Errorf("raftloop: saving snapshot %d/%d: %w", snap.Metadata.Term, snap.Metadata.Index, err)
		}
	}
	if len(ents) > 0 {
		if err := st.Append(ents); err != nil {
			return fmt.Errorf("raftloop: saving entries from %d: %w", ents[0].Index, err)
		}
	}
	if !hs.IsEmpty() {
		if err := st.SetHardState(hs); err != nil {
			return fmt.Errorf("raftloop: saving %v: %w", hs, err)
		}
	}
	return nil
}

// compact snapshots st at index and drops the entries up to it.
func compact(st *raft.MemoryStorage, index uint64, cs raftpb.ConfState, data []byte) error {
	if _, err := st.CreateSnapshot(index, &cs, data); err != nil {
		return err
	}
	return st.Compact(index)
}

// chunkKey names a saved chunk.
type chunkKey struct{ index, term, chunk uint64 }

// chunkStore holds saved snapshot chunks.
type chunkStore map[chunkKey][]byte

// save keeps a copy of a chunk.
func (c *chunkStore) save(index, term, chunk uint64, data []byte) {
	if *c == nil {
		*c = chunkStore{}
	}
	(*c)[chunkKey{index, term, chunk}] = bytes.Clone(data)
}

// assemble concatenates the chunks of the snapshot at index and term,
// from chunk 0 up to the first one missing, and forgets the chunks of
// older snapshots.
func (c chunkStore) assemble(index, term uint64) ([]byte, error) {
	var data []byte
	n := uint64(0)
	for ; ; n++ {
		part, ok := c[chunkKey{index, term, n}]
		if !ok {
			break
		}
		data = append(data, part...)
	}
	if n == 0 {
		return nil, fmt.Errorf("raftloop: no chunk saved of snapshot %d/%d", term, index)
	}
	for k := range c {
		if k.index < index {
			delete(c, k)
		}
	}
	return data, nil
}
