package wal_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// The drop crash test runs a sequence around drops of one group of a
// shared log (batches of every group, a drop of group 2, the others
// writing on through rollovers and releases that delete the drop's
// segment, group 2 re-created by an installed snapshot, written, and
// dropped again), crashes it before every mutating operation in turn with
// what was not durable lost, kept or torn, and checks the reopened log
// against states computed from the calls: every group is in a state at or
// after its last acknowledged one, together in a state the calls passed
// through; a dropped group is either as it was or dropped with exactly
// the term and vote it was dropped with (never a lower one, never its
// acknowledged state lost); the other groups replay exactly what they
// saved. It then writes on past a rollover and checks that the reopened
// log still says the same of the dropped group.

// dropVictim is the group the drop crash test drops and re-creates.
const dropVictim = 2

// dropOracle lists, for every group, the states it passed through (as
// keys: a dropped group's is its tombstone's), and the order in which the
// log's records moved them.
type dropOracle struct {
	models map[uint64]*groupModel
	states map[uint64][]string
	events []sharedEvent
	acked  int
}

func newDropOracle() *dropOracle {
	o := &dropOracle{models: map[uint64]*groupModel{}, states: map[uint64][]string{}}
	for _, g := range sharedCrashGroups {
		o.models[g] = &groupModel{}
		o.states[g] = []string{string(replayKey(wal.Replay{}))}
	}
	return o
}

// dropKey is the key of a dropped group with tombstone hs.
func dropKey(hs raftpb.HardState) string { return "dropped " + hs.String() }

// push records that g moved to the state key.
func (o *dropOracle) push(g uint64, key string) {
	o.states[g] = append(o.states[g], key)
	o.events = append(o.events, sharedEvent{group: g, state: len(o.states[g]) - 1})
}

// update records the events of one update, in the order of its records.
func (o *dropOracle) update(u wal.Update) {
	m := o.models[u.Group]
	if u.Snapshot != nil {
		m.apply(wal.Update{Snapshot: u.Snapshot})
		o.push(u.Group, string(replayKey(m.replay())))
	}
	if len(u.Entries) > 0 {
		m.apply(wal.Update{Entries: u.Entries})
		o.push(u.Group, string(replayKey(m.replay())))
	}
	if !u.HardState.IsEmpty() && u.HardState != m.hs {
		m.apply(wal.Update{HardState: u.HardState})
		o.push(u.Group, string(replayKey(m.replay())))
	}
}

// drop records the drop of g with tombstone tomb: a re-created g starts
// from an empty log and the tombstone's term and vote.
func (o *dropOracle) drop(g uint64, tomb raftpb.HardState) {
	o.models[g] = &groupModel{hs: tomb}
	o.push(g, dropKey(tomb))
}

// got returns the key of what rp holds of g.
func got(rp *wal.SharedReplay, g uint64) string {
	if i := slices.IndexFunc(rp.Dropped(), func(t wal.Tombstone) bool { return t.Group == g }); i >= 0 {
		if rp.Groups[g] != nil {
			return "dropped and live"
		}
		return dropKey(rp.Dropped()[i].HardState)
	}
	return string(replayKey(*rp.Group(g)))
}

// check returns what is wrong with rp, or "".
func (o *dropOracle) check(rp *wal.SharedReplay) string {
	now := map[uint64]string{}
	for _, g := range sharedCrashGroups {
		now[g] = got(rp, g)
	}
	at := map[uint64]int{}
	for j := 0; j <= len(o.events); j++ {
		if j > 0 {
			at[o.events[j-1].group] = o.events[j-1].state
		}
		if j >= o.acked && !slices.ContainsFunc(sharedCrashGroups, func(g uint64) bool { return o.states[g][at[g]] != now[g] }) {
			return ""
		}
	}
	var b strings.Builder
	for _, g := range sharedCrashGroups {
		fmt.Fprintf(&b, "\n  group %d: %q", g, now[g])
	}
	return fmt.Sprintf("the groups are in no state the calls made at or after the last acknowledged (event %d of %d):%s", o.acked, len(o.events), b.String())
}

// dropRun is the drop crash test's sequence; it stops at the first error
// (the crash).
func dropRun(l *wal.SharedLog, o *dropOracle, rng *rand.Rand) error {
	others := []uint64{1, 1 << 33}
	batch := func(from, to uint64, groups []uint64, term uint64) error {
		for i := from; i <= to; i++ {
			var b []wal.Update
			for _, g := range groups {
				data := make([]byte, 60+rng.IntN(120))
				first := o.models[g].snap.Index + uint64(len(o.models[g].ents)) + 1
				b = append(b, wal.Update{Group: g, Entries: []raftpb.Entry{{Index: first, Term: term, Data: data}},
					HardState: raftpb.HardState{Term: term, Vote: 2, Commit: first - 1}})
			}
			for _, u := range b {
				o.update(u)
			}
			if err := l.Save(b, true); err != nil {
				return err
			}
			o.acked = len(o.events)
		}
		return nil
	}
	dropIt := func(hs raftpb.HardState) error {
		tomb := raftpb.HardState{Term: hs.Term, Vote: hs.Vote}
		o.drop(dropVictim, tomb)
		if err := l.Drop(dropVictim, hs); err != nil {
			return err
		}
		o.acked = len(o.events)
		return nil
	}
	if err := batch(1, 6, sharedCrashGroups, 2); err != nil {
		return err
	}
	if err := dropIt(raftpb.HardState{Term: 3, Vote: 2, Commit: 5}); err != nil {
		return err
	}
	if err := batch(7, 14, others, 2); err != nil {
		return err
	}
	for _, g := range others {
		meta := raftpb.SnapshotMetadata{Index: 12, Term: 2}
		o.update(wal.Update{Group: g, Snapshot: &meta})
		if err := l.SaveSnapshot(g, meta); err != nil {
			return err
		}
		o.acked = len(o.events)
		if err := l.ReleaseTo(g, 12); err != nil {
			return err
		}
	}
	// Added back: a leader's snapshot, entries and a hard state.
	meta := raftpb.SnapshotMetadata{Index: 30, Term: 4, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
	u := wal.Update{Group: dropVictim, Snapshot: &meta, Entries: []raftpb.Entry{{Index: 31, Term: 4}, {Index: 32, Term: 4}},
		HardState: raftpb.HardState{Term: 4, Vote: 2, Commit: 31}}
	o.update(u)
	if err := l.Save([]wal.Update{u}, true); err != nil {
		return err
	}
	o.acked = len(o.events)
	if err := batch(15, 18, sharedCrashGroups, 4); err != nil {
		return err
	}
	if err := dropIt(raftpb.HardState{Term: 4, Vote: 2, Commit: 33}); err != nil {
		return err
	}
	return batch(19, 24, others, 4)
}

// Claim: a shared log crashed before every mutating operation around the
// drops of a group (its drop, the deletion of the drop's segment, its
// re-creation and a second drop), with unsynced data lost, kept or torn,
// opens with the group either as it was or dropped with the term and vote
// it was dropped with, never with acknowledged state lost or a lower
// tombstone, and every other group exactly as its calls left it; the
// tombstone survives writes past a rollover after the crash.
func TestDropCrashAtEveryWriteKeepsTheTombstoneOrTheGroup(t *testing.T) {
	seeds, draws := crashSeeds(t)
	for _, seed := range seeds {
		fs := newCrashFS()
		l, _, err := wal.OpenShared(sharedCrashDir, sharedCrashOpts(fs))
		if err != nil {
			t.Fatal(err)
		}
		if err := dropRun(l, newDropOracle(), rand.New(rand.NewPCG(seed, 7))); err != nil {
			t.Fatal(err)
		}
		// The sequence must delete the segment of the first drop, so that
		// only restated tombstones carry it.
		segs, err := wal.Inspect(fs, sharedCrashDir)
		if err != nil {
			t.Fatal(err)
		}
		var drops, restated int
		for _, s := range segs {
			for _, r := range s.Records {
				if r.Tombstone != nil && r.Restated {
					restated++
				} else if r.Tombstone != nil {
					drops++
				}
			}
		}
		if drops != 1 || restated == 0 {
			t.Fatalf("the log holds %d drops and %d restated tombstones, want the first drop's segment deleted and the tombstone restated", drops, restated)
		}
		total := fs.ops
		for at := 1; at <= total+1; at++ {
			for d := 0; d <= draws; d++ {
				mode := []crashMode{loseAll, keepAll, tear}[min(d, 2)]
				if msg := dropCrashAt(seed, at, mode, uint64(d)); msg != "" {
					t.Fatalf("seed %d, crash before operation %d of %d, mode %d, draw %d: %s", seed, at, total, mode, d, msg)
				}
			}
		}
	}
}

// dropCrashAt runs seed's sequence, crashing before operation at, and
// checks the reopened log. It returns what is wrong, or "".
func dropCrashAt(seed uint64, at int, mode crashMode, draw uint64) string {
	fs := newCrashFS()
	fs.failAt = at
	o := newDropOracle()
	l, _, err := wal.OpenShared(sharedCrashDir, sharedCrashOpts(fs))
	if err == nil {
		err = dropRun(l, o, rand.New(rand.NewPCG(seed, 7)))
	}
	if err != nil && !errors.Is(err, errCrashed) {
		return fmt.Sprintf("the sequence failed: %v", err)
	}
	fs.crash(mode, rand.New(rand.NewPCG(seed, uint64(at)<<8|draw)))
	l, rp, err := wal.OpenShared(sharedCrashDir, sharedCrashOpts(fs))
	if err != nil {
		return fmt.Sprintf("reopening after the crash: %v", err)
	}
	if msg := o.check(rp); msg != "" {
		return msg
	}
	// Write on past a rollover: the heads, not the drop's record, must
	// now carry the tombstone.
	want := got(rp, dropVictim)
	var batch []wal.Update
	for _, g := range sharedCrashGroups {
		if _, ok := l.Tombstone(g); ok {
			continue
		}
		r := rp.Group(g)
		last := r.Snapshot.Index + uint64(len(r.Entries))
		batch = append(batch, wal.Update{Group: g, Entries: []raftpb.Entry{{Index: last + 1, Term: max(r.HardState.Term, r.Snapshot.Term), Data: make([]byte, 700)}}})
	}
	for range 2 {
		if err := l.Save(batch, true); err != nil {
			return fmt.Sprintf("saving after the crash: %v", err)
		}
		for i := range batch {
			batch[i].Entries[0].Index++
		}
	}
	if err := l.Close(); err != nil {
		return fmt.Sprintf("closing: %v", err)
	}
	fs.settle()
	l, rp, err = wal.OpenShared(sharedCrashDir, sharedCrashOpts(fs))
	if err != nil {
		return fmt.Sprintf("reopening after writing on: %v", err)
	}
	defer l.Close()
	if now := got(rp, dropVictim); strings.HasPrefix(want, "dropped") && now != want {
		return fmt.Sprintf("after writing on past a rollover group %d is %q, was %q", dropVictim, now, want)
	}
	return ""
}
