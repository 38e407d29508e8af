package kvnode

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
	"github.com/tickraft/raft/tools/wal/snapfile"
)

// recovered is what a node found on disk when it started.
type recovered struct {
	storage   *raft.MemoryStorage
	sm        *stateMachine
	confState raftpb.ConfState
	// applied is the index of the snapshot the state machine was restored
	// from: the entries after it are applied again.
	applied uint64
	// truncatedBytes is the torn tail the log cut off.
	truncatedBytes int64
	bootstrapped   bool
}

// openDisk opens the node's log and snapshot store and rebuilds its
// storage and state machine from them. A new node of a new cluster (an
// empty log, not joining) is bootstrapped: it writes a first snapshot, at
// index 1 and term 1, holding the initial configuration and an empty
// state, the same on every initial member. A member added later thus
// always starts from a snapshot, which tells it the configuration.
func openDisk(cfg *Config, observeSync func(time.Duration)) (*disk, *recovered, error) {
	logger := cfg.Logger
	w, rp, err := wal.Open(filepath.Join(cfg.DataDir, "wal"), wal.Options{
		SegmentBytes: walSegmentBytes, Logger: logger, ObserveSync: observeSync, AcceptLoss: cfg.RecoverLostLog,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("opening the write-ahead log: %w", err)
	}
	snaps, err := snapfile.Open(filepath.Join(cfg.DataDir, "snap"), snapfile.Options{Logger: logger})
	if err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("opening the snapshot store: %w", err)
	}
	d := &disk{wal: w, snaps: snaps, log: logger, hs: rp.HardState, snapIndex: rp.Snapshot.Index}
	rec := &recovered{storage: raft.NewMemoryStorage(), sm: newStateMachine(), truncatedBytes: rp.TruncatedBytes}
	empty := rp.Snapshot.Index == 0 && rp.HardState.IsEmpty() && len(rp.Entries) == 0
	switch {
	case empty && cfg.Join:
		logger.Info("starting empty, to join an existing cluster")
	case empty:
		err = bootstrap(cfg, d, rec)
	default:
		err = replay(d, rp, rec)
	}
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	return d, rec, nil
}

// bootstrap writes the first snapshot of a new cluster and loads it.
func bootstrap(cfg *Config, d *disk, rec *recovered) error {
	voters := []uint64{cfg.ID}
	for _, p := range cfg.Peers {
		voters = append(voters, p.ID)
	}
	slices.Sort(voters)
	snap := raftpb.Snapshot{
		Data:     newStateMachine().encode(),
		Metadata: raftpb.SnapshotMetadata{Index: 1, Term: 1, ConfState: raftpb.ConfState{Voters: voters}},
	}
	hs := raftpb.HardState{Term: 1, Commit: 1}
	if err := d.saveSnapshot(snap); err != nil {
		return fmt.Errorf("bootstrapping: %w", err)
	}
	if err := d.wal.Save(hs, nil, true); err != nil {
		return fmt.Errorf("bootstrapping: %w", err)
	}
	d.hs = hs
	cfg.Logger.Info("bootstrapped a new cluster", "voters", voters)
	rec.bootstrapped = true
	return load(rec, snap, hs, nil)
}

// replay loads what the log and the snapshot its marker names hold.
func replay(d *disk, rp *wal.Replay, rec *recovered) error {
	var snap raftpb.Snapshot
	if rp.Snapshot.Index > 0 {
		var err error
		snap, err = d.snaps.LoadAt(rp.Snapshot.Index, rp.Snapshot.Term)
		if err != nil {
			return fmt.Errorf("loading the snapshot the log names: %w", err)
		}
	}
	d.log.Info("recovered from disk", "snapshot", rp.Snapshot.Index, "term", rp.HardState.Term,
		"commit", rp.HardState.Commit, "entries", len(rp.Entries), "truncatedBytes", rp.TruncatedBytes)
	return load(rec, snap, rp.HardState, rp.Entries)
}

// load fills the storage and the state machine.
func load(rec *recovered, snap raftpb.Snapshot, hs raftpb.HardState, ents []raftpb.Entry) error {
	if !snap.IsEmpty() {
		sm, err := decodeState(snap.Data)
		if err != nil {
			return fmt.Errorf("snapshot %d/%d: %w", snap.Metadata.Term, snap.Metadata.Index, err)
		}
		if err := rec.storage.ApplySnapshot(snap); err != nil {
			return err
		}
		rec.sm, rec.confState, rec.applied = sm, snap.Metadata.ConfState, snap.Metadata.Index
	}
	if err := rec.storage.SetHardState(hs); err != nil {
		return err
	}
	if err := rec.storage.Append(ents); err != nil {
		return fmt.Errorf("loading the log's entries: %w", err)
	}
	return nil
}
