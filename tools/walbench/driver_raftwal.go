package walbench

import (
	"errors"

	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// RaftWALDriver drives hashicorp's raft-wal (v0.4.0) as hashicorp/raft
// v1.7.2 uses it, as both its LogStore and its StableStore, with the
// defaults (64 MiB segments, every StoreLogs fsynced). The driver owns
// the metadata store and closes it itself: WAL.Close leaves it open,
// and its file locked, which would block a reopen in the same process.
func RaftWALDriver() Driver {
	return Driver{Name: "raft-wal", Create: createRaftWAL, Replay: replayRaftWAL}
}

// openRaftWAL opens the log in dir with a metadata store the caller
// closes, and a close function that closes both.
func openRaftWAL(dir string) (*raftwal.WAL, func() error, error) {
	meta := &metadb.BoltMetaDB{}
	w, err := raftwal.Open(dir, raftwal.WithMetaStore(meta))
	if err != nil {
		return nil, nil, errors.Join(err, meta.Close())
	}
	return w, func() error { return errors.Join(w.Close(), meta.Close()) }, nil
}

func createRaftWAL(dir string) (Writer, error) {
	w, closeAll, err := openRaftWAL(dir)
	if err != nil {
		return nil, err
	}
	return &hashicorpWriter{s: w, close: closeAll}, nil
}

func replayRaftWAL(dir string, visit func(Entry)) (Recovered, error) {
	w, closeAll, err := openRaftWAL(dir)
	if err != nil {
		return Recovered{}, err
	}
	rec, err := replayHashicorp(w, visit)
	return rec, errors.Join(err, closeAll())
}
