package wal_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
	"pgregory.net/rapid"
)

// dropModel is the obvious shared log with drops: each live group's model,
// and each dropped group's tombstone (kept after it is re-created).
type dropModel struct {
	live  map[uint64]*groupModel
	tombs map[uint64]raftpb.HardState
}

// saveRandom saves entries and a hard state for g, re-creating it from its
// tombstone's term and vote when it is dropped, and moves the model.
func (m *dropModel) saveRandom(rt *rapid.T, l *wal.SharedLog, g uint64) {
	gm := m.live[g]
	if gm == nil {
		gm = &groupModel{hs: m.tombs[g]}
		m.live[g] = gm
	}
	last := gm.snap.Index + uint64(len(gm.ents))
	start := rapid.Uint64Range(max(gm.snap.Index+1, gm.hs.Commit+1), last+1).Draw(rt, "start")
	term := max(gm.hs.Term, gm.snap.Term) + rapid.Uint64Range(0, 1).Draw(rt, "termBump")
	hs := raftpb.HardState{Term: term, Vote: gm.hs.Vote, Commit: gm.hs.Commit}
	if term > gm.hs.Term {
		hs.Vote = rapid.Uint64Range(0, 3).Draw(rt, "vote")
	}
	u := wal.Update{Group: g, Entries: ents(term, start, start+rapid.Uint64Range(0, 3).Draw(rt, "count")), HardState: hs}
	if err := l.Save([]wal.Update{u}, rapid.Bool().Draw(rt, "sync")); err != nil {
		rt.Fatalf("Save of group %d: %v", g, err)
	}
	gm.apply(u)
	if n := gm.snap.Index + uint64(len(gm.ents)); n > gm.hs.Commit && rapid.Bool().Draw(rt, "commit") {
		gm.hs.Commit = n
		if err := l.Save([]wal.Update{{Group: g, HardState: gm.hs}}, true); err != nil {
			rt.Fatalf("Save of group %d's commit: %v", g, err)
		}
	}
}

// snapshotAndRelease takes a snapshot of live group g at a committed index
// and releases up to it.
func (m *dropModel) snapshotAndRelease(rt *rapid.T, l *wal.SharedLog, g uint64) {
	gm := m.live[g]
	if gm == nil || gm.hs.Commit <= gm.snap.Index {
		return
	}
	i := rapid.Uint64Range(gm.snap.Index+1, gm.hs.Commit).Draw(rt, "snapIndex")
	meta := raftpb.SnapshotMetadata{Index: i, Term: gm.ents[i-gm.snap.Index-1].Term}
	if err := l.SaveSnapshot(g, meta); err != nil {
		rt.Fatalf("SaveSnapshot of group %d: %v", g, err)
	}
	gm.apply(wal.Update{Snapshot: &meta})
	if err := l.ReleaseTo(g, i); err != nil {
		rt.Fatalf("ReleaseTo of group %d: %v", g, err)
	}
}

// drop drops g with its current hard state (its tombstone's when dropped).
func (m *dropModel) drop(rt *rapid.T, l *wal.SharedLog, g uint64) {
	hs := m.tombs[g]
	if gm := m.live[g]; gm != nil {
		hs = gm.hs
	}
	if err := l.Drop(g, hs); err != nil {
		rt.Fatalf("Drop of group %d with %v: %v", g, hs, err)
	}
	delete(m.live, g)
	m.tombs[g] = raftpb.HardState{Term: hs.Term, Vote: hs.Vote}
}

// check compares a replay with the model: the live groups' replays, the
// dropped groups' tombstones, and a dropped group's empty Replay.
func (m *dropModel) check(rt *rapid.T, rp *wal.SharedReplay) {
	if d := sharedModel(m.live).diff(rp); d != "" {
		rt.Fatalf("live groups differ (-want +got):\n%s", d)
	}
	var dropped []wal.Tombstone
	for _, g := range slices.Sorted(maps.Keys(m.tombs)) {
		if m.live[g] == nil {
			dropped = append(dropped, wal.Tombstone{Group: g, HardState: m.tombs[g]})
			if hs := rp.Group(g).HardState; hs != m.tombs[g] {
				rt.Fatalf("the Replay of dropped group %d holds %v, want its tombstone %v", g, hs, m.tombs[g])
			}
		}
	}
	if d := cmp.Diff(dropped, rp.Dropped(), cmpopts.EquateEmpty()); d != "" {
		rt.Fatalf("Dropped differs (-want +got):\n%s", d)
	}
}

// Claim: a shared log driven through random saves, snapshots, releases,
// drops, re-creations and reopens, with small segments, replays after
// every reopen exactly the live groups' states and the dropped groups'
// tombstones of an obvious model, and never names a dropped group as
// pinning a segment.
func TestSharedLogWithDropsMatchesAModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		// The page-cache model, not real files: thousands of syncs.
		dir := sharedCrashDir
		opts := wal.Options{SegmentBytes: int64(rapid.IntRange(512, 2048).Draw(rt, "segmentBytes")), FS: newCrashFS()}
		l, _, err := wal.OpenShared(dir, opts)
		if err != nil {
			rt.Fatal(err)
		}
		m := &dropModel{live: map[uint64]*groupModel{}, tombs: map[uint64]raftpb.HardState{}}
		groups := []uint64{1, 2, 1 << 35}
		for step := 0; step < 60; step++ {
			g := rapid.SampledFrom(groups).Draw(rt, "group")
			switch rapid.IntRange(0, 9).Draw(rt, "op") {
			case 0, 1, 2, 3:
				m.saveRandom(rt, l, g)
			case 4, 5:
				m.snapshotAndRelease(rt, l, g)
			case 6, 7:
				m.drop(rt, l, g)
			default:
				if err := l.Close(); err != nil {
					rt.Fatal(err)
				}
				var rp *wal.SharedReplay
				if l, rp, err = wal.OpenShared(dir, opts); err != nil {
					rt.Fatal(err)
				}
				m.check(rt, rp)
			}
			for _, p := range l.Pinning() {
				if m.live[p.Group] == nil {
					rt.Fatalf("dropped group %d pins the oldest segment (%v)", p.Group, l.Pinning())
				}
			}
		}
		if err := l.Close(); err != nil {
			rt.Fatal(err)
		}
		l, rp, err := wal.OpenShared(dir, opts)
		if err != nil {
			rt.Fatal(err)
		}
		defer l.Close()
		m.check(rt, rp)
	})
}
