package core

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
)

// newStorage returns a MemoryStorage compacted up to the first entry of
// es (which stands for the snapshot) and holding the rest.
func newStorage(es []raftpb.Entry) *MemoryStorage {
	ms := NewMemoryStorage()
	ms.coldState().compacted = idOf(&es[0])
	ms.base = es[0].Index + 1
	ms.appendAtEnd(es[1:])
	return ms
}

// heldLog returns the log ms holds from the last compacted entry on, that
// entry standing with only its index and term, reading every segment.
func heldLog(t *testing.T, ms *MemoryStorage) []raftpb.Entry {
	t.Helper()
	c := ms.compactedEntry()
	out := []raftpb.Entry{{Index: c.index, Term: c.term}}
	last, _ := ms.LastIndex()
	for i := c.index + 1; i <= last; {
		es, err := ms.Entries(i, last+1, noLimit)
		if err != nil || len(es) == 0 {
			t.Fatalf("Entries(%d, %d) = %v, %v", i, last+1, es, err)
		}
		out = append(out, es...)
		i += uint64(len(es))
	}
	return out
}

// errAny is the want of wantErr for "some error, of no sentinel".
var errAny = errors.New("any error")

// wantErr reports a mismatch between err and the sentinel want (nil: no
// error expected; errAny: any error).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == errAny {
		if err == nil {
			t.Errorf("%s: no error, want one", what)
		}
		return
	}
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func TestNewMemoryStorageHoldsOnlyTheDummyAtZero(t *testing.T) {
	ms := NewMemoryStorage()
	first, _ := ms.FirstIndex()
	last, _ := ms.LastIndex()
	term, err := ms.Term(0)
	if first != 1 || last != 0 || term != 0 || err != nil {
		t.Errorf("first %d last %d term(0) %d err %v, want 1 0 0 nil", first, last, term, err)
	}
	if es, err := ms.Entries(1, 1, noLimit); len(es) != 0 || err != nil {
		t.Errorf("Entries(1, 1) = %v, %v; want nothing", es, err)
	}
	snap, _ := ms.Snapshot()
	if !snap.IsEmpty() {
		t.Errorf("snapshot %+v, want empty", snap)
	}
}

func TestMemoryStorageTermIsValidFromCompactionPointToLastIndex(t *testing.T) {
	ms := newStorage(ents(3, 3, 4, 5))
	for _, tt := range []struct {
		i    uint64
		want uint64
		err  error
	}{
		{2, 0, ErrCompacted},
		{3, 3, nil},
		{4, 4, nil},
		{5, 5, nil},
		{6, 0, ErrUnavailable},
	} {
		got, err := ms.Term(tt.i)
		wantErr(t, "Term", err, tt.err)
		if got != tt.want {
			t.Errorf("Term(%d) = %d, want %d", tt.i, got, tt.want)
		}
	}
}

func TestMemoryStorageEntriesHonoursRangeAndPayloadLimit(t *testing.T) {
	ms := newStorage(sized(ents(3, 3, 4, 5, 6), 0, 10, 10, 10))
	for _, tt := range []struct {
		lo, hi, maxSize uint64
		want            []uint64 // indexes
		err             error
	}{
		{2, 6, noLimit, nil, ErrCompacted},
		{3, 6, noLimit, nil, ErrCompacted}, // the dummy is not an entry
		{4, 5, noLimit, []uint64{4}, nil},
		{4, 7, noLimit, []uint64{4, 5, 6}, nil},
		{4, 8, noLimit, nil, ErrUnavailable},
		{5, 5, noLimit, nil, nil},
		{6, 5, noLimit, nil, errAny},
		{4, 7, 0, []uint64{4}, nil},
		{4, 7, 9, []uint64{4}, nil},
		{4, 7, 20, []uint64{4, 5}, nil},
		{4, 7, 29, []uint64{4, 5}, nil},
		{4, 7, 30, []uint64{4, 5, 6}, nil},
	} {
		got, err := ms.Entries(tt.lo, tt.hi, tt.maxSize)
		wantErr(t, "Entries", err, tt.err)
		if diff := cmp.Diff(tt.want, indexes(got)); diff != "" {
			t.Errorf("Entries(%d, %d, %d) (-want +got):\n%s", tt.lo, tt.hi, tt.maxSize, diff)
		}
	}
}

// indexes returns the indexes of es, nil for none.
func indexes(es []raftpb.Entry) []uint64 {
	var out []uint64
	for _, e := range es {
		out = append(out, e.Index)
	}
	return out
}

func TestMemoryStorageEntriesResultCannotReachStorage(t *testing.T) {
	ms := newStorage(ents(0, 0, 1, 1, 1))
	got, _ := ms.Entries(1, 2, noLimit)
	_ = append(got, raftpb.Entry{Index: 99, Term: 99})
	if term, _ := ms.Term(2); term != 1 {
		t.Errorf("appending to a returned slice changed entry 2 to term %d", term)
	}
}

func TestMemoryStorageCompactKeepsTermOfCompactionPoint(t *testing.T) {
	for _, tt := range []struct {
		at        uint64
		err       error
		wantFirst uint64
		wantTerm  uint64 // at FirstIndex-1
	}{
		{2, ErrCompacted, 4, 3},
		{3, ErrCompacted, 4, 3},
		{4, nil, 5, 4},
		{6, nil, 7, 6},
		{7, ErrUnavailable, 4, 3},
	} {
		ms := newStorage(ents(3, 3, 4, 5, 6))
		wantErr(t, "Compact", ms.Compact(tt.at), tt.err)
		first, _ := ms.FirstIndex()
		last, _ := ms.LastIndex()
		term, err := ms.Term(first - 1)
		if first != tt.wantFirst || last != 6 || term != tt.wantTerm || err != nil {
			t.Errorf("Compact(%d): first %d last %d term %d (%v), want %d 6 %d",
				tt.at, first, last, term, err, tt.wantFirst, tt.wantTerm)
		}
		want := ents(3, 3, 4, 5, 6)[tt.wantFirst-4:] // each entry's term is its index
		if got := heldLog(t, ms); !cmp.Equal(got, want) {
			t.Errorf("Compact(%d): holds %v, want %v", tt.at, got, want)
		}
	}
}

func TestMemoryStorageCreateSnapshotNeedsIndexWithinLogAndNewer(t *testing.T) {
	cs := &raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	for _, tt := range []struct {
		i    uint64
		cs   *raftpb.ConfState
		err  error
		want raftpb.Snapshot
	}{
		{4, cs, nil, raftpb.Snapshot{Data: []byte("d"), Metadata: raftpb.SnapshotMetadata{ConfState: *cs, Index: 4, Term: 4}}},
		{5, nil, nil, raftpb.Snapshot{Data: []byte("d"), Metadata: raftpb.SnapshotMetadata{
			ConfState: raftpb.ConfState{Voters: []uint64{7}}, Index: 5, Term: 5}}},
		{6, cs, ErrUnavailable, raftpb.Snapshot{}},
		{2, cs, ErrSnapOutOfDate, raftpb.Snapshot{}},
	} {
		ms := newStorage(ents(3, 3, 4, 5))
		ms.SetConfState(raftpb.ConfState{Voters: []uint64{7}})
		ms.cold = &memoryCold{snapshot: &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 3, Term: 3}}}
		got, err := ms.CreateSnapshot(tt.i, tt.cs, []byte("d"))
		wantErr(t, "CreateSnapshot", err, tt.err)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("CreateSnapshot(%d) (-want +got):\n%s", tt.i, diff)
		}
		if held, _ := ms.Snapshot(); err == nil && !cmp.Equal(held, tt.want) {
			t.Errorf("CreateSnapshot(%d): held %+v, want %+v", tt.i, held, tt.want)
		}
		if _, st, _ := ms.InitialState(); err == nil && !cmp.Equal(st, tt.want.Metadata.ConfState) {
			t.Errorf("CreateSnapshot(%d): InitialState conf %+v, want the snapshot's", tt.i, st)
		}
	}
}

func TestMemoryStorageApplySnapshotReplacesLogAndRefusesOlder(t *testing.T) {
	cs := raftpb.ConfState{Voters: []uint64{1, 2}}
	snap := func(i, t uint64) raftpb.Snapshot {
		return raftpb.Snapshot{Data: []byte("s"), Metadata: raftpb.SnapshotMetadata{ConfState: cs, Index: i, Term: t}}
	}
	ms := NewMemoryStorage()
	if err := ms.Append(ents(1, 1, 1, 2)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "ApplySnapshot(5)", ms.ApplySnapshot(snap(5, 3)), nil)
	first, _ := ms.FirstIndex()
	last, _ := ms.LastIndex()
	term, _ := ms.Term(5)
	_, gotCS, _ := ms.InitialState()
	if first != 6 || last != 5 || term != 3 || !cmp.Equal(gotCS, cs) {
		t.Errorf("after ApplySnapshot: first %d last %d term %d conf %+v, want 6 5 3 %+v", first, last, term, gotCS, cs)
	}
	wantErr(t, "ApplySnapshot(4)", ms.ApplySnapshot(snap(4, 3)), ErrSnapOutOfDate)
	wantErr(t, "ApplySnapshot(5) again", ms.ApplySnapshot(snap(5, 3)), ErrSnapOutOfDate)
	if held, _ := ms.Snapshot(); !cmp.Equal(held, snap(5, 3)) {
		t.Errorf("a refused snapshot changed the held one to %+v", held)
	}
}

func TestMemoryStorageInitialStateReturnsWhatWasSet(t *testing.T) {
	ms := NewMemoryStorage()
	hs := raftpb.HardState{Term: 2, Vote: 1, Commit: 3}
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}}
	if err := ms.SetHardState(hs); err != nil {
		t.Fatal(err)
	}
	ms.SetConfState(cs)
	gotHS, gotCS, err := ms.InitialState()
	if err != nil || gotHS != hs || !cmp.Equal(gotCS, cs) {
		t.Errorf("InitialState = %+v %+v %v, want %+v %+v", gotHS, gotCS, err, hs, cs)
	}
}

func TestMemoryStorageAppendTruncatesConflictsAndSkipsCompacted(t *testing.T) {
	for _, tt := range []struct {
		name   string
		append []raftpb.Entry
		want   []raftpb.Entry // from the dummy on
		err    error
	}{
		{"nothing", nil, ents(3, 3, 4, 5), nil},
		{"same entries", ents(3, 3, 4, 5), ents(3, 3, 4, 5), nil},
		{"right after", ents(6, 5), ents(3, 3, 4, 5, 5), nil},
		{"overlap and extend", ents(5, 5, 5), ents(3, 3, 4, 5, 5), nil},
		{"conflict truncates suffix", ents(4, 6, 6), ents(3, 3, 6, 6), nil},
		{"conflict at last", ents(5, 6), ents(3, 3, 4, 6), nil},
		{"compacted part skipped", ents(2, 3, 3, 6, 6, 6), ents(3, 3, 6, 6, 6), nil},
		{"all compacted ignored", ents(1, 1, 2, 3), ents(3, 3, 4, 5), nil},
		{"gap refused", ents(7, 5), ents(3, 3, 4, 5), ErrMalformedEntries},
		{"not contiguous refused", append(ents(5, 5), ents(7, 5)...), ents(3, 3, 4, 5), ErrMalformedEntries},
		{"falling term refused", ents(6, 4), ents(3, 3, 4, 5), ErrMalformedEntries},
	} {
		ms := newStorage(ents(3, 3, 4, 5))
		wantErr(t, tt.name, ms.Append(tt.append), tt.err)
		if diff := cmp.Diff(tt.want, heldLog(t, ms)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestMemoryStorageAppendCopiesTheCallersSlice(t *testing.T) {
	ms := NewMemoryStorage()
	batch := ents(1, 1, 1)
	if err := ms.Append(batch); err != nil {
		t.Fatal(err)
	}
	batch[0].Term, batch[1].Term = 9, 9
	if got, _ := ms.Entries(1, 3, noLimit); !cmp.Equal(got, ents(1, 1, 1)) {
		t.Errorf("reusing the caller's slice changed storage to %v", got)
	}
}

func TestMemoryStorageTruncationLeavesEarlierEntriesResultsIntact(t *testing.T) {
	ms := NewMemoryStorage()
	if err := ms.Append(ents(1, 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	read, _ := ms.Entries(1, 4, noLimit)
	if err := ms.Append(ents(2, 2, 2)); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(read, ents(1, 1, 1, 1)) {
		t.Errorf("a truncating Append changed a slice read before it: %v", read)
	}
}

// termOne returns the entries lo..hi with term 1.
func termOne(lo, hi uint64) []raftpb.Entry {
	terms := make([]uint64, hi-lo+1)
	for i := range terms {
		terms[i] = 1
	}
	return ents(lo, terms...)
}

// segmentLog returns a MemoryStorage holding the entries 1 to 2.5
// segments' worth, with term 1, and that last index.
func segmentLog(t *testing.T) (*MemoryStorage, uint64) {
	t.Helper()
	const last = 2*memorySegmentLen + memorySegmentLen/2
	ms := NewMemoryStorage()
	if err := ms.Append(termOne(1, last)); err != nil {
		t.Fatal(err)
	}
	return ms, last
}

func TestMemoryStorageEntriesStopsAtTheEndOfASegment(t *testing.T) {
	const L = memorySegmentLen
	ms, last := segmentLog(t)
	for _, tt := range []struct{ lo, hi, wantLast uint64 }{
		{1, last + 1, L},
		{L - 10, L + 10, L},
		{L + 1, last + 1, 2 * L},
		{2*L + 1, last + 1, last},
		{3, 10, 9},
	} {
		got, err := ms.Entries(tt.lo, tt.hi, noLimit)
		if err != nil || len(got) == 0 || got[0].Index != tt.lo || got[len(got)-1].Index != tt.wantLast {
			t.Errorf("Entries(%d, %d) = %d entries (%v), want %d..%d", tt.lo, tt.hi, len(got), err, tt.lo, tt.wantLast)
		}
	}
	if diff := cmp.Diff(append(ents(0, 0), termOne(1, last)...), heldLog(t, ms)); diff != "" {
		t.Errorf("reading segment by segment (-want +got):\n%s", diff)
	}
}

func TestMemoryStorageCompactDropsWholeSegmentsAndMovesNoEntry(t *testing.T) {
	const L = memorySegmentLen
	ms, last := segmentLog(t)
	read, _ := ms.Entries(L+1, last+1, noLimit)
	kept := &ms.segs[1].ents[0]
	wantErr(t, "Compact", ms.Compact(L+100), nil)
	if len(ms.segs) != 2 || &ms.segs[0].ents[0] != kept {
		t.Errorf("Compact(%d): %d segments; want the 2 from index %d, unmoved", L+100, len(ms.segs), L+1)
	}
	if first, _ := ms.FirstIndex(); first != L+101 {
		t.Errorf("FirstIndex = %d after Compact(%d)", first, L+100)
	}
	if diff := cmp.Diff(append(ents(L+100, 1), termOne(L+101, last)...), heldLog(t, ms)); diff != "" {
		t.Errorf("after Compact (-want +got):\n%s", diff)
	}
	tail := &ms.segs[1].ents[0]
	if err := ms.Append(termOne(last+1, last+100)); err != nil {
		t.Fatal(err)
	}
	if &ms.segs[0].ents[0] != kept || &ms.segs[1].ents[0] != tail {
		t.Error("an append after the compaction moved the entries kept")
	}
	if !cmp.Equal(read, termOne(L+1, 2*L)) {
		t.Error("a slice read before the compaction changed")
	}
	wantErr(t, "Compact(all)", ms.Compact(last+100), nil)
	if l, _ := ms.LastIndex(); l != last+100 {
		t.Errorf("LastIndex = %d after compacting everything, want %d", l, last+100)
	}
	if err := ms.Append(termOne(last+101, last+101)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(append(ents(last+100, 1), termOne(last+101, last+101)...), heldLog(t, ms)); diff != "" {
		t.Errorf("after compacting everything and appending (-want +got):\n%s", diff)
	}
}

func TestMemoryStorageTruncationInALaterSegmentLeavesEarlierReadsIntact(t *testing.T) {
	const L = memorySegmentLen
	ms, last := segmentLog(t)
	read, _ := ms.Entries(L+1, last+1, noLimit)
	over := ents(L+100, 2, 2, 2)
	if err := ms.Append(over); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(read, termOne(L+1, 2*L)) {
		t.Error("a truncating Append changed a slice read before it")
	}
	want := append(append(ents(0, 0), termOne(1, L+99)...), over...)
	if diff := cmp.Diff(want, heldLog(t, ms)); diff != "" {
		t.Errorf("after overwriting from %d (-want +got):\n%s", L+100, diff)
	}
}

// TestMemoryStorageReusesOnlySegmentsNoCallerCanRead: a compacted segment
// Entries never lent out takes the entries appended after the compaction,
// emptied first; a lent one is never written again.
func TestMemoryStorageReusesOnlySegmentsNoCallerCanRead(t *testing.T) {
	const L = memorySegmentLen
	ms, last := segmentLog(t)
	read, _ := ms.Entries(1, last+1, noLimit) // lends the first segment only
	second := &ms.segs[1].ents[:1][0]
	wantErr(t, "Compact", ms.Compact(2*L+1), nil)
	if len(ms.cold.spare) != 1 || &ms.cold.spare[0][:1][0] != second || ms.cold.spare[0][:1][0].Index != 0 {
		t.Fatalf("after compacting two segments, one lent: %d spare segments, want the second, emptied", len(ms.cold.spare))
	}
	if err := ms.Append(termOne(last+1, 3*L+1)); err != nil {
		t.Fatal(err)
	}
	if &ms.segs[1].ents[0] != second {
		t.Error("the new segment is not the spare one")
	}
	if !cmp.Equal(read, termOne(1, L)) {
		t.Error("a slice Entries returned was written over after its segment was compacted")
	}
	if diff := cmp.Diff(append(ents(2*L+1, 1), termOne(2*L+2, 3*L+1)...), heldLog(t, ms)); diff != "" {
		t.Errorf("after the reuse (-want +got):\n%s", diff)
	}
}

// TestMemoryStorageKeepsEveryConfStateWhole checks that a ConfState given
// to a MemoryStorage comes back as it was given, whether it names voters
// only (held in one slice) or more (held in the cold part), and that a
// voters-only ConfState after a fuller one lets the fuller one go.
func TestMemoryStorageKeepsEveryConfStateWhole(t *testing.T) {
	votersOnly := raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	joint := raftpb.ConfState{Voters: []uint64{1, 2, 4}, VotersOutgoing: []uint64{1, 2, 3},
		Learners: []uint64{5}, LearnersNext: []uint64{3}, AutoLeave: true}
	ms := NewMemoryStorage()
	for _, cs := range []raftpb.ConfState{votersOnly, joint, {Learners: []uint64{7}}, votersOnly} {
		ms.SetConfState(cs)
		if _, got, _ := ms.InitialState(); !cmp.Equal(got, cs) {
			t.Errorf("InitialState after SetConfState(%v) returns %v", cs, got)
		}
	}
	if ms.cold != nil && ms.cold.conf != nil {
		t.Errorf("a voters-only ConfState keeps the fuller one before it: %v", *ms.cold.conf)
	}
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 5, Term: 2, ConfState: joint}}
	if err := ms.ApplySnapshot(snap); err != nil {
		t.Fatal(err)
	}
	if got, _ := ms.Snapshot(); !cmp.Equal(got.Metadata.ConfState, joint) {
		t.Errorf("the snapshot's ConfState comes back as %v, want %v", got.Metadata.ConfState, joint)
	}
	if _, got, _ := ms.InitialState(); !cmp.Equal(got, joint) {
		t.Errorf("InitialState after the snapshot returns %v, want %v", got, joint)
	}
}
