package wal_test

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// Claim: a batch of many groups' updates costs one sync of the log, and
// nothing else that syncs, however many groups it holds; without sync it
// costs none, and one Sync then makes all of it durable. The syncs are
// counted by the file-system model, which also proves them enough: a
// crash that loses everything not synced keeps every batch.
func TestSharedLogSyncsOncePerBatchOfGroups(t *testing.T) {
	const groups, batches = 16, 12
	fs := newCrashFS()
	opts := wal.Options{SegmentBytes: 1 << 20, FS: fs}
	l, _, err := wal.OpenShared(sharedCrashDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	sm := sharedModel{}
	for b := uint64(1); b <= batches; b++ {
		var batch []wal.Update
		for g := uint64(1); g <= groups; g++ {
			batch = append(batch, wal.Update{Group: g, Entries: ents(b, 2*b-1, 2*b), HardState: raftpb.HardState{Term: b, Commit: 2*b - 2}})
		}
		sync := b%3 != 0
		ops, fileSyncs, dirSyncs := fs.ops, fs.fileSyncs, fs.dirSyncs
		if err := l.Save(batch, sync); err != nil {
			t.Fatal(err)
		}
		sm.apply(batch)
		want := 0
		if sync {
			want = 1
		}
		if got := fs.fileSyncs - fileSyncs; got != want || fs.dirSyncs != dirSyncs {
			t.Fatalf("batch %d of %d groups (sync %v) made %d file syncs and %d directory syncs, want %d and 0",
				b, groups, sync, got, fs.dirSyncs-dirSyncs, want)
		}
		// One write: every operation but the sync.
		if writes := fs.ops - ops - want; writes != 1 {
			t.Fatalf("batch %d of %d groups made %d writes, want one", b, groups, writes)
		}
	}
	fileSyncs := fs.fileSyncs
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := fs.fileSyncs - fileSyncs; got != 1 {
		t.Fatalf("Sync made %d file syncs, want 1", got)
	}
	fs.crash(loseAll, nil)
	_, rp, err := wal.OpenShared(sharedCrashDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	sm.check(t, rp)
}

// fileBytes returns the content of every file of a directory.
func fileBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range segments(t, dir) {
		out[name] = readFile(t, filepath.Join(dir, name))
	}
	return out
}

// Claim: a group's compaction (its snapshot marker and ReleaseTo) never
// rewrites a byte of what the log held: every segment that stays is
// byte-identical up to where its records ended, and the other groups
// replay exactly what they did. A lagging group, one that does not
// release, pins the segments that hold its entries, the others' records
// in them included; once it releases, they go.
func TestSharedLogCompactionLeavesOtherGroupsRecordsAsTheyWere(t *testing.T) {
	dir := t.TempDir()
	opts := wal.Options{SegmentBytes: 1024}
	l, _ := mustOpenShared(t, dir, opts)
	sm := sharedModel{}
	rng := rand.New(rand.NewPCG(7, 7))
	const a, b, c = 1, 2, 3
	for i := uint64(1); i <= 40; i++ {
		batch := []wal.Update{{Group: a, Entries: ents(1, i, i), HardState: raftpb.HardState{Term: 1, Commit: i}}}
		if i <= 10 {
			// Group b writes early on, then lags: it never releases.
			batch = append(batch, wal.Update{Group: b, Entries: ents(1, i, i), HardState: raftpb.HardState{Term: 1, Commit: i}})
		}
		if rng.IntN(2) == 0 {
			next := uint64(1)
			if m := sm[c]; m != nil && len(m.ents) > 0 {
				next = m.ents[len(m.ents)-1].Index + 1
			}
			batch = append(batch, wal.Update{Group: c, Entries: ents(2, next, next), HardState: raftpb.HardState{Term: 2, Commit: next}})
		}
		saveBatch(t, l, sm, batch...)
	}
	compact := func(g uint64) {
		t.Helper()
		m := sm[g]
		last := m.ents[len(m.ents)-1]
		meta := raftpb.SnapshotMetadata{Index: last.Index, Term: last.Term}
		if err := l.SaveSnapshot(g, meta); err != nil {
			t.Fatal(err)
		}
		sm.apply([]wal.Update{{Group: g, Snapshot: &meta}})
		if err := l.ReleaseTo(g, meta.Index); err != nil {
			t.Fatal(err)
		}
	}
	before := fileBytes(t, dir)
	if len(before) < 4 {
		t.Fatalf("the log holds %d segments: the test wants several", len(before))
	}
	compact(a)
	compact(c)
	after := fileBytes(t, dir)
	for name, old := range before {
		now, ok := after[name]
		if !ok {
			t.Errorf("segment %s was deleted while group %d still needs its entries", name, b)
			continue
		}
		if end := nonZeroEnd(old); !bytes.Equal(old[:end], now[:end]) {
			t.Errorf("segment %s changed in its first %d bytes", name, end)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, rp := mustOpenShared(t, dir, opts)
	sm.check(t, rp)
	// Once the lagging group compacts too, the segments only it pinned go.
	compact(b)
	if got := len(fileBytes(t, dir)); got >= len(after) {
		t.Errorf("after every group released, %d segments remain of %d", got, len(after))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, rp = mustOpenShared(t, dir, opts)
	sm.check(t, rp)
}

// Claim: a release never rests on a snapshot marker a crash can still
// take back: after a marker saved without a sync and a release up to it,
// a crash that loses everything not synced leaves a log that opens, with
// the group at its marker.
func TestSharedLogReleaseMakesTheMarkerDurableFirst(t *testing.T) {
	fs := newCrashFS()
	opts := wal.Options{SegmentBytes: 1024, FS: fs}
	l, _, err := wal.OpenShared(sharedCrashDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 30; i++ {
		if err := l.Save([]wal.Update{{Group: 4, Entries: ents(1, i, i), HardState: raftpb.HardState{Term: 1, Commit: i}}}, true); err != nil {
			t.Fatal(err)
		}
	}
	meta := raftpb.SnapshotMetadata{Index: 30, Term: 1}
	if err := l.Save([]wal.Update{{Group: 4, Snapshot: &meta}}, false); err != nil {
		t.Fatal(err)
	}
	if err := l.ReleaseTo(4, 30); err != nil {
		t.Fatal(err)
	}
	if segs, _ := wal.Inspect(fs, sharedCrashDir); len(segs) != 1 {
		t.Fatalf("the release kept %d segments, want 1 (the test wants it to delete)", len(segs))
	}
	fs.crash(loseAll, nil)
	_, rp, err := wal.OpenShared(sharedCrashDir, opts)
	if err != nil {
		t.Fatalf("reopening after a crash: %v", err)
	}
	checkReplay(t, rp.Group(4), wal.Replay{Snapshot: meta, HardState: raftpb.HardState{Term: 1, Commit: 30}})
}

// Claim: Pinning names exactly the groups that keep the oldest segment on
// disk (an idle group that wrote once, not the busy group that released),
// and releasing them up to the index it names deletes that segment.
func TestSharedLogPinningNamesTheGroupsHoldingTheOldestSegment(t *testing.T) {
	dir := t.TempDir()
	l, _ := mustOpenShared(t, dir, wal.Options{SegmentBytes: 1024})
	defer l.Close()
	if p := l.Pinning(); len(p) != 0 {
		t.Fatalf("an empty log pinned by %v", p)
	}
	for _, id := range []uint64{2, 3} {
		if err := l.Save([]wal.Update{{Group: id, HardState: raftpb.HardState{Term: 1, Commit: 1}, Entries: ents(1, 1, 1)}}, true); err != nil {
			t.Fatal(err)
		}
	}
	busy := l.Group(1)
	for i := uint64(1); len(segments(t, dir)) < 3; i++ {
		if err := busy.Save(raftpb.HardState{Term: 1, Commit: i}, ents(1, i, i), true); err != nil {
			t.Fatal(err)
		}
		if err := busy.SaveSnapshot(raftpb.SnapshotMetadata{Index: i, Term: 1}); err != nil {
			t.Fatal(err)
		}
		if err := busy.ReleaseTo(i); err != nil {
			t.Fatal(err)
		}
	}
	want := []wal.Pin{{Group: 2, Index: 1}, {Group: 3, Index: 1}}
	if got := l.Pinning(); !slices.Equal(got, want) {
		t.Fatalf("Pinning = %v, want %v", got, want)
	}
	before := len(segments(t, dir))
	for i, p := range want {
		if err := l.SaveSnapshot(p.Group, raftpb.SnapshotMetadata{Index: p.Index, Term: 1}); err != nil {
			t.Fatal(err)
		}
		if err := l.ReleaseTo(p.Group, p.Index); err != nil {
			t.Fatal(err)
		}
		// A group released to its pin's index pins no more, while the
		// others still do.
		if got := l.Pinning(); i+1 < len(want) && !slices.Equal(got, want[i+1:]) {
			t.Fatalf("after releasing group %d to %d, Pinning = %v, want %v", p.Group, p.Index, got, want[i+1:])
		}
	}
	if got := l.Pinning(); len(got) != 0 {
		t.Errorf("after the releases Pinning = %v", got)
	}
	if after := len(segments(t, dir)); after != 1 {
		t.Errorf("after releasing the pinning groups %d of %d segment files are left, want 1", after, before)
	}
}
