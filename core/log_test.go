package core

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
)

// newTestLog returns a log over a storage holding stored (stored[0]
// standing for the compaction point) with tail appended as unstable.
func newTestLog(t testing.TB, maxApplying uint64, stored []raftpb.Entry, tail ...raftpb.Entry) *raftLog {
	t.Helper()
	l, err := newLog(newStorage(stored), &applyBounds{maxSize: maxApplying})
	if err != nil {
		t.Fatal(err)
	}
	l.append(tail...)
	return l
}

// checkLog fails the test if l breaks an invariant.
func checkLog(t testing.TB, what string, l *raftLog) {
	t.Helper()
	if err := l.checkInvariants(); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// failingStorage is a MemoryStorage whose reads fail with err when asked to.
type failingStorage struct {
	*MemoryStorage
	err                           error
	failFirst, failLast, failRead bool
}

func (s *failingStorage) FirstIndex() (uint64, error) {
	if s.failFirst {
		return 0, s.err
	}
	return s.MemoryStorage.FirstIndex()
}

func (s *failingStorage) LastIndex() (uint64, error) {
	if s.failLast {
		return 0, s.err
	}
	return s.MemoryStorage.LastIndex()
}

func (s *failingStorage) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	if s.failRead {
		return nil, s.err
	}
	return s.MemoryStorage.Entries(lo, hi, maxSize)
}

func (s *failingStorage) Term(i uint64) (uint64, error) {
	if s.failRead {
		return 0, s.err
	}
	return s.MemoryStorage.Term(i)
}

func TestNewLogStartsCommittedAndAppliedAtCompactionPoint(t *testing.T) {
	l := newTestLog(t, noLimit, ents(3, 3, 4, 5))
	checkLog(t, "newLog", l)
	got := []uint64{l.firstIndex(), l.lastIndex(), l.committed, l.applying, l.applied, l.unstable.offset}
	if diff := cmp.Diff([]uint64{4, 5, 3, 3, 3, 6}, got); diff != "" {
		t.Errorf("first, last, committed, applying, applied, offset (-want +got):\n%s", diff)
	}
}

func TestNewLogReturnsStorageErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, s := range []*failingStorage{
		{MemoryStorage: NewMemoryStorage(), err: boom, failFirst: true},
		{MemoryStorage: NewMemoryStorage(), err: boom, failLast: true},
		{MemoryStorage: NewMemoryStorage(), err: boom, failRead: true},
	} {
		if _, err := newLog(s, &applyBounds{maxSize: noLimit}); !errors.Is(err, boom) {
			t.Errorf("newLog over %+v: error %v, want %v", *s, err, boom)
		}
	}
	if _, err := newLog(skewedStorage{NewMemoryStorage()}, &applyBounds{maxSize: noLimit}); err == nil {
		t.Errorf("newLog over a storage whose first index is past its last: no error")
	}
}

// skewedStorage reports a first index far beyond its last index.
type skewedStorage struct{ *MemoryStorage }

func (skewedStorage) FirstIndex() (uint64, error) { return 10, nil }

func TestLogTermSpansCompactionPointStorageAndUnstable(t *testing.T) {
	l := newTestLog(t, noLimit, ents(3, 3, 4, 4), ents(6, 5, 6)...)
	for _, tt := range []struct {
		i, want uint64
		err     error
	}{
		{0, 0, nil}, {2, 0, ErrCompacted}, {3, 3, nil}, {4, 4, nil}, {5, 4, nil},
		{6, 5, nil}, {7, 6, nil}, {8, 0, ErrUnavailable},
	} {
		got, err := l.term(tt.i)
		wantErr(t, "term", err, tt.err)
		if got != tt.want {
			t.Errorf("term(%d) = %d, want %d", tt.i, got, tt.want)
		}
	}
	if got := l.lastEntryID(); got != (entryID{term: 6, index: 7}) {
		t.Errorf("lastEntryID = %+v, want {6 7}", got)
	}
}

func TestLogSliceSpansStorageAndUnstableWithinPayloadLimit(t *testing.T) {
	// Stored entries 4..6, unstable 7..9; every entry carries 10 bytes.
	stored := sized(ents(3, 3, 4, 4, 5), 0, 10, 10, 10)
	l := newTestLog(t, noLimit, stored, sized(ents(7, 5, 6, 6), 10, 10, 10)...)
	for _, tt := range []struct {
		lo, hi, maxSize uint64
		want            []uint64
		err             error
	}{
		{3, 5, noLimit, nil, ErrCompacted},
		{4, 11, noLimit, nil, ErrUnavailable},
		{6, 5, noLimit, nil, errAny},
		{4, 4, noLimit, nil, nil},
		{4, 10, noLimit, []uint64{4, 5, 6, 7, 8, 9}, nil},
		{4, 7, noLimit, []uint64{4, 5, 6}, nil},
		{7, 10, noLimit, []uint64{7, 8, 9}, nil},
		{5, 9, noLimit, []uint64{5, 6, 7, 8}, nil},
		{4, 10, 0, []uint64{4}, nil},
		{7, 10, 0, []uint64{7}, nil},
		{6, 10, 0, []uint64{6}, nil},
		{4, 10, 5, []uint64{4}, nil},
		{4, 10, 25, []uint64{4, 5}, nil},
		{4, 10, 30, []uint64{4, 5, 6}, nil},
		{4, 10, 49, []uint64{4, 5, 6, 7}, nil},
		{5, 10, 30, []uint64{5, 6, 7}, nil},
		{8, 10, 15, []uint64{8}, nil},
	} {
		got, err := l.slice(tt.lo, tt.hi, tt.maxSize)
		wantErr(t, "slice", err, tt.err)
		if diff := cmp.Diff(tt.want, indexes(got)); diff != "" {
			t.Errorf("slice(%d, %d, %d) (-want +got):\n%s", tt.lo, tt.hi, tt.maxSize, diff)
		}
		_ = append(got, raftpb.Entry{Index: 99, Term: 99}) // must reach neither part
	}
	if diff := cmp.Diff(ents(4, 4, 4, 5, 5, 6, 6), stripData(l.allEntries())); diff != "" {
		t.Errorf("appending to slices changed the log (-want +got):\n%s", diff)
	}
	if got, _ := l.entries(10, noLimit); got != nil {
		t.Errorf("entries past the last index = %v, want nil", got)
	}
}

// stripData returns a copy of es without payloads.
func stripData(es []raftpb.Entry) []raftpb.Entry {
	out := append([]raftpb.Entry(nil), es...)
	for i := range out {
		out[i].Data = nil
	}
	return out
}

func TestLogSliceReturnsStorageErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	s := &failingStorage{MemoryStorage: newStorage(ents(0, 0, 1, 1)), err: boom}
	l, err := newLog(s, &applyBounds{maxSize: noLimit})
	if err != nil {
		t.Fatal(err)
	}
	l.commitTo(2)
	s.failRead = true
	if _, err := l.slice(1, 3, noLimit); !errors.Is(err, boom) {
		t.Errorf("slice: error %v, want %v", err, boom)
	}
	if _, err := l.nextCommittedEnts(false); !errors.Is(err, boom) {
		t.Errorf("nextCommittedEnts: error %v, want %v", err, boom)
	}
	if _, _, ok, err := l.maybeAppend(entryID{}, 2, ents(1, 1, 2)); ok || !errors.Is(err, boom) {
		t.Errorf("maybeAppend: ok %v error %v, want false %v", ok, err, boom)
	}
	s.failRead = false
	if diff := cmp.Diff(ents(1, 1, 1), l.allEntries()); diff != "" {
		t.Errorf("a storage error changed the log (-want +got):\n%s", diff)
	}
}

func TestLogAfterRestoreServesOnlyTheSnapshotTerm(t *testing.T) {
	l := newTestLog(t, noLimit, ents(0, 0, 1, 1), ents(3, 2)...)
	l.commitTo(2)
	snap := raftpb.Snapshot{Data: []byte("state"), Metadata: raftpb.SnapshotMetadata{Index: 12, Term: 7}}
	l.restore(snap)
	checkLog(t, "restore", l)
	if l.firstIndex() != 13 || l.lastIndex() != 12 || l.committed != 12 {
		t.Errorf("first %d last %d committed %d, want 13 12 12", l.firstIndex(), l.lastIndex(), l.committed)
	}
	if term, err := l.term(12); term != 7 || err != nil {
		t.Errorf("term(12) = %d, %v; want 7", term, err)
	}
	_, err := l.term(11)
	wantErr(t, "term(11)", err, ErrCompacted)
	_, err = l.slice(12, 13, noLimit)
	wantErr(t, "slice(12, 13)", err, ErrCompacted)
	if got, err := l.snapshot(); err != nil || !cmp.Equal(got, snap) {
		t.Errorf("snapshot() = %+v, %v; want the restored one", got, err)
	}
	if !l.hasNextUnstableSnapshot() || l.hasNextOrInProgressUnstableEnts() || l.hasNextCommittedEnts(true) {
		t.Errorf("after restore: want only the snapshot to be handed out")
	}
	if msg := panicMessage(func() { l.restore(*snapAt(11, 7)) }); !strings.Contains(msg, "invariant violated") {
		t.Errorf("restoring below the commit index: panic %q, want an invariant message", msg)
	}
}

func TestLogIsUpToDateComparesLastTermThenLength(t *testing.T) {
	l := newTestLog(t, noLimit, ents(0, 0, 1, 2, 2, 3, 3)) // last (3, 5)
	for _, tt := range []struct {
		their entryID
		want  bool
	}{
		{entryID{term: 4, index: 1}, true},
		{entryID{term: 3, index: 6}, true},
		{entryID{term: 3, index: 5}, true},
		{entryID{term: 3, index: 4}, false},
		{entryID{term: 2, index: 10}, false},
	} {
		if got := l.isUpToDate(tt.their); got != tt.want {
			t.Errorf("isUpToDate(%+v) = %v, want %v", tt.their, got, tt.want)
		}
	}
}

func TestLogFindConflictReturnsFirstEntryNotHeld(t *testing.T) {
	l := newTestLog(t, noLimit, ents(0, 0, 1, 2), ents(3, 3)...)
	for _, tt := range []struct {
		ents []raftpb.Entry
		want uint64
	}{
		{nil, 0},
		{ents(1, 1, 2, 3), 0},
		{ents(2, 2, 3), 0},
		{ents(2, 2, 3, 4, 4), 4},
		{ents(4, 4), 4},
		{ents(1, 1, 4, 4), 2},
		{ents(3, 4, 4), 3},
	} {
		if got, _ := l.findConflict(tt.ents); got != tt.want {
			t.Errorf("findConflict(%v) = %d, want %d", tt.ents, got, tt.want)
		}
	}
	compacted := newTestLog(t, noLimit, ents(2, 2, 3))
	if got, _ := compacted.findConflict(ents(1, 9, 2, 3, 4)); got != 4 {
		t.Errorf("findConflict across compacted entries = %d, want 4 (compacted entries match)", got)
	}
}

// figure7Leader is the leader's log of Figure 7 of the Raft paper, and
// figure7F the log of follower (f).
var (
	figure7Leader = ents(0, 0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6)
	figure7F      = ents(0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3)
)

func TestLogFindConflictByTermOnFigure7Logs(t *testing.T) {
	for _, tt := range []struct {
		name         string
		stored       []raftpb.Entry
		index, term  uint64
		wantI, wantT uint64
	}{
		{"leader: own last entry", figure7Leader, 10, 6, 10, 6},
		{"leader: (f)'s last term 3 skips terms 6, 5, 4", figure7Leader, 11, 3, 3, 1},
		{"leader: term 5", figure7Leader, 10, 5, 7, 5},
		{"leader: term 4 from index 6", figure7Leader, 6, 4, 5, 4},
		{"leader: index beyond last is clamped", figure7Leader, 20, 6, 10, 6},
		{"leader: term 0 reaches index 0", figure7Leader, 10, 0, 0, 0},
		{"f: leader's term 6 matches its last", figure7F, 11, 6, 11, 3},
		{"f: term 2", figure7F, 11, 2, 6, 2},
		{"f: term 1", figure7F, 9, 1, 3, 1},
		{"compacted at 4: stops at the compaction point", append(ents(4, 4), figure7Leader[5:]...), 10, 3, 4, 4},
		{"compacted at 4: index below it is unknown", append(ents(4, 4), figure7Leader[5:]...), 3, 1, 3, 0},
	} {
		l := newTestLog(t, noLimit, tt.stored)
		gotI, gotT := l.findConflictByTerm(tt.index, tt.term)
		if gotI != tt.wantI || gotT != tt.wantT {
			t.Errorf("%s: findConflictByTerm(%d, %d) = %d, %d; want %d, %d", tt.name,
				tt.index, tt.term, gotI, gotT, tt.wantI, tt.wantT)
		}
	}
}

func TestLogMaybeAppendCases(t *testing.T) {
	// Log 1..3 with terms 1, 2, 3; entries 1..2 stable, 3 unstable; committed 1.
	for _, tt := range []struct {
		name      string
		prev      entryID
		committed uint64
		ents      []raftpb.Entry
		wantLast  uint64
		wantOK    bool
		wantErr   error
		wantLog   []raftpb.Entry
		wantCommt uint64
	}{
		{"prev term mismatch", entryID{2, 3}, 3, ents(4, 4), 0, false, nil, ents(1, 1, 2, 3), 1},
		{"prev beyond last", entryID{3, 4}, 3, ents(5, 4), 0, false, nil, ents(1, 1, 2, 3), 1},
		{"heartbeat-like, commit follows", entryID{3, 3}, 3, nil, 3, true, nil, ents(1, 1, 2, 3), 3},
		{"commit limited to last new entry", entryID{2, 2}, 3, nil, 2, true, nil, ents(1, 1, 2, 3), 2},
		{"new entries appended", entryID{3, 3}, 5, ents(4, 4, 4), 5, true, nil, ents(1, 1, 2, 3, 4, 4), 5},
		{"held entries kept, longer log kept", entryID{1, 1}, 3, ents(2, 2), 2, true, nil, ents(1, 1, 2, 3), 2},
		{"conflict above commit truncates", entryID{1, 1}, 3, ents(2, 4), 2, true, nil, ents(1, 1, 4), 2},
		{"conflict in unstable tail", entryID{2, 2}, 0, ents(3, 4, 4), 4, true, nil, ents(1, 1, 2, 4, 4), 1},
		{"leader commit below ours", entryID{3, 3}, 0, ents(4, 3), 4, true, nil, ents(1, 1, 2, 3, 3), 1},
		{"conflict at commit refused", entryID{0, 0}, 3, ents(1, 2, 2), 0, false, ErrCommittedConflict, ents(1, 1, 2, 3), 1},
	} {
		l := newTestLog(t, noLimit, ents(0, 0, 1, 2), ents(3, 3)...)
		l.commitTo(1)
		// The caller checks the committed entries first (validation).
		err := l.committedConflict(tt.ents)
		var last uint64
		var ok bool
		if err == nil {
			last, _, ok, err = l.maybeAppend(tt.prev, tt.committed, tt.ents)
		}
		wantErr(t, tt.name, err, tt.wantErr)
		checkLog(t, tt.name, l)
		if last != tt.wantLast || ok != tt.wantOK || l.committed != tt.wantCommt {
			t.Errorf("%s: last %d ok %v committed %d; want %d %v %d", tt.name,
				last, ok, l.committed, tt.wantLast, tt.wantOK, tt.wantCommt)
		}
		if diff := cmp.Diff(tt.wantLog, l.allEntries()); diff != "" {
			t.Errorf("%s: log (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestLogMaybeAppendRefusesCommittedConflictWithoutChange(t *testing.T) {
	l := newTestLog(t, noLimit, ents(0, 0, 1, 1, 2), ents(4, 2)...)
	l.commitTo(3)
	before := *l
	beforeEnts := l.allEntries()
	if err := l.committedConflict(ents(3, 3, 3)); !errors.Is(err, ErrCommittedConflict) {
		t.Fatalf("committedConflict over committed entry 3: error %v; want ErrCommittedConflict", err)
	}
	if assertInvariants {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("maybeAppend over committed entry 3 did not panic with the invariants tag")
				}
			}()
			l.maybeAppend(entryID{1, 2}, 4, ents(3, 3, 3))
		}()
	}
	if !cmp.Equal(before, *l, cmp.AllowUnexported(raftLog{}, unstable{}, MemoryStorage{}, memoryCold{}, entryID{}, memorySegment{}, applyBounds{})) {
		t.Errorf("a refused append changed the log: %v, was %v", l, &before)
	}
	if diff := cmp.Diff(beforeEnts, l.allEntries()); diff != "" {
		t.Errorf("a refused append changed the entries (-want +got):\n%s", diff)
	}
}

func TestLogMaybeAppendOverCompactedPrefixSkipsIt(t *testing.T) {
	l := newTestLog(t, noLimit, ents(2, 2, 3))
	last, _, ok, err := l.maybeAppend(entryID{}, 4, ents(1, 1, 2, 3, 4))
	if last != 4 || !ok || err != nil || l.committed != 4 {
		t.Errorf("maybeAppend from index 0: %d %v %v committed %d; want 4 true nil 4", last, ok, err, l.committed)
	}
	if diff := cmp.Diff(ents(3, 3, 4), l.allEntries()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestLogMaybeCommitOnlyAtTheGivenTerm(t *testing.T) {
	for _, tt := range []struct {
		at   entryID
		want uint64
	}{
		{entryID{term: 3, index: 4}, 4},
		{entryID{term: 3, index: 3}, 1}, // entry 3 is of term 2: §5.4.2
		{entryID{term: 2, index: 3}, 3},
		{entryID{term: 1, index: 1}, 1},
		{entryID{term: 3, index: 5}, 1},
	} {
		l := newTestLog(t, noLimit, ents(0, 0, 1, 2), ents(3, 2, 3)...)
		l.commitTo(1)
		ok := l.maybeCommit(tt.at)
		if l.committed != tt.want || ok != (tt.want != 1) {
			t.Errorf("maybeCommit(%+v) = %v, committed %d; want %d", tt.at, ok, l.committed, tt.want)
		}
	}
}

func TestLogMisuseViolatesNamedInvariant(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    func(l *raftLog)
	}{
		{"commit beyond last", func(l *raftLog) { l.commitTo(5) }},
		{"append below commit", func(l *raftLog) { l.append(ents(2, 3)...) }},
		{"append leaving a gap", func(l *raftLog) { l.append(ents(6, 3)...) }},
		{"apply beyond commit", func(l *raftLog) { l.appliedTo(3, 0) }},
		{"hand out beyond commit", func(l *raftLog) { l.acceptApplying(3, 0, true) }},
	} {
		l := newTestLog(t, noLimit, ents(0, 0, 1, 1), ents(3, 2, 2)...)
		l.commitTo(2)
		if msg := panicMessage(func() { tt.f(l) }); !strings.Contains(msg, "invariant violated") {
			t.Errorf("%s: panic %q, want an invariant message", tt.name, msg)
		}
	}
	l := newTestLog(t, noLimit, ents(0, 0, 1))
	l.commitTo(1)
	l.commitTo(0)
	if l.committed != 1 {
		t.Errorf("commitTo lowered the commit index to %d", l.committed)
	}
}

func TestLogUnstableEntriesAreHandedOutOnceAndForgottenWhenStable(t *testing.T) {
	l := newTestLog(t, noLimit, ents(0, 0, 1))
	if last := l.append(ents(2, 2, 2)...); last != 3 {
		t.Fatalf("append returned %d, want 3", last)
	}
	out := l.nextUnstableEnts()
	if !l.hasNextUnstableEnts() || !cmp.Equal(out, ents(2, 2, 2)) {
		t.Fatalf("nextUnstableEnts = %v, want entries 2 and 3", out)
	}
	l.acceptUnstable()
	if l.hasNextUnstableEnts() || !l.hasNextOrInProgressUnstableEnts() {
		t.Errorf("after acceptUnstable: want nothing new but something in progress")
	}
	if err := l.storage.(*MemoryStorage).Append(out); err != nil {
		t.Fatal(err)
	}
	l.stableTo(entryID{term: 2, index: 3})
	checkLog(t, "stableTo", l)
	if l.hasNextOrInProgressUnstableEnts() || l.unstable.offset != 4 {
		t.Errorf("after stableTo: %v; want nothing unstable", l)
	}
}

func TestLogNextCommittedEntsRespectsStabilityAndPendingWork(t *testing.T) {
	// Entries 1..3 stable, 4..6 unstable, committed 5.
	for _, tt := range []struct {
		name          string
		applying      uint64
		allowUnstable bool
		paused, snap  bool
		want          []uint64
	}{
		{"all committed when unstable allowed", 0, true, false, false, []uint64{1, 2, 3, 4, 5}},
		{"only stable ones otherwise", 0, false, false, false, []uint64{1, 2, 3}},
		{"after applying, stable", 2, false, false, false, []uint64{3}},
		{"after applying, unstable", 3, true, false, false, []uint64{4, 5}},
		{"stable all handed out", 3, false, false, false, nil},
		{"everything handed out", 5, true, false, false, nil},
		{"paused", 0, true, true, false, nil},
		{"snapshot pending", 0, true, false, true, nil},
	} {
		l := newTestLog(t, noLimit, ents(0, 0, 1, 1, 1), ents(4, 1, 1, 1)...)
		l.commitTo(5)
		l.applying = tt.applying
		l.applyingEntsPaused = tt.paused
		if tt.snap {
			l.unstable.snapshot = snapAt(0, 0)
		}
		got, err := l.nextCommittedEnts(tt.allowUnstable)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, indexes(got)); diff != "" {
			t.Errorf("%s: nextCommittedEnts (-want +got):\n%s", tt.name, diff)
		}
		if has := l.hasNextCommittedEnts(tt.allowUnstable); has != (len(tt.want) > 0) {
			t.Errorf("%s: hasNextCommittedEnts = %v", tt.name, has)
		}
	}
}

func TestLogApplyBudgetLimitsAndPausesHandingOut(t *testing.T) {
	l := newTestLog(t, 25, sized(ents(0, 0, 1, 1, 1, 1, 1, 1), 0, 10, 10, 10, 10, 10, 10))
	l.commitTo(6)
	type step struct {
		ackIndex, ackSize uint64 // appliedTo before taking, if ackIndex > 0
		want              []uint64
	}
	for i, st := range []step{
		{want: []uint64{1, 2}},  // 20 of 25 bytes; the third would overrun
		{want: nil},             // paused: the batch was cut
		{1, 10, []uint64{3}},    // 10 outstanding: 15 left
		{3, 20, []uint64{4, 5}}, // all acknowledged
		{5, 20, []uint64{6}},    // the end of the log
		{want: nil},             // nothing left
	} {
		if st.ackIndex > 0 {
			l.appliedTo(st.ackIndex, st.ackSize)
		}
		got, err := l.nextCommittedEnts(true)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(st.want, indexes(got)); diff != "" {
			t.Fatalf("step %d: nextCommittedEnts (-want +got):\n%s", i, diff)
		}
		if len(got) > 0 {
			l.acceptApplying(got[len(got)-1].Index, payloadSize(got), true)
		}
		checkLog(t, "apply step", l)
	}
	if l.applyingEntsPaused || l.applyingEntsSize != 10 {
		t.Errorf("after the last batch: paused %v size %d; want false 10", l.applyingEntsPaused, l.applyingEntsSize)
	}
}

func TestLogZeroApplyBudgetHandsOutOneEntryAtATime(t *testing.T) {
	l := newTestLog(t, 0, ents(0, 0, 1, 1, 1))
	l.commitTo(3)
	for i := uint64(1); i <= 3; i++ {
		got, _ := l.nextCommittedEnts(true)
		if len(got) != 1 || got[0].Index != i {
			t.Fatalf("batch %d: %v, want entry %d alone", i, indexes(got), i)
		}
		l.acceptApplying(i, 0, true)
		if l.hasNextCommittedEnts(true) {
			t.Fatalf("batch %d: a second batch before the first is applied", i)
		}
		l.appliedTo(i, 0)
	}
}

func TestLogAppliedToNeverDecreasesAndReleasesBytes(t *testing.T) {
	l := newTestLog(t, 100, ents(0, 0, 1, 1, 1))
	l.commitTo(3)
	l.acceptApplying(3, 30, true)
	l.appliedTo(3, 20)
	l.appliedTo(2, 10) // a late acknowledgement
	if l.applied != 3 || l.applying != 3 || l.applyingEntsSize != 0 {
		t.Errorf("applied %d applying %d size %d; want 3 3 0", l.applied, l.applying, l.applyingEntsSize)
	}
	l.appliedTo(3, 5) // more than outstanding: clamped, no underflow
	if l.applyingEntsSize != 0 {
		t.Errorf("size underflowed to %d", l.applyingEntsSize)
	}
}

func TestLogStringIsDeterministic(t *testing.T) {
	l := newTestLog(t, noLimit, ents(0, 0, 1), ents(2, 1)...)
	want := "committed=0 applying=0 applied=0 unstable.offset=2 unstable.offsetInProgress=2 " +
		"len(unstable.entries)=1 unstable.snapshot=0"
	if got := l.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestRestartTrustsTheStoredSnapshotAsCommitted: a snapshot in storage is
// committed state even when the durable HardState's commit index lags it
// (asynchronous mode) and the log was not compacted up to it, so a node
// restarts with Config.Applied at the snapshot (found by the simulator).
func TestRestartTrustsTheStoredSnapshotAsCommitted(t *testing.T) {
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	must(t, st.Append([]raftpb.Entry{{Term: 1, Index: 1}, {Term: 1, Index: 2}, {Term: 1, Index: 3}}))
	must(t, st.SetHardState(raftpb.HardState{Term: 1, Vote: 2}))
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	if _, err := st.CreateSnapshot(2, &cs, []byte("state")); err != nil {
		t.Fatal(err)
	}
	r, err := NewRaft(&Config{ID: 1, Storage: st, Applied: 2})
	if err != nil {
		t.Fatalf("restart with Applied at the stored snapshot: %v", err)
	}
	if r.raftLog.committed != 2 || r.raftLog.applied != 2 {
		t.Fatalf("restarted with committed %d, applied %d; want 2 and 2", r.raftLog.committed, r.raftLog.applied)
	}
}
