package walbench

import (
	"errors"
	"path/filepath"

	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// BoltDriver drives hashicorp's raft-boltdb/v2 (v2.3.1) as hashicorp/raft
// v1.7.2 uses it, as both its LogStore and its StableStore, with the
// defaults (NoSync off: every transaction is fsynced when it commits).
func BoltDriver() Driver {
	return Driver{Name: "raft-boltdb", Create: createBolt, Replay: replayBolt}
}

func boltPath(dir string) string { return filepath.Join(dir, "raft.db") }

func createBolt(dir string) (Writer, error) {
	s, err := raftboltdb.New(raftboltdb.Options{Path: boltPath(dir)})
	if err != nil {
		return nil, err
	}
	return &hashicorpWriter{s: s, close: s.Close}, nil
}

func replayBolt(dir string, visit func(Entry)) (Recovered, error) {
	s, err := raftboltdb.New(raftboltdb.Options{Path: boltPath(dir)})
	if err != nil {
		return Recovered{}, err
	}
	rec, err := replayHashicorp(s, visit)
	return rec, errors.Join(err, s.Close())
}
