package raftloop

import (
	"fmt"
	"slices"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// CrashDisk is a disk for tests that can crash. It keeps the log of every
// write made to its MemoryStorage, in order, and how much of it is
// synced; a crash keeps the synced writes and a prefix of the rest: what
// was not synced is lost, the first write lost possibly torn after any
// of its records (the snapshot, each entry, the hard state), as a disk
// that keeps the order of writes loses them. Reopen rebuilds the storage
// a restarting node reads by making the surviving writes again.
type CrashDisk struct {
	st *raft.MemoryStorage
	// log holds every write; synced is the number of records of it that
	// are durable (a prefix).
	log    []write
	synced int
	chunks chunkStore
}

// write is one write made to the disk.
type write struct {
	boot *raftpb.ConfState // Bootstrap
	snap raftpb.Snapshot   // received from the leader (ApplySnapshot)
	ents []raftpb.Entry    // Append
	hs   raftpb.HardState  // SetHardState
	own  *ownSnapshot      // Compact: a snapshot of the node's own
}

// ownSnapshot is a snapshot the node took of its own state.
type ownSnapshot struct {
	index uint64
	cs    raftpb.ConfState
	data  []byte
}

// records returns the number of records of w: what a crash can cut it
// after. Each entry is a record.
func (w write) records() int { return max(1, len(w.ents)) }

// NewCrashDisk returns an empty disk.
func NewCrashDisk() *CrashDisk { return &CrashDisk{st: raft.NewMemoryStorage()} }

// Bootstrap writes the first configuration of a new cluster, durably.
func (d *CrashDisk) Bootstrap(cs raftpb.ConfState) {
	d.st.SetConfState(cs)
	d.append(write{boot: &cs})
	_ = d.Sync()
}

// Storage returns what the node reads: every write, synced or not.
func (d *CrashDisk) Storage() raft.Storage { return d.st }

// MemoryStorage returns the storage the node reads.
func (d *CrashDisk) MemoryStorage() *raft.MemoryStorage { return d.st }

// Save writes snap, ents and hs, in that order, as separate records.
func (d *CrashDisk) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	if err := save(d.st, hs, ents, snap); err != nil {
		return err
	}
	if !snap.IsEmpty() {
		d.append(write{snap: snap})
	}
	if len(ents) > 0 {
		d.append(write{ents: slices.Clone(ents)}) // the node takes its array back after Advance
	}
	if !hs.IsEmpty() {
		d.append(write{hs: hs})
	}
	return nil
}

// append logs w.
func (d *CrashDisk) append(w write) { d.log = append(d.log, w) }

// Sync makes every write so far durable.
func (d *CrashDisk) Sync() error {
	d.synced = len(d.log)
	return nil
}

// Unsynced returns the number of records a crash would lose or tear.
func (d *CrashDisk) Unsynced() int {
	n := 0
	for _, w := range d.log[d.synced:] {
		n += w.records()
	}
	return n
}

// Compact takes a snapshot of the application's state at index (data, in
// configuration cs) and drops the entries up to it, durably: a store on
// disk syncs the snapshot before it drops entries.
func (d *CrashDisk) Compact(index uint64, cs raftpb.ConfState, data []byte) error {
	if err := compact(d.st, index, cs, data); err != nil {
		return err
	}
	d.append(write{own: &ownSnapshot{index: index, cs: cs, data: data}})
	return d.Sync()
}

// SaveChunk saves a copy of a received chunk durably (syncing every write
// before it too).
func (d *CrashDisk) SaveChunk(index, term, chunk uint64, data []byte) error {
	d.chunks.save(index, term, chunk, data)
	return d.Sync()
}

// Chunks returns the data of the snapshot at index and term from its
// saved chunks, and forgets the chunks of older snapshots.
func (d *CrashDisk) Chunks(index, term uint64) ([]byte, error) { return d.chunks.assemble(index, term) }

// Crash loses what was not synced but for its first keep records (keep
// is cut to what there is): the writes after them are lost, the one they
// end in torn. It returns the records kept. Use Reopen to restart.
func (d *CrashDisk) Crash(keep int) int {
	keep = min(max(keep, 0), d.Unsynced())
	kept := keep
	log := d.log[:d.synced:d.synced]
	for _, w := range d.log[d.synced:] {
		if keep == 0 {
			break
		}
		if len(w.ents) > keep {
			w.ents = w.ents[:keep]
		}
		log = append(log, w)
		keep -= w.records()
	}
	d.log, d.synced = log, len(log)
	return kept
}

// Reopen returns the disk a restarting node finds: a new storage built by
// making every durable write again, in order (after Crash, those that
// survived it), and the chunks saved. It leaves d as it is, so a test
// also reads what d holds durably this way.
func (d *CrashDisk) Reopen() (*CrashDisk, error) {
	log := d.log[:d.synced:d.synced]
	r := &CrashDisk{st: raft.NewMemoryStorage(), log: log, synced: len(log), chunks: d.chunks}
	for i, w := range log {
		if err := w.replay(r.st); err != nil {
			return nil, fmt.Errorf("raftloop: replaying write %d: %w", i, err)
		}
	}
	return r, nil
}

// replay makes the write w again on st.
func (w write) replay(st *raft.MemoryStorage) error {
	switch {
	case w.boot != nil:
		st.SetConfState(*w.boot)
		return nil
	case w.own != nil:
		return compact(st, w.own.index, w.own.cs, w.own.data)
	}
	return save(st, w.hs, w.ents, w.snap)
}
