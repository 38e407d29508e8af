package wal_test

import (
	"slices"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
	"pgregory.net/rapid"
)

// logModel is the obvious log a WAL must give back: a snapshot, a hard
// state and a slice of the entries after the snapshot.
type logModel struct {
	snap raftpb.SnapshotMetadata
	hs   raftpb.HardState
	ents []raftpb.Entry
	term uint64 // the highest term seen
}

func (m *logModel) last() uint64 { return m.snap.Index + uint64(len(m.ents)) }

func (m *logModel) termAt(i uint64) (uint64, bool) {
	if i == m.snap.Index {
		return m.snap.Term, true
	}
	if i < m.snap.Index || i > m.last() {
		return 0, false
	}
	return m.ents[i-m.snap.Index-1].Term, true
}

func (m *logModel) replay() wal.Replay {
	return wal.Replay{Snapshot: m.snap, HardState: m.hs, Entries: slices.Clone(m.ents)}
}

// TestLogMatchesAModelThroughRandomRuns drives a WAL with tiny segments
// through random appends (overwriting suffixes), snapshots that match the
// log or replace it, releases and reopens, and checks every reopen against
// the model.
func TestLogMatchesAModelThroughRandomRuns(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir := t.TempDir()
		opts := wal.Options{SegmentBytes: int64(rapid.IntRange(128, 1024).Draw(rt, "segmentBytes"))}
		w, _, err := wal.Open(dir, opts)
		if err != nil {
			rt.Fatal(err)
		}
		m := &logModel{}
		for step := 0; step < 40; step++ {
			switch rapid.IntRange(0, 9).Draw(rt, "op") {
			case 0, 1, 2, 3:
				appendRandom(rt, w, m)
			case 4:
				snapshotLocal(rt, w, m)
			case 5:
				snapshotInstalled(rt, w, m)
			case 6, 7:
				if err := w.ReleaseTo(m.snap.Index); err != nil {
					rt.Fatal(err)
				}
			default:
				w = reopenAndCheck(rt, w, dir, opts, m)
			}
		}
		reopenAndCheck(rt, w, dir, opts, m).Close()
	})
}

func appendRandom(rt *rapid.T, w *wal.WAL, m *logModel) {
	start := rapid.Uint64Range(m.snap.Index+1, m.last()+1).Draw(rt, "start")
	n := rapid.Uint64Range(1, 4).Draw(rt, "count")
	prev, _ := m.termAt(start - 1)
	m.term = max(m.term, prev) + rapid.Uint64Range(0, 1).Draw(rt, "termBump")
	es := ents(m.term, start, start+n-1)
	m.hs = raftpb.HardState{Term: m.term, Vote: 1, Commit: m.snap.Index}
	if err := w.Save(m.hs, es, false); err != nil {
		rt.Fatal(err)
	}
	m.ents = append(m.ents[:start-m.snap.Index-1], es...)
}

func snapshotLocal(rt *rapid.T, w *wal.WAL, m *logModel) {
	i := rapid.Uint64Range(m.snap.Index, m.last()).Draw(rt, "localSnap")
	term, _ := m.termAt(i)
	meta := raftpb.SnapshotMetadata{Index: i, Term: term, ConfState: raftpb.ConfState{Voters: []uint64{1}}}
	if err := w.SaveSnapshot(meta); err != nil {
		rt.Fatal(err)
	}
	m.ents = m.ents[i-m.snap.Index:]
	m.snap = meta
}

func snapshotInstalled(rt *rapid.T, w *wal.WAL, m *logModel) {
	i := rapid.Uint64Range(m.snap.Index+1, m.last()+3).Draw(rt, "installedSnap")
	m.term++
	meta := raftpb.SnapshotMetadata{Index: i, Term: m.term, ConfState: raftpb.ConfState{Voters: []uint64{1, 2}}}
	if err := w.SaveSnapshot(meta); err != nil {
		rt.Fatal(err)
	}
	// A snapshot of a term the log does not hold at its index replaces it.
	m.ents, m.snap = nil, meta
}

func reopenAndCheck(rt *rapid.T, w *wal.WAL, dir string, opts wal.Options, m *logModel) *wal.WAL {
	if err := w.Close(); err != nil {
		rt.Fatal(err)
	}
	w, rp, err := wal.Open(dir, opts)
	if err != nil {
		rt.Fatal(err)
	}
	want := m.replay()
	if !replayEqual(rp, &want) {
		rt.Fatalf("replay:\n got %+v\nwant %+v", *rp, want)
	}
	return w
}

func replayEqual(a, b *wal.Replay) bool {
	if a.HardState != b.HardState || a.Snapshot.Index != b.Snapshot.Index || a.Snapshot.Term != b.Snapshot.Term ||
		len(a.Entries) != len(b.Entries) || a.TruncatedBytes != b.TruncatedBytes {
		return false
	}
	for i := range a.Entries {
		x, y := a.Entries[i], b.Entries[i]
		if x.Index != y.Index || x.Term != y.Term || string(x.Data) != string(y.Data) {
			return false
		}
	}
	return true
}
