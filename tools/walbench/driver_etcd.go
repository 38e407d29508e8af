package walbench

import (
	"path/filepath"

	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// EtcdDriver drives etcd's write-ahead log (go.etcd.io/etcd/server/v3
// v3.6.13, package storage/wal) as an etcd server does: created with
// wal.Create, written with one WAL.Save per Ready (the hard state and the
// entries; Save fsyncs itself when raft.MustSync says so, which it does
// for every batch with entries), reopened with wal.Open from the empty
// snapshot and read with ReadAll. Its segments are the package's
// default 64 MB, preallocated, with the next one prepared in the
// background.
func EtcdDriver() Driver {
	return Driver{Name: "etcd", Create: createEtcd, Replay: replayEtcd}
}

type etcdWriter struct {
	w    *wal.WAL
	ents []raftpb.Entry
}

// etcdDir is the WAL's own directory: wal.Create refuses one that exists.
func etcdDir(dir string) string { return filepath.Join(dir, "member-wal") }

func createEtcd(dir string) (Writer, error) {
	w, err := wal.Create(zap.NewNop(), etcdDir(dir), nil)
	if err != nil {
		return nil, err
	}
	return &etcdWriter{w: w}, nil
}

func (e *etcdWriter) Save(b Batch) error {
	e.ents = e.ents[:0]
	for _, en := range b.Entries {
		e.ents = append(e.ents, raftpb.Entry{Term: en.Term, Index: en.Index, Type: raftpb.EntryNormal, Data: en.Data})
	}
	hs := raftpb.HardState{Term: b.HardState.Term, Vote: b.HardState.Vote, Commit: b.HardState.Commit}
	return e.w.Save(hs, e.ents)
}

func (e *etcdWriter) Close() error { return e.w.Close() }

func replayEtcd(dir string, visit func(Entry)) (Recovered, error) {
	w, err := wal.Open(zap.NewNop(), etcdDir(dir), walpb.Snapshot{})
	if err != nil {
		return Recovered{}, err
	}
	_, hs, ents, err := w.ReadAll()
	if err != nil {
		w.Close()
		return Recovered{}, err
	}
	rec := Recovered{HardState: HardState{Term: hs.Term, Vote: hs.Vote, Commit: hs.Commit}}
	for _, e := range ents {
		rec.visit(Entry{Index: e.Index, Term: e.Term, Data: e.Data}, visit)
	}
	return rec, w.Close()
}
