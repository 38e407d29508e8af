package wal_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// groupModel is what a group's replay must hold, computed by the test
// from the updates it saved, with the log's rules written out plainly:
// a marker keeps the entries after it when the log holds its index with
// its term and empties the log otherwise; entries replace the log from
// their first index on; a hard state replaces the last.
type groupModel struct {
	snap raftpb.SnapshotMetadata
	hs   raftpb.HardState
	ents []raftpb.Entry
}

// apply folds an update into the model.
func (m *groupModel) apply(u wal.Update) {
	if u.Snapshot != nil {
		keep := slices.ContainsFunc(m.ents, func(e raftpb.Entry) bool { return e.Index == u.Snapshot.Index && e.Term == u.Snapshot.Term }) ||
			(u.Snapshot.Index == m.snap.Index && u.Snapshot.Term == m.snap.Term)
		var kept []raftpb.Entry
		for _, e := range m.ents {
			if keep && e.Index > u.Snapshot.Index {
				kept = append(kept, e)
			}
		}
		m.snap, m.ents = *u.Snapshot, kept
	}
	if len(u.Entries) > 0 {
		var kept []raftpb.Entry
		for _, e := range m.ents {
			if e.Index < u.Entries[0].Index {
				kept = append(kept, e)
			}
		}
		m.ents = append(kept, u.Entries...)
	}
	if !u.HardState.IsEmpty() {
		m.hs = u.HardState
	}
}

// replay returns the Replay the model stands for.
func (m *groupModel) replay() wal.Replay {
	return wal.Replay{Snapshot: m.snap, HardState: m.hs, Entries: m.ents}
}

// sharedModel is the models of every group of a shared log.
type sharedModel map[uint64]*groupModel

// apply folds a batch into the models.
func (sm sharedModel) apply(batch []wal.Update) {
	for _, u := range batch {
		if sm[u.Group] == nil {
			sm[u.Group] = &groupModel{}
		}
		sm[u.Group].apply(u)
	}
}

// check compares a shared log's replay with the models.
func (sm sharedModel) check(t *testing.T, rp *wal.SharedReplay) {
	t.Helper()
	if diff := sm.diff(rp); diff != "" {
		t.Errorf("replay differs (-want +got):\n%s", diff)
	}
}

// diff returns how the groups rp replays differ from the models' replays
// (-want +got), or "" when they agree.
func (sm sharedModel) diff(rp *wal.SharedReplay) string {
	want := map[uint64]wal.Replay{}
	for id, m := range sm {
		want[id] = m.replay()
	}
	got := map[uint64]wal.Replay{}
	for id, r := range rp.Groups {
		got[id] = *r
	}
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

// mustOpenShared opens a shared log and fails the test on error.
func mustOpenShared(t *testing.T, dir string, opts wal.Options) (*wal.SharedLog, *wal.SharedReplay) {
	t.Helper()
	l, rp, err := wal.OpenShared(dir, opts)
	if err != nil {
		t.Fatalf("OpenShared(%s): %v", dir, err)
	}
	return l, rp
}

// saveBatch saves a batch with a sync, tells the models, and fails the
// test on error.
func saveBatch(t *testing.T, l *wal.SharedLog, sm sharedModel, batch ...wal.Update) {
	t.Helper()
	if err := l.Save(batch, true); err != nil {
		t.Fatalf("Save: %v", err)
	}
	sm.apply(batch)
}

// Claim: each group of a shared log replays what it was given (entries,
// hard states, a snapshot marker that keeps or replaces its log, a new
// leader's entries overwriting its tail), however the batches mixed the
// groups and across rollovers, and the log writes on where it stopped.
func TestSharedLogReplaysEachGroupAsSaved(t *testing.T) {
	dir := t.TempDir()
	opts := wal.Options{SegmentBytes: 1024}
	l, rp := mustOpenShared(t, dir, opts)
	if len(rp.Groups) != 0 {
		t.Fatalf("a new log replays %v", rp.Groups)
	}
	sm := sharedModel{}
	for i := uint64(1); i <= 20; i++ {
		saveBatch(t, l, sm,
			wal.Update{Group: 1, Entries: ents(1, i, i), HardState: raftpb.HardState{Term: 1, Vote: 1, Commit: i - 1}},
			wal.Update{Group: 2, Entries: ents(3, 2*i-1, 2*i)},
			wal.Update{Group: 1 << 40, HardState: raftpb.HardState{Term: i, Vote: 2}})
	}
	// Group 2: a new leader overwrites its tail; group 1 takes a snapshot
	// of its own (it keeps the entries after it); group 3 installs one
	// that replaces its log, in the same batch as more entries for it.
	saveBatch(t, l, sm,
		wal.Update{Group: 2, Entries: ents(4, 30, 31), HardState: raftpb.HardState{Term: 4, Commit: 29}},
		wal.Update{Group: 1, Snapshot: &raftpb.SnapshotMetadata{Index: 10, Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}},
		wal.Update{Group: 3, Entries: ents(1, 1, 5)},
		wal.Update{Group: 3, Snapshot: &raftpb.SnapshotMetadata{Index: 9, Term: 2}, Entries: ents(2, 10, 11)})
	if u := l.Usage(); u.Segments < 3 {
		t.Fatalf("the log holds %d segments: the test wants rollovers", u.Segments)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range segments(t, dir) {
		if !strings.HasSuffix(name, "-shared.wal") || len(name) != len("0000000000000001-shared.wal") {
			t.Errorf("segment %s is not named SEQ-shared.wal", name)
		}
	}
	l, rp = mustOpenShared(t, dir, opts)
	sm.check(t, rp)
	// It writes on where it stopped.
	saveBatch(t, l, sm, wal.Update{Group: 2, Entries: ents(4, 32, 32)}, wal.Update{Group: 7, Entries: ents(1, 1, 1)})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, rp = mustOpenShared(t, dir, opts)
	defer l.Close()
	sm.check(t, rp)
	if g := rp.Group(99); g.HardState.Commit != 0 || len(g.Entries) != 0 {
		t.Errorf("a group the log never held replays %+v", g)
	}
}

// Claim: a batch with an update the log refuses writes nothing, for no
// group, and the error names the group; the log goes on.
func TestSharedLogRefusedBatchWritesNothing(t *testing.T) {
	dir := t.TempDir()
	l, _ := mustOpenShared(t, dir, smallSegments)
	sm := sharedModel{}
	saveBatch(t, l, sm, wal.Update{Group: 1, Entries: ents(1, 1, 3)}, wal.Update{Group: 2, Entries: ents(1, 1, 2)})
	before := readFile(t, filepath.Join(dir, segments(t, dir)[0]))
	for _, bad := range [][]wal.Update{
		{{Group: 1, Entries: ents(1, 4, 4)}, {Group: 2, Entries: ents(1, 5, 5)}},                                     // a hole in group 2
		{{Group: 2, Entries: ents(1, 3, 3)}, {Group: 2, Entries: ents(1, 3, 3)}, {Group: 2, Entries: ents(1, 5, 5)}}, // a hole after the batch's own
		{{Group: 1, Snapshot: &raftpb.SnapshotMetadata{Index: 3, Term: 1}}, {Group: 1, Entries: ents(1, 2, 2)}},      // entries behind its new snapshot
	} {
		err := l.Save(bad, true)
		if err == nil || !strings.Contains(err.Error(), "group ") {
			t.Fatalf("Save(%v) = %v, want an error naming the group", bad, err)
		}
	}
	if after := readFile(t, filepath.Join(dir, segments(t, dir)[0])); !slices.Equal(before, after) {
		t.Fatal("a refused batch changed the segment")
	}
	saveBatch(t, l, sm, wal.Update{Group: 1, Entries: ents(1, 4, 4)}, wal.Update{Group: 2, Entries: ents(1, 3, 3)})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, rp := mustOpenShared(t, dir, smallSegments)
	sm.check(t, rp)
}

// Claim: a directory holding a log of one group does not open as a
// shared log, nor the reverse, and neither is changed by the attempt.
func TestSharedLogAndSingleGroupLogDoNotOpenAsEachOther(t *testing.T) {
	single, shared := t.TempDir(), t.TempDir()
	w, _ := mustOpen(t, single, smallSegments)
	mustSave(t, w, raftpb.HardState{Term: 1}, ents(1, 1, 2))
	mustClose(t, w)
	l, _ := mustOpenShared(t, shared, smallSegments)
	if err := l.Save([]wal.Update{{Group: 1, Entries: ents(1, 1, 2)}}, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := wal.OpenShared(single, smallSegments); !errors.Is(err, wal.ErrVersion) {
		t.Errorf("OpenShared on a log of one group = %v, want ErrVersion", err)
	}
	if _, _, err := wal.Open(shared, smallSegments); !errors.Is(err, wal.ErrVersion) {
		t.Errorf("Open on a shared log = %v, want ErrVersion", err)
	}
	if got := segments(t, single); len(got) != 1 || strings.Contains(got[0], "shared") {
		t.Errorf("the log of one group now holds %v", got)
	}
	if got := segments(t, shared); len(got) != 1 || !strings.Contains(got[0], "shared") {
		t.Errorf("the shared log now holds %v", got)
	}
}

// Claim: a hard state committing past its group's log is a loss of that
// group: Open refuses with raft.ErrLostLog naming the group and the file;
// with AcceptLoss only that group's replay carries the loss.
func TestSharedLogLossIsNamedByGroup(t *testing.T) {
	dir := t.TempDir()
	l, _ := mustOpenShared(t, dir, smallSegments)
	if err := l.Save([]wal.Update{
		{Group: 1, Entries: ents(1, 1, 3), HardState: raftpb.HardState{Term: 1, Commit: 3}},
		{Group: 2, Entries: ents(1, 1, 3), HardState: raftpb.HardState{Term: 1, Commit: 9}},
	}, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, err := wal.OpenShared(dir, smallSegments)
	var ce *wal.CorruptionError
	if !errors.Is(err, raft.ErrLostLog) || !errors.As(err, &ce) || ce.Group != 2 || ce.EveryGroup ||
		!strings.HasSuffix(ce.File, "-shared.wal") || !strings.Contains(err.Error(), "(group 2)") {
		t.Fatalf("OpenShared = %v, want a lost log of group 2 naming its segment", err)
	}
	opts := smallSegments
	opts.AcceptLoss = true
	l, rp := mustOpenShared(t, dir, opts)
	defer l.Close()
	if rp.Group(1).Loss != nil || !errors.Is(rp.Group(2).Loss, raft.ErrLostLog) || !errors.Is(rp.Loss, raft.ErrLostLog) {
		t.Fatalf("losses: group 1 %v, group 2 %v, log %v; want group 2's alone", rp.Group(1).Loss, rp.Group(2).Loss, rp.Loss)
	}
}

// Claim: the per-group view saves, snapshots and releases as a WAL does,
// and what it saved replays as its group.
func TestGroupLogHasTheShapeOfAWAL(t *testing.T) {
	dir := t.TempDir()
	l, _ := mustOpenShared(t, dir, wal.Options{SegmentBytes: 1024})
	g := l.Group(5)
	for i := uint64(1); i <= 40; i++ {
		if err := g.Save(raftpb.HardState{Term: 1, Commit: i}, ents(1, i, i), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := g.ReleaseTo(30); err == nil {
		t.Fatal("ReleaseTo past the last snapshot marker succeeded")
	}
	if err := g.SaveSnapshot(raftpb.SnapshotMetadata{Index: 30, Term: 1}); err != nil {
		t.Fatal(err)
	}
	before := l.Usage().Segments
	if err := g.ReleaseTo(30); err != nil {
		t.Fatal(err)
	}
	if after := l.Usage().Segments; after >= before {
		t.Errorf("releasing the only group's entries kept %d of %d segments", after, before)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, rp := mustOpenShared(t, dir, wal.Options{SegmentBytes: 1024})
	checkReplay(t, rp.Group(5), wal.Replay{Snapshot: raftpb.SnapshotMetadata{Index: 30, Term: 1},
		HardState: raftpb.HardState{Term: 1, Commit: 40}, Entries: ents(1, 31, 40)})
	if _, err := os.Stat(filepath.Join(dir, "0000000000000001-shared.wal")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the first segment is still there: %v", err)
	}
}
