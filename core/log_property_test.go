package core

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tickraft/raft/raftpb"
	"pgregory.net/rapid"
)

// logModel is the obvious log the property below checks raftLog against:
// every entry ever agreed, by index, and the commit index.
type logModel struct {
	ents      []raftpb.Entry // ents[i] has index i+1; below a snapshot, placeholders
	committed uint64
}

func (m *logModel) last() uint64 { return uint64(len(m.ents)) }

func (m *logModel) term(i uint64) uint64 {
	if i == 0 {
		return 0
	}
	return m.ents[i-1].Term
}

// replaceFrom drops the entries from index from on and appends es.
func (m *logModel) replaceFrom(from uint64, es []raftpb.Entry) {
	m.ents = append(m.ents[:from-1:from-1], es...)
}

// logMachine drives a raftLog and its MemoryStorage the way a node and its
// application do, writes and applies acknowledged in order, and a model.
type logMachine struct {
	l             *raftLog
	st            *MemoryStorage
	m             logModel
	terms         uint64                  // the highest term used: fresh terms keep Log Matching true
	writes        []raftpb.Message        // handed out, written, not yet acknowledged
	applies       [][2]uint64             // handed out to apply: index and size
	committed     map[uint64]raftpb.Entry // committed entries as first seen
	lastCommitted uint64
}

func (s *logMachine) fresh() uint64 { s.terms++; return s.terms }

// often draws a bool that is true three times in four.
func often(t *rapid.T, label string) bool { return rapid.IntRange(0, 3).Draw(t, label) != 0 }

// newEntries returns n entries from index from, all of term term, with
// random payloads.
func (s *logMachine) newEntries(t *rapid.T, from uint64, n int, term uint64) []raftpb.Entry {
	es := ents(from, make([]uint64, n)...)
	for i := range es {
		es[i].Term = term
		es[i].Data = make([]byte, rapid.IntRange(0, 12).Draw(t, "payload"))
	}
	return es
}

func (s *logMachine) leaderAppend(t *rapid.T) {
	after := s.m.last()
	if !often(t, "noTruncation") {
		after = rapid.Uint64Range(s.m.committed, s.m.last()).Draw(t, "after")
	}
	es := s.newEntries(t, after+1, rapid.IntRange(1, 4).Draw(t, "n"), s.fresh())
	if got := s.l.append(es...); got != after+uint64(len(es)) {
		t.Fatalf("append returned %d, want %d", got, after+uint64(len(es)))
	}
	s.m.replaceFrom(after+1, es)
}

func (s *logMachine) followerAppend(t *rapid.T) {
	p := rapid.Uint64Range(s.l.firstIndex()-1, s.m.last()+1).Draw(t, "prev")
	match := p <= s.m.last() && often(t, "match")
	n := rapid.IntRange(0, 4).Draw(t, "n")
	prev := entryID{index: p, term: s.fresh()}
	var es []raftpb.Entry
	if match {
		prev.term = s.m.term(p)
		copies := rapid.IntRange(0, min(n, int(s.m.last()-p))).Draw(t, "copies")
		es = append(es, s.m.ents[p:p+uint64(copies)]...)
		es = append(es, s.newEntries(t, p+1+uint64(copies), n-copies, s.fresh())...)
	} else {
		es = s.newEntries(t, p+1, n, prev.term)
	}
	leaderCommit := rapid.Uint64Range(0, p+uint64(n)+2).Draw(t, "leaderCommit")
	ci := uint64(0)
	for _, e := range es {
		if e.Index > s.m.last() || s.m.term(e.Index) != e.Term {
			ci = e.Index
			break
		}
	}
	// The caller checks the committed entries first (validation), and
	// hands maybeAppend only what that check lets through.
	conflictErr := s.l.committedConflict(es)
	if ci != 0 && ci <= s.m.committed {
		if !errors.Is(conflictErr, ErrCommittedConflict) {
			t.Fatalf("entries conflicting at %d <= committed %d let through: %v", ci, s.m.committed, conflictErr)
		}
		return
	}
	if conflictErr != nil {
		t.Fatalf("entries without a committed conflict refused: %v", conflictErr)
	}
	last, _, ok, err := s.l.maybeAppend(prev, leaderCommit, es)
	switch {
	case !match:
		if ok || err != nil {
			t.Fatalf("maybeAppend after a mismatched prev: ok %v err %v", ok, err)
		}
	default:
		if !ok || err != nil || last != p+uint64(n) {
			t.Fatalf("maybeAppend: %d %v %v, want %d true nil", last, ok, err, p+uint64(n))
		}
		if ci != 0 {
			s.m.replaceFrom(ci, es[ci-p-1:])
		}
		s.m.committed = max(s.m.committed, min(leaderCommit, last))
	}
}

func (s *logMachine) commit(t *rapid.T) {
	at := entryID{index: rapid.Uint64Range(s.m.committed, s.m.last()+1).Draw(t, "index")}
	at.term = s.fresh()
	if at.index <= s.m.last() && often(t, "ownTerm") {
		at.term = s.m.term(at.index)
	}
	want := at.index > s.m.committed && at.index <= s.m.last() && s.m.term(at.index) == at.term
	if got := s.l.maybeCommit(at); got != want {
		t.Fatalf("maybeCommit(%+v) = %v, want %v", at, got, want)
	}
	if want {
		s.m.committed = at.index
	}
}

func (s *logMachine) restore(t *rapid.T) {
	if often(t, "noRestore") {
		t.Skip("restores are rare") // each one wipes the log
	}
	i := rapid.Uint64Range(s.m.committed+1, s.m.last()+2).Draw(t, "index")
	term := s.fresh()
	if i <= s.m.last() && rapid.Bool().Draw(t, "known") {
		term = s.m.term(i)
	}
	s.l.restore(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: i, Term: term}})
	if i > s.m.last() || s.m.term(i) != term {
		s.m.replaceFrom(s.m.committed+1, ents(s.m.committed+1, make([]uint64, i-s.m.committed)...))
		for j := s.m.committed; j < i; j++ {
			s.m.ents[j].Term = term // placeholders, never read again
		}
	}
	s.m.ents = s.m.ents[:i]
	s.m.committed = i
}

// persist writes what the log hands out, as an append worker would.
func (s *logMachine) persist(t *rapid.T) {
	snap, es := s.l.nextUnstableSnapshot(), s.l.nextUnstableEnts()
	if snap == nil && len(es) == 0 {
		t.Skip("nothing to write")
	}
	s.l.acceptUnstable()
	w := raftpb.Message{Snapshot: snap, Entries: es}
	if snap != nil {
		if err := s.st.ApplySnapshot(*snap); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.st.Append(es); err != nil {
		t.Fatal(err)
	}
	s.writes = append(s.writes, w)
}

func (s *logMachine) ackWrite(t *rapid.T) {
	if len(s.writes) == 0 {
		t.Skip("no write outstanding")
	}
	w := s.writes[0]
	s.writes = s.writes[1:]
	if w.Snapshot != nil {
		s.l.stableSnapTo(w.Snapshot.Metadata.Index)
		s.l.appliedTo(w.Snapshot.Metadata.Index, 0)
	}
	if n := len(w.Entries); n > 0 {
		s.l.stableTo(idOf(&w.Entries[n-1]))
	}
}

func (s *logMachine) apply(t *rapid.T) {
	allow := rapid.Bool().Draw(t, "allowUnstable")
	budget := s.l.bounds.maxSize - min(s.l.applyingEntsSize, s.l.bounds.maxSize)
	has := s.l.hasNextCommittedEnts(allow)
	es, err := s.l.nextCommittedEnts(allow)
	if err != nil || has != (len(es) > 0) {
		t.Fatalf("nextCommittedEnts: %d entries, %v; hasNextCommittedEnts %v", len(es), err, has)
	}
	if len(es) == 0 {
		t.Skip("nothing to apply")
	}
	last := es[len(es)-1].Index
	size := payloadSize(es)
	switch {
	case es[0].Index != s.l.applying+1 || last > s.l.committed:
		t.Fatalf("handed out [%d, %d] with applying %d committed %d", es[0].Index, last, s.l.applying, s.l.committed)
	case !allow && last >= s.l.unstable.offset:
		t.Fatalf("handed out unstable entry %d", last)
	case len(es) > 1 && size > budget:
		t.Fatalf("handed out %d bytes in %d entries with %d left", size, len(es), budget)
	}
	if diff := cmp.Diff(s.m.ents[es[0].Index-1:last], es); diff != "" {
		t.Fatalf("handed out entries differ from the model (-want +got):\n%s", diff)
	}
	s.l.acceptApplying(last, size, allow)
	s.applies = append(s.applies, [2]uint64{last, size})
}

func (s *logMachine) ackApply(t *rapid.T) {
	if len(s.applies) == 0 {
		t.Skip("nothing being applied")
	}
	s.l.appliedTo(s.applies[0][0], s.applies[0][1])
	s.applies = s.applies[1:]
}

// compact compacts what is applied and acknowledged as written.
func (s *logMachine) compact(t *rapid.T) {
	first, _ := s.st.FirstIndex()
	last, _ := s.st.LastIndex()
	upTo := min(s.l.applied, last, s.l.unstable.offset-1)
	if upTo < first {
		t.Skip("nothing to compact")
	}
	if err := s.st.Compact(rapid.Uint64Range(first, upTo).Draw(t, "compact")); err != nil {
		t.Fatal(err)
	}
}

func (s *logMachine) check(t *rapid.T) {
	if err := s.l.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	if s.l.lastIndex() != s.m.last() || s.l.committed != s.m.committed {
		t.Fatalf("log %v: last %d, model last %d committed %d", s.l, s.l.lastIndex(), s.m.last(), s.m.committed)
	}
	if s.l.committed < s.lastCommitted {
		t.Fatalf("commit index fell from %d to %d", s.lastCommitted, s.l.committed)
	}
	s.lastCommitted = s.l.committed
	first := s.l.firstIndex()
	if term, err := s.l.term(first - 1); err != nil || term != s.m.term(first-1) {
		t.Fatalf("term(%d) = %d, %v; model %d", first-1, term, err, s.m.term(first-1))
	}
	all := s.l.allEntries()
	if diff := cmp.Diff(s.m.ents[first-1:], all, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("log differs from the model (-want +got):\n%s", diff)
	}
	for _, e := range all {
		if e.Index > s.l.committed {
			break
		}
		if seen, ok := s.committed[e.Index]; !ok {
			s.committed[e.Index] = e
		} else if !cmp.Equal(seen, e) {
			t.Fatalf("committed entry %d changed from %+v to %+v", e.Index, seen, e)
		}
	}
}

func TestLogMatchesModelUnderRandomOperations(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		st := NewMemoryStorage()
		l, err := newLog(st, &applyBounds{maxSize: rapid.Uint64Range(0, 40).Draw(t, "maxApplying")})
		if err != nil {
			t.Fatal(err)
		}
		s := &logMachine{l: l, st: st, committed: map[uint64]raftpb.Entry{}}
		t.Repeat(map[string]func(*rapid.T){
			"leaderAppend":   s.leaderAppend,
			"followerAppend": s.followerAppend,
			"commit":         s.commit,
			"restore":        s.restore,
			"persist":        s.persist,
			"ackWrite":       s.ackWrite,
			"apply":          s.apply,
			"ackApply":       s.ackApply,
			"compact":        s.compact,
			"":               s.check,
		})
	})
}
