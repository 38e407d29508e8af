package core

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
)

// snapAt returns a snapshot at index i with term t.
func snapAt(i, t uint64) *raftpb.Snapshot {
	return &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: i, Term: t}}
}

// checkUnstable fails the test if u breaks an invariant.
func checkUnstable(t *testing.T, what string, u *unstable) {
	t.Helper()
	if err := u.checkInvariants(); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

func TestUnstableIndexesComeFromEntriesThenSnapshot(t *testing.T) {
	for _, tt := range []struct {
		name            string
		u               unstable
		first, last     uint64
		firstOK, lastOK bool
	}{
		{"empty", unstable{offset: 5, offsetInProgress: 5}, 0, 0, false, false},
		{"entries only", unstable{entries: ents(5, 1, 1), offset: 5, offsetInProgress: 5}, 0, 6, false, true},
		{"snapshot only", unstable{snapshot: snapAt(4, 1), offset: 5, offsetInProgress: 5}, 5, 4, true, true},
		{"snapshot and entries", unstable{snapshot: snapAt(4, 1), entries: ents(5, 1), offset: 5, offsetInProgress: 5}, 5, 5, true, true},
	} {
		checkUnstable(t, tt.name, &tt.u)
		first, firstOK := tt.u.maybeFirstIndex()
		last, lastOK := tt.u.maybeLastIndex()
		if first != tt.first || firstOK != tt.firstOK || last != tt.last || lastOK != tt.lastOK {
			t.Errorf("%s: first %d,%v last %d,%v; want %d,%v %d,%v", tt.name,
				first, firstOK, last, lastOK, tt.first, tt.firstOK, tt.last, tt.lastOK)
		}
	}
}

func TestUnstableTermKnowsEntriesAndSnapshotIndexOnly(t *testing.T) {
	withSnap := unstable{snapshot: snapAt(4, 1), entries: ents(5, 2, 3), offset: 5, offsetInProgress: 5}
	noSnap := unstable{entries: ents(5, 2, 3), offset: 5, offsetInProgress: 5}
	for _, tt := range []struct {
		name string
		u    unstable
		i    uint64
		want uint64
		ok   bool
	}{
		{"below snapshot", withSnap, 3, 0, false},
		{"snapshot index", withSnap, 4, 1, true},
		{"first entry", withSnap, 5, 2, true},
		{"last entry", withSnap, 6, 3, true},
		{"beyond last", withSnap, 7, 0, false},
		{"below offset, no snapshot", noSnap, 4, 0, false},
		{"entry, no snapshot", noSnap, 6, 3, true},
		{"snapshot only", unstable{snapshot: snapAt(4, 1), offset: 5, offsetInProgress: 5}, 5, 0, false},
	} {
		got, ok := tt.u.maybeTerm(tt.i)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: maybeTerm(%d) = %d,%v; want %d,%v", tt.name, tt.i, got, ok, tt.want, tt.ok)
		}
	}
}

func TestUnstableHandsOutOnlyWhatIsNotInProgress(t *testing.T) {
	for _, tt := range []struct {
		name     string
		u        unstable
		wantEnts []raftpb.Entry
		wantSnap *raftpb.Snapshot
	}{
		{"nothing", unstable{offset: 5, offsetInProgress: 5}, nil, nil},
		{"all new", unstable{entries: ents(5, 1, 1), offset: 5, offsetInProgress: 5}, ents(5, 1, 1), nil},
		{"first in progress", unstable{entries: ents(5, 1, 1), offset: 5, offsetInProgress: 6}, ents(6, 1), nil},
		{"all in progress", unstable{entries: ents(5, 1, 1), offset: 5, offsetInProgress: 7}, nil, nil},
		{"new snapshot", unstable{snapshot: snapAt(4, 1), offset: 5, offsetInProgress: 5}, nil, snapAt(4, 1)},
		{"snapshot in progress", unstable{snapshot: snapAt(4, 1), snapshotInProgress: true,
			entries: ents(5, 1), offset: 5, offsetInProgress: 5}, ents(5, 1), nil},
	} {
		checkUnstable(t, tt.name, &tt.u)
		if diff := cmp.Diff(tt.wantEnts, tt.u.nextEntries()); diff != "" {
			t.Errorf("%s: nextEntries (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(tt.wantSnap, tt.u.nextSnapshot()); diff != "" {
			t.Errorf("%s: nextSnapshot (-want +got):\n%s", tt.name, diff)
		}
		tt.u.acceptInProgress()
		checkUnstable(t, tt.name+" after acceptInProgress", &tt.u)
		if tt.u.nextEntries() != nil || tt.u.nextSnapshot() != nil {
			t.Errorf("%s: acceptInProgress left something to hand out", tt.name)
		}
	}
}

func TestUnstableNextEntriesCannotReachTheTail(t *testing.T) {
	u := unstable{entries: ents(5, 1, 1, 1)[:2], offset: 5, offsetInProgress: 5}
	next := u.nextEntries()
	u.truncateAndAppend(ents(7, 1)) // in place, in the spare capacity
	_ = append(next, raftpb.Entry{Index: 7, Term: 9})
	if term, _ := u.maybeTerm(7); term != 1 {
		t.Errorf("an append to nextEntries reached the unstable array: term %d at 7", term)
	}
}

func TestUnstableStableToDropsMatchingPrefixAndIgnoresStaleTerm(t *testing.T) {
	base := func(inProgress uint64) unstable {
		return unstable{entries: ents(5, 1, 1, 2), offset: 5, offsetInProgress: inProgress}
	}
	for _, tt := range []struct {
		name           string
		u              unstable
		id             entryID
		wantOffset     uint64
		wantInProgress uint64
		wantLen        int
	}{
		{"first entry", base(8), entryID{1, 5}, 6, 8, 2},
		{"all entries", base(8), entryID{2, 7}, 8, 8, 0},
		{"stale term ignored", base(8), entryID{1, 7}, 5, 8, 3},
		{"beyond last ignored", base(8), entryID{2, 8}, 5, 8, 3},
		{"below offset ignored", base(8), entryID{1, 4}, 5, 8, 3},
		{"in-progress marker follows offset", base(5), entryID{1, 6}, 7, 7, 1},
		{"snapshot index ignored", unstable{snapshot: snapAt(4, 1), snapshotInProgress: true,
			entries: ents(5, 1), offset: 5, offsetInProgress: 6}, entryID{1, 4}, 5, 6, 1},
	} {
		tt.u.stableTo(tt.id)
		checkUnstable(t, tt.name, &tt.u)
		if tt.u.offset != tt.wantOffset || tt.u.offsetInProgress != tt.wantInProgress || len(tt.u.entries) != tt.wantLen {
			t.Errorf("%s: offset %d inProgress %d len %d; want %d %d %d", tt.name,
				tt.u.offset, tt.u.offsetInProgress, len(tt.u.entries), tt.wantOffset, tt.wantInProgress, tt.wantLen)
		}
	}
}

func TestUnstableStableToReleasesAMostlyEmptyArray(t *testing.T) {
	u := unstable{offset: 1, offsetInProgress: 1}
	u.truncateAndAppend(ents(1, make([]uint64, 100)...))
	u.stableTo(entryID{0, 90})
	if len(u.entries) != 10 || cap(u.entries) >= 20 {
		t.Errorf("after stableTo: len %d cap %d; want len 10 and a shrunk array", len(u.entries), cap(u.entries))
	}
	u.stableTo(entryID{0, 100})
	if u.entries != nil {
		t.Errorf("after stabilizing everything: entries %v, want nil", u.entries)
	}
}

func TestUnstableStableSnapToForgetsOnlyThatSnapshot(t *testing.T) {
	for _, tt := range []struct {
		i    uint64
		want bool // snapshot still held
	}{{3, true}, {4, false}, {5, true}} {
		u := unstable{snapshot: snapAt(4, 1), snapshotInProgress: true, offset: 5, offsetInProgress: 5}
		u.stableSnapTo(tt.i)
		checkUnstable(t, "stableSnapTo", &u)
		if (u.snapshot != nil) != tt.want || u.snapshotInProgress != tt.want {
			t.Errorf("stableSnapTo(%d): snapshot held %v in progress %v, want %v", tt.i, u.snapshot != nil, u.snapshotInProgress, tt.want)
		}
	}
}

func TestUnstableRestoreReplacesEverything(t *testing.T) {
	u := unstable{snapshot: snapAt(4, 1), snapshotInProgress: true, entries: ents(5, 1, 1), offset: 5, offsetInProgress: 7}
	u.restore(*snapAt(9, 3))
	checkUnstable(t, "restore", &u)
	want := unstable{snapshot: snapAt(9, 3), offset: 10, offsetInProgress: 10}
	if diff := cmp.Diff(want, u, cmp.AllowUnexported(unstable{})); diff != "" {
		t.Errorf("restore (-want +got):\n%s", diff)
	}
}

func TestUnstableTruncateAndAppendCases(t *testing.T) {
	for _, tt := range []struct {
		name           string
		inProgress     uint64
		append         []raftpb.Entry
		wantOffset     uint64
		wantInProgress uint64
		want           []raftpb.Entry
	}{
		{"right after", 7, ents(8, 2, 2), 5, 7, ents(5, 1, 1, 1, 2, 2)},
		{"right after, in progress kept", 8, ents(8, 2), 5, 8, ents(5, 1, 1, 1, 2)},
		{"replace from offset", 7, ents(5, 2, 2), 5, 5, ents(5, 2, 2)},
		{"replace below offset", 7, ents(4, 2, 2), 4, 4, ents(4, 2, 2)},
		{"truncate inside in-progress part", 8, ents(6, 2, 2, 2), 5, 6, ents(5, 1, 2, 2, 2)},
		{"truncate after in-progress part", 6, ents(7, 2), 5, 6, ents(5, 1, 1, 2)},
		{"truncate last", 8, ents(7, 2), 5, 7, ents(5, 1, 1, 2)},
	} {
		u := unstable{offset: 5, offsetInProgress: tt.inProgress}
		u.entries = ents(5, 1, 1, 1)
		u.truncateAndAppend(tt.append)
		checkUnstable(t, tt.name, &u)
		if u.offset != tt.wantOffset || u.offsetInProgress != tt.wantInProgress {
			t.Errorf("%s: offset %d inProgress %d; want %d %d", tt.name, u.offset, u.offsetInProgress, tt.wantOffset, tt.wantInProgress)
		}
		if diff := cmp.Diff(tt.want, u.entries); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestUnstableTruncateAndAppendNeverSharesArrays(t *testing.T) {
	t.Run("caller's slice is copied", func(t *testing.T) {
		for _, first := range []uint64{5, 6, 8} { // replace, truncate, append
			u := unstable{entries: ents(5, 1, 1, 1), offset: 5, offsetInProgress: 5}
			batch := ents(first, 2, 2)
			u.truncateAndAppend(batch)
			batch[0].Term = 9
			if term, _ := u.maybeTerm(first); term != 2 {
				t.Errorf("append at %d: changing the caller's slice changed the log (term %d)", first, term)
			}
		}
	})
	t.Run("handed-out entries never see a truncation", func(t *testing.T) {
		u := unstable{offset: 5, offsetInProgress: 5}
		u.truncateAndAppend(ents(5, 1, 1, 1))
		handedOut := u.nextEntries()
		u.acceptInProgress()
		u.truncateAndAppend(ents(6, 2))
		if diff := cmp.Diff(ents(5, 1, 1, 1), handedOut); diff != "" {
			t.Errorf("a truncation changed entries handed out before (-want +got):\n%s", diff)
		}
	})
}

func TestUnstableMisuseViolatesNamedInvariant(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    func(u *unstable)
	}{
		{"slice below offset", func(u *unstable) { u.slice(4, 6) }},
		{"slice beyond end", func(u *unstable) { u.slice(5, 9) }},
		{"slice reversed", func(u *unstable) { u.slice(7, 6) }},
		{"append leaving a gap", func(u *unstable) { u.truncateAndAppend(ents(9, 1)) }},
	} {
		u := unstable{entries: ents(5, 1, 1, 1), offset: 5, offsetInProgress: 5}
		msg := panicMessage(func() { tt.f(&u) })
		if !strings.Contains(msg, "invariant violated") {
			t.Errorf("%s: panic %q, want an invariant message", tt.name, msg)
		}
	}
	u := unstable{entries: ents(5, 1, 1, 1), offset: 5, offsetInProgress: 5}
	if diff := cmp.Diff(ents(6, 1, 1), u.slice(6, 8)); diff != "" {
		t.Errorf("slice(6, 8) (-want +got):\n%s", diff)
	}
}

// panicMessage runs f and returns what it panicked with, as a string, or
// "" if it did not panic.
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg, _ = r.(string)
			if msg == "" {
				msg = "non-string panic"
			}
		}
	}()
	f()
	return ""
}

// TestUnstableCopiesReceivedEntriesAndNeverWritesIntoThem: with
// ReuseEntryArrays a follower's tail copies a received batch into its own
// array (the sender may take its array back after its next Advance); with
// or without it, it never writes into the sender's.
func TestUnstableCopiesReceivedEntriesAndNeverWritesIntoThem(t *testing.T) {
	backing := append(ents(5, 1, 1), ents(7, 9)...) // the sender's array, longer than the batch
	batch := backing[:2]
	u := unstable{offset: 5, offsetInProgress: 5}
	u.takeBackArrays()
	u.appendReceived(batch)
	if &u.entries[0] == &batch[0] {
		t.Fatal("an empty tail kept the sender's array instead of copying the batch")
	}
	u.appendReceived(ents(7, 2))
	if backing[2].Term != 9 {
		t.Fatalf("an append wrote into the sender's array: entry 7 has term %d", backing[2].Term)
	}
	if got, ok := u.maybeTerm(7); !ok || got != 2 {
		t.Fatalf("term of 7 = %d, %v; want 2", got, ok)
	}
}

// TestUnstableWithoutReuseKeepsAReceivedBatchAndNeverWritesIntoIt:
// without ReuseEntryArrays an empty tail keeps a received batch as large
// as its usual capacity without copying it (Step's contract: the node may
// keep a message's slices), its capacity cut so that the next append
// copies instead of writing into the sender's array.
func TestUnstableWithoutReuseKeepsAReceivedBatchAndNeverWritesIntoIt(t *testing.T) {
	backing := append(ents(5, 1, 1), ents(7, 9)...)
	batch := backing[:2]
	u := unstable{offset: 5, offsetInProgress: 5, capHint: 2}
	u.appendReceived(batch)
	if &u.entries[0] != &batch[0] {
		t.Fatal("an empty tail copied a batch it may keep")
	}
	u.appendReceived(ents(7, 2))
	if backing[2].Term != 9 {
		t.Fatalf("an append wrote into the sender's array: entry 7 has term %d", backing[2].Term)
	}
}

// TestUnstableEmptiedTailRemembersItsArraysCapacity: the capacity reserved
// for the next batch is the whole array's, not what was left of it after
// the stable prefix was cut.
func TestUnstableEmptiedTailRemembersItsArraysCapacity(t *testing.T) {
	terms := make([]uint64, 100)
	for i := range terms {
		terms[i] = 1
	}
	u := unstable{entries: make([]raftpb.Entry, 0, 100), offset: 1, offsetInProgress: 1}
	u.truncateAndAppend(ents(1, terms...))
	u.stableTo(entryID{term: 1, index: 100})
	if len(u.entries) != 0 || u.capHint != 100 {
		t.Fatalf("after the whole tail became stable: %d entries, capHint %d; want 0 and 100", len(u.entries), u.capHint)
	}
}
