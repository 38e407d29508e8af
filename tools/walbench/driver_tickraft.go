package walbench

import (
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// TickraftSegmentBytes is the segment size the example key-value server
// gives tickraft's write-ahead log.
const TickraftSegmentBytes = 8 << 20

// TickraftDriver drives tickraft's write-ahead log (package tools/wal) as
// the example key-value server does in its synchronous mode: segments of
// TickraftSegmentBytes, one Save per Ready, with the hard state and the
// entries, synced when the Ready must sync (every batch here carries
// entries, so every Save syncs).
func TickraftDriver() Driver { return tickraftDriver("tickraft", TickraftSegmentBytes) }

// TickraftDefaultDriver drives the same log with the package's default
// segment size (wal.DefaultSegmentBytes), as wal.OpenStorage opens it. It
// is not one of Drivers: name it with cmd/compare's -drivers.
func TickraftDefaultDriver() Driver { return tickraftDriver("tickraft-default", 0) }

func tickraftDriver(name string, segmentBytes int64) Driver {
	opts := wal.Options{SegmentBytes: segmentBytes}
	return Driver{
		Name:   name,
		Create: func(dir string) (Writer, error) { return createTickraft(dir, opts) },
		Replay: func(dir string, visit func(Entry)) (Recovered, error) { return replayTickraft(dir, opts, visit) },
	}
}

type tickraftWriter struct {
	w    *wal.WAL
	ents []raftpb.Entry // conversion buffer, reused
}

func createTickraft(dir string, opts wal.Options) (Writer, error) {
	w, _, err := wal.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	return &tickraftWriter{w: w}, nil
}

func (t *tickraftWriter) Save(b Batch) error {
	t.ents = t.ents[:0]
	for _, e := range b.Entries {
		t.ents = append(t.ents, raftpb.Entry{Term: e.Term, Index: e.Index, Type: raftpb.EntryNormal, Data: e.Data})
	}
	hs := raftpb.HardState{Term: b.HardState.Term, Vote: b.HardState.Vote, Commit: b.HardState.Commit}
	return t.w.Save(hs, t.ents, true)
}

func (t *tickraftWriter) Close() error { return t.w.Close() }

func replayTickraft(dir string, opts wal.Options, visit func(Entry)) (Recovered, error) {
	w, rp, err := wal.Open(dir, opts)
	if err != nil {
		return Recovered{}, err
	}
	rec := Recovered{HardState: HardState{Term: rp.HardState.Term, Vote: rp.HardState.Vote, Commit: rp.HardState.Commit}}
	for _, e := range rp.Entries {
		rec.visit(Entry{Index: e.Index, Term: e.Term, Data: e.Data}, visit)
	}
	return rec, w.Close()
}

// visit counts e and hands it to f.
func (r *Recovered) visit(e Entry, f func(Entry)) {
	if r.Entries == 0 {
		r.First = e.Index
	}
	r.Entries++
	r.Last = e.Index
	f(e)
}
