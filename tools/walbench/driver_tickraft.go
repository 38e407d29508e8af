package walbench

import (
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/wal"
)

// TickraftSegmentBytes is the segment size the example key-value server
// gives tickraft's write-ahead log.
const TickraftSegmentBytes = 8 << 20

// TickraftDriver drives tickraft's write-ahead log as the example
// key-value server does in its synchronous mode: one Save per Ready,
// with the hard state and the entries, fsynced when the Ready must sync
// (every batch here carries entries, so every Save syncs).
func TickraftDriver() Driver {
	return Driver{Name: "tickraft", Create: createTickraft, Replay: replayTickraft}
}

type tickraftWriter struct {
	w    *wal.WAL
	ents []raftpb.Entry // conversion buffer, reused
}

func createTickraft(dir string) (Writer, error) {
	w, _, err := wal.Open(dir, wal.Options{SegmentBytes: TickraftSegmentBytes})
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

func replayTickraft(dir string, visit func(Entry)) (Recovered, error) {
	w, rp, err := wal.Open(dir, wal.Options{SegmentBytes: TickraftSegmentBytes})
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
