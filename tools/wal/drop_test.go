package wal_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// fillGroups saves n batches of entries for each of groups (entries from
// index from on, term 2, vote 1, committing all but the last), each
// large enough that a few fill a segment of dropTestOpts.
func fillGroups(t *testing.T, l *wal.SharedLog, sm sharedModel, from, n uint64, groups ...uint64) {
	t.Helper()
	for i := from; i < from+n; i++ {
		var batch []wal.Update
		for _, g := range groups {
			e := ents(2, i, i)
			e[0].Data = append(e[0].Data, make([]byte, 200)...)
			batch = append(batch, wal.Update{Group: g, Entries: e, HardState: raftpb.HardState{Term: 2, Vote: 1, Commit: i - 1}})
		}
		saveBatch(t, l, sm, batch...)
	}
}

// dropTestOpts are small segments, so that a few batches roll over.
var dropTestOpts = wal.Options{SegmentBytes: 2048}

// The segment files in dir (segments, read from the file system, not
// from the log) are the oracle of what a release or a drop deleted.

// Claim: a dropped group replays as a tombstone holding its term and vote
// alone (not its commit, entries or snapshot), is absent from the live
// groups, pins no segment (the segments only it needed are deleted at the
// drop), and the other groups replay exactly what they saved.
func TestDroppedGroupReplaysAsATombstoneAndPinsNoSegment(t *testing.T) {
	dir := t.TempDir()
	l, _ := mustOpenShared(t, dir, dropTestOpts)
	sm := sharedModel{}
	fillGroups(t, l, sm, 1, 12, 1, 2)
	// Group 2 snapshots and releases: only group 1 keeps the old segments.
	meta := raftpb.SnapshotMetadata{Index: 11, Term: 2, ConfState: raftpb.ConfState{Voters: []uint64{1}}}
	if err := l.SaveSnapshot(2, meta); err != nil {
		t.Fatal(err)
	}
	sm.apply([]wal.Update{{Group: 2, Snapshot: &meta}})
	if err := l.ReleaseTo(2, 11); err != nil {
		t.Fatal(err)
	}
	before := segments(t, dir)
	if len(before) < 3 {
		t.Fatalf("the test wants several segments, has %v", before)
	}
	if pins := l.Pinning(); !slices.ContainsFunc(pins, func(p wal.Pin) bool { return p.Group == 1 }) {
		t.Fatalf("before the drop group 1 should pin the oldest segment: %v", pins)
	}
	if err := l.Drop(1, raftpb.HardState{Term: 2, Vote: 1, Commit: 11}); err != nil {
		t.Fatal(err)
	}
	delete(sm, 1)
	after := segments(t, dir)
	if len(after) != 1 || after[0] != before[len(before)-1] {
		t.Errorf("after the drop the segments are %v, want only the newest of %v", after, before)
	}
	if pins := l.Pinning(); len(pins) != 0 {
		t.Errorf("after the drop Pinning = %v, want none", pins)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, rp := mustOpenShared(t, dir, dropTestOpts)
	defer l.Close()
	sm.check(t, rp)
	want := []wal.Tombstone{{Group: 1, HardState: raftpb.HardState{Term: 2, Vote: 1}}}
	if diff := cmp.Diff(want, rp.Dropped()); diff != "" {
		t.Errorf("Dropped differs (-want +got):\n%s", diff)
	}
	checkReplay(t, rp.Group(1), wal.Replay{HardState: raftpb.HardState{Term: 2, Vote: 1}})
	if hs, ok := l.Tombstone(1); !ok || hs != want[0].HardState {
		t.Errorf("Tombstone(1) = %v, %v; want %v, true", hs, ok, want[0].HardState)
	}
	if _, ok := l.Tombstone(2); ok {
		t.Errorf("live group 2 has a tombstone")
	}
	// The replay handed out at the open is a record of what was read: a
	// drop made afterwards (of group 7, which the log never held) changes
	// the log, not the replay (which shared
	// the log's map of tombstones, and raced with it).
	if err := l.Drop(7, raftpb.HardState{Term: 3}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, rp.Dropped()); diff != "" {
		t.Errorf("a drop after the open changed the replay's Dropped (-want +got):\n%s", diff)
	}
}

// Claim: a drop rewrites no byte of the segments another group needs,
// and the tombstone outlives the segment that holds the drop: after a
// reopen and the other groups writing on through rollovers and releasing,
// so that the segment of the drop is deleted (the dropped group's older
// records, read at the reopen, pin nothing), the log still replays the
// group as dropped with its term and vote.
func TestTombstoneOutlivesTheSegmentOfTheDrop(t *testing.T) {
	dir := t.TempDir()
	l, _ := mustOpenShared(t, dir, dropTestOpts)
	sm := sharedModel{}
	fillGroups(t, l, sm, 1, 10, 1, 2)
	before := fileBytes(t, dir)
	if err := l.Drop(1, raftpb.HardState{Term: 5, Vote: 3}); err != nil {
		t.Fatal(err)
	}
	delete(sm, 1)
	// Group 2 still needs every segment; the drop rewrote no byte of them.
	after := fileBytes(t, dir)
	for name, old := range before {
		if end := nonZeroEnd(old); !bytes.Equal(old[:end], after[name][:min(end, int64(len(after[name])))]) {
			t.Errorf("the drop changed segment %s in its first %d bytes, or deleted it", name, end)
		}
	}
	dropSeg := segments(t, dir)
	if len(dropSeg) < 3 {
		t.Fatalf("the test wants the drop in a third segment or later: %v", dropSeg)
	}
	// Reopened: the log read the drop, and group 1's older records pin
	// nothing either.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, _ = mustOpenShared(t, dir, dropTestOpts)
	fillGroups(t, l, sm, 11, 12, 2)
	meta := raftpb.SnapshotMetadata{Index: 22, Term: 2}
	if err := l.SaveSnapshot(2, meta); err != nil {
		t.Fatal(err)
	}
	sm.apply([]wal.Update{{Group: 2, Snapshot: &meta}})
	if err := l.ReleaseTo(2, 22); err != nil {
		t.Fatal(err)
	}
	if now := segments(t, dir); slices.Contains(now, dropSeg[len(dropSeg)-1]) {
		t.Fatalf("the segment of the drop, %s, is still there (%v): the test wants it deleted", dropSeg[len(dropSeg)-1], now)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, rp := mustOpenShared(t, dir, dropTestOpts)
	defer l.Close()
	sm.check(t, rp)
	want := []wal.Tombstone{{Group: 1, HardState: raftpb.HardState{Term: 5, Vote: 3}}}
	if diff := cmp.Diff(want, rp.Dropped()); diff != "" {
		t.Errorf("Dropped differs (-want +got):\n%s", diff)
	}
}

// Claim: a dropped group saved again starts afresh (a replica added back
// under the same ID): it replays only what was saved after the drop, with
// the tombstone's term and vote until it saves a hard state; a hard state
// below the tombstone (a lower term, or another vote in its term) is
// refused with ErrStaleHardState and writes nothing, before and after a
// reopen, and after the segment of the drop is gone.
func TestRecreatedGroupStartsAfreshNeverBelowItsTombstone(t *testing.T) {
	dir := t.TempDir()
	l, _ := mustOpenShared(t, dir, dropTestOpts)
	sm := sharedModel{}
	fillGroups(t, l, sm, 1, 3, 1, 2)
	tomb := raftpb.HardState{Term: 5, Vote: 3}
	if err := l.Drop(1, raftpb.HardState{Term: 5, Vote: 3, Commit: 2}); err != nil {
		t.Fatal(err)
	}
	delete(sm, 1)
	refused := func(when string) {
		t.Helper()
		for _, hs := range []raftpb.HardState{{Term: 4, Vote: 3}, {Term: 5, Vote: 2}, {Term: 4, Vote: 3, Commit: 9}} {
			u := wal.Update{Group: 1, HardState: hs}
			if err := l.Save([]wal.Update{u}, true); !errors.Is(err, wal.ErrStaleHardState) {
				t.Errorf("%s: Save with %v below the tombstone %v = %v, want ErrStaleHardState", when, hs, tomb, err)
			}
		}
	}
	usage := l.Usage()
	refused("after the drop")
	if u := l.Usage(); u != usage {
		t.Errorf("a refused Save changed the log: %v, then %v", usage, u)
	}
	// Re-created: entries alone first (the tombstone's term and vote stand).
	saveBatch(t, l, sm, wal.Update{Group: 1, Entries: ents(6, 1, 2)})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, rp := mustOpenShared(t, dir, dropTestOpts)
	sm[1].hs = tomb
	sm.check(t, rp)
	if d := rp.Dropped(); len(d) != 0 {
		t.Errorf("a re-created group is still dropped: %v", d)
	}
	if _, ok := l.Tombstone(1); ok {
		t.Errorf("a re-created group has a tombstone")
	}
	refused("after a reopen")
	// An installed snapshot and a hard state at the tombstone's term and
	// vote; then group 2 writes on and releases until the drop's segment
	// is gone.
	meta := raftpb.SnapshotMetadata{Index: 20, Term: 6, ConfState: raftpb.ConfState{Voters: []uint64{1, 3}}}
	saveBatch(t, l, sm, wal.Update{Group: 1, Snapshot: &meta, Entries: ents(6, 21, 21), HardState: raftpb.HardState{Term: 5, Vote: 3, Commit: 20}})
	fillGroups(t, l, sm, 4, 12, 2)
	for g, m := range map[uint64]raftpb.SnapshotMetadata{1: {Index: 21, Term: 6}, 2: {Index: 14, Term: 2}} {
		if err := l.SaveSnapshot(g, m); err != nil {
			t.Fatal(err)
		}
		sm.apply([]wal.Update{{Group: g, Snapshot: &m}})
	}
	for _, g := range []uint64{1, 2} {
		if err := l.ReleaseTo(g, sm[g].snap.Index); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(segments(t, dir)); n != 1 {
		t.Fatalf("the test wants every older segment released, %d are left; pinning %v", n, l.Pinning())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, rp = mustOpenShared(t, dir, dropTestOpts)
	defer l.Close()
	sm.check(t, rp)
	refused("after the drop's segment is gone")
}

// Claim: Drop refuses a hard state below the group's last one or its
// tombstone (ErrStaleHardState, nothing written); dropping a dropped group
// again with the same term and vote writes nothing, with a later term
// records it; and dropping a group the log never held records a tombstone.
func TestDropRefusesAStaleHardStateAndIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	l, _ := mustOpenShared(t, dir, dropTestOpts)
	sm := sharedModel{}
	fillGroups(t, l, sm, 1, 2, 1)
	bytesOf := func() int64 {
		var n int64
		for _, s := range mustInspect(t, dir) {
			n += s.RecordsEnd
		}
		return n
	}
	start := bytesOf()
	for _, hs := range []raftpb.HardState{{Term: 1, Vote: 1}, {Term: 2, Vote: 3}, {}} {
		if err := l.Drop(1, hs); !errors.Is(err, wal.ErrStaleHardState) {
			t.Errorf("Drop(1, %v) below the hard state term 2 vote 1 = %v, want ErrStaleHardState", hs, err)
		}
	}
	if n := bytesOf(); n != start {
		t.Errorf("refused drops wrote %d bytes", n-start)
	}
	if err := l.Drop(1, raftpb.HardState{Term: 2, Vote: 1, Commit: 1}); err != nil {
		t.Fatal(err)
	}
	once := bytesOf()
	if err := l.Drop(1, raftpb.HardState{Term: 2, Vote: 1, Commit: 7}); err != nil {
		t.Fatal(err)
	}
	if n := bytesOf(); n != once {
		t.Errorf("dropping a dropped group again wrote %d bytes", n-once)
	}
	if err := l.Drop(1, raftpb.HardState{Term: 1, Vote: 1}); !errors.Is(err, wal.ErrStaleHardState) {
		t.Errorf("a drop below the tombstone = %v, want ErrStaleHardState", err)
	}
	if err := l.Drop(1, raftpb.HardState{Term: 3}); err != nil {
		t.Fatal(err)
	}
	if err := l.Drop(9, raftpb.HardState{}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, rp := mustOpenShared(t, dir, dropTestOpts)
	defer l.Close()
	want := []wal.Tombstone{{Group: 1, HardState: raftpb.HardState{Term: 3}}, {Group: 9}}
	if diff := cmp.Diff(want, rp.Dropped(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Dropped differs (-want +got):\n%s", diff)
	}
}

// mustInspect inspects the log in dir.
func mustInspect(t *testing.T, dir string) []wal.SegmentInfo {
	t.Helper()
	segs, err := wal.Inspect(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	return segs
}
