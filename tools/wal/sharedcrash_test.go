package wal_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"testing"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// The shared crash tests run a seeded sequence of batches of several
// groups' updates (entries, a new leader's entries over an uncommitted
// tail, hard states, installed snapshots), with snapshots of a group's
// own and per-group releases between them, through a SharedLog on the
// page-cache model (crashfs_test.go); they crash it before every
// mutating operation in turn, with what was not durable lost, kept or
// torn, reopen, and check: every group's acknowledged state survives;
// the groups together are in a state the calls passed through (a prefix
// of the log's records, never a later group's update without an earlier
// one of the same write); and, once settled, every loss the log can see
// is refused with raft.ErrLostLog naming the file and the group or every
// group. The states allowed are computed from the calls, not read from
// the log. TICKRAFT_WAL_CRASH=N runs N seeds, as for the crash tests of a
// log of one group.

// sharedCrashDir is where the shared log lives in the model.
const sharedCrashDir = "/node/wal"

// sharedCrashGroups are the groups of the sequence; one has a large ID, so
// that its stamps take more than one varint byte.
var sharedCrashGroups = []uint64{1, 2, 1 << 33}

// sharedCrashSteps is the length of each seed's sequence.
const sharedCrashSteps = 40

// sharedCrashOpts is the log's options on the model: segments of a few
// batches each, so that the sequence rolls over and releases.
func sharedCrashOpts(fs *crashFS) wal.Options { return wal.Options{SegmentBytes: 1536, FS: fs} }

// sharedEvent is one record's effect: a group moves to its next state.
type sharedEvent struct {
	group uint64
	state int // the group's state number after the record
}

// sharedOracle lists, for every group, the states it passed through, and
// the order in which the log's records moved them.
type sharedOracle struct {
	models map[uint64]*groupModel
	states map[uint64][][]byte // each group's states, as keys; 0 is empty
	events []sharedEvent
	// acked is how many events a synced call made durable.
	acked int
}

func newSharedOracle() *sharedOracle {
	o := &sharedOracle{models: map[uint64]*groupModel{}, states: map[uint64][][]byte{}}
	for _, g := range sharedCrashGroups {
		o.models[g] = &groupModel{}
		o.states[g] = [][]byte{replayKey(wal.Replay{})}
	}
	return o
}

// replayKey encodes what a group's replay holds, for comparing.
func replayKey(r wal.Replay) []byte {
	b := r.HardState.AppendMarshal(nil)
	b = r.Snapshot.AppendMarshal(append(b, '|'))
	for i := range r.Entries {
		b = r.Entries[i].AppendMarshal(append(b, '|'))
	}
	return b
}

// record moves group g's model by u and records the event.
func (o *sharedOracle) record(g uint64, u wal.Update) {
	m := o.models[g]
	m.apply(u)
	o.states[g] = append(o.states[g], replayKey(m.replay()))
	o.events = append(o.events, sharedEvent{group: g, state: len(o.states[g]) - 1})
}

// update records the events of one update, in the order its records are
// written: the marker, the entries, the hard state when it changed.
func (o *sharedOracle) update(u wal.Update) {
	if u.Snapshot != nil {
		o.record(u.Group, wal.Update{Snapshot: u.Snapshot})
	}
	if len(u.Entries) > 0 {
		o.record(u.Group, wal.Update{Entries: u.Entries})
	}
	if !u.HardState.IsEmpty() && u.HardState != o.models[u.Group].hs {
		o.record(u.Group, wal.Update{HardState: u.HardState})
	}
}

// check returns what is wrong with the groups' replays, or "": there must
// be a point at or after the last acknowledged event where every group is
// in the state the events up to it left it in.
func (o *sharedOracle) check(rp *wal.SharedReplay) string {
	for g := range rp.Groups {
		if o.models[g] == nil {
			return fmt.Sprintf("the log replays group %d, which never wrote", g)
		}
	}
	got := map[uint64][]byte{}
	for _, g := range sharedCrashGroups {
		got[g] = replayKey(*rp.Group(g))
	}
	at := map[uint64]int{}
	for j := 0; j <= len(o.events); j++ {
		if j > 0 {
			e := o.events[j-1]
			at[e.group] = e.state
		}
		if j < o.acked {
			continue
		}
		if !slices.ContainsFunc(sharedCrashGroups, func(g uint64) bool { return !bytes.Equal(o.states[g][at[g]], got[g]) }) {
			return ""
		}
	}
	var b strings.Builder
	for _, g := range sharedCrashGroups {
		r := rp.Group(g)
		fmt.Fprintf(&b, "\n  group %d: hard state %v, snapshot %d/%d, entries %s", g, r.HardState, r.Snapshot.Term, r.Snapshot.Index, raftpb.DescribeEntries(r.Entries))
	}
	return fmt.Sprintf("the groups are in no state the calls made at or after the last acknowledged (event %d of %d):%s",
		o.acked, len(o.events), b.String())
}

// sharedWorkload drives a shared log through a seeded sequence.
type sharedWorkload struct {
	rng   *rand.Rand
	steps int
	terms map[uint64]uint64
	// snaps is each group's last snapshot index, released up to on the
	// group's next snapshot (one generation kept, as the example server
	// keeps it).
	snaps map[uint64]uint64
}

func newSharedWorkload(seed uint64) *sharedWorkload {
	return &sharedWorkload{rng: rand.New(rand.NewPCG(seed, 1)), steps: sharedCrashSteps,
		terms: map[uint64]uint64{}, snaps: map[uint64]uint64{}}
}

// run performs the sequence; it stops at the first error (the crash).
func (w *sharedWorkload) run(l *wal.SharedLog, o *sharedOracle) error {
	for i := 0; i < w.steps; i++ {
		if err := w.step(l, o); err != nil {
			return err
		}
	}
	return nil
}

// step makes one call: now and then a group's own snapshot and release,
// otherwise a batch of some groups' updates.
func (w *sharedWorkload) step(l *wal.SharedLog, o *sharedOracle) error {
	g := sharedCrashGroups[w.rng.IntN(len(sharedCrashGroups))]
	if m := o.models[g]; w.rng.IntN(4) == 0 && m.hs.Commit > m.snap.Index {
		return w.compact(l, o, g)
	}
	var batch []wal.Update
	mustSync := false
	for _, g := range sharedCrashGroups {
		if w.rng.IntN(3) == 0 {
			continue
		}
		u, sync := w.update(o, g)
		batch = append(batch, u)
		mustSync = mustSync || sync
	}
	for _, u := range batch {
		o.update(u)
	}
	if err := l.Save(batch, mustSync); err != nil {
		return err
	}
	if mustSync {
		o.acked = len(o.events)
	}
	// A group that installed a snapshot releases up to its previous one.
	for _, u := range batch {
		if u.Snapshot != nil {
			prev := w.snaps[u.Group]
			w.snaps[u.Group] = u.Snapshot.Index
			if err := l.ReleaseTo(u.Group, prev); err != nil {
				return err
			}
		}
	}
	return nil
}

// compact takes a snapshot of group g's own at a committed index, and
// releases the group's entries up to it or, as the example server does,
// up to the group's previous snapshot.
func (w *sharedWorkload) compact(l *wal.SharedLog, o *sharedOracle, g uint64) error {
	m := o.models[g]
	index := m.hs.Commit
	if w.rng.IntN(2) == 0 {
		index = m.snap.Index + 1 + w.rng.Uint64N(m.hs.Commit-m.snap.Index)
	}
	meta := raftpb.SnapshotMetadata{Index: index, Term: m.ents[index-m.snap.Index-1].Term}
	o.update(wal.Update{Group: g, Snapshot: &meta})
	if err := l.SaveSnapshot(g, meta); err != nil {
		return err
	}
	o.acked = len(o.events)
	upTo := w.snaps[g]
	if w.rng.IntN(2) == 0 {
		upTo = index
	}
	w.snaps[g] = index
	return l.ReleaseTo(g, upTo)
}

// update returns an update of group g: entries (now and then a new
// leader's, over the uncommitted tail) with a hard state, or a snapshot
// from a new leader past the log, which replaces it; and whether it needs
// a sync.
func (w *sharedWorkload) update(o *sharedOracle, g uint64) (wal.Update, bool) {
	m := o.models[g]
	last := m.snap.Index + uint64(len(m.ents))
	term := max(w.terms[g], 1)
	if w.rng.IntN(12) == 0 {
		w.terms[g] = term + 1
		index := last + 1 + w.rng.Uint64N(3)
		meta := raftpb.SnapshotMetadata{Index: index, Term: term + 1, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
		return wal.Update{Group: g, Snapshot: &meta, HardState: raftpb.HardState{Term: term + 1, Vote: m.hs.Vote, Commit: index}}, true
	}
	from := last + 1
	if w.rng.IntN(6) == 0 && last > m.hs.Commit {
		term++
		from = m.hs.Commit + 1 + w.rng.Uint64N(last-m.hs.Commit)
	}
	w.terms[g] = term
	ents := make([]raftpb.Entry, w.rng.IntN(3))
	for i := range ents {
		data := make([]byte, 5+w.rng.IntN(120))
		for j := range data {
			data[j] = byte('a' + w.rng.IntN(26))
		}
		ents[i] = raftpb.Entry{Index: from + uint64(i), Term: term, Data: data}
	}
	newLast := last
	if len(ents) > 0 {
		newLast = from + uint64(len(ents)) - 1
	}
	hs := raftpb.HardState{Term: term, Vote: 1 + term%3, Commit: m.hs.Commit}
	if newLast > hs.Commit && w.rng.IntN(2) == 0 {
		hs.Commit = max(m.hs.Commit, min(newLast, from-1+uint64(w.rng.IntN(3))))
	}
	sync := len(ents) > 0 || hs.Term != m.hs.Term || hs.Vote != m.hs.Vote
	return wal.Update{Group: g, Entries: ents, HardState: hs}, sync
}

// Claim: a shared log crashed before every mutating operation of a
// sequence of batches, snapshots and releases, with unsynced data lost,
// kept or torn, opens again with every group's acknowledged state and
// the groups together in a state the calls passed through, and refuses,
// naming the file and the group, every loss of synced data it can see.
func TestSharedLogCrashAtEveryWriteKeepsEveryGroupsAcknowledgedState(t *testing.T) {
	seeds, draws := crashSeeds(t)
	injected := map[string]int{}
	for _, seed := range seeds {
		total := countSharedOps(seed)
		for at := 1; at <= total+1; at++ {
			for d := 0; d < draws; d++ {
				mode := []crashMode{loseAll, keepAll, tear}[min(d, 2)]
				if at%2 == 0 && d == 1 && draws < 8 {
					mode = tear // by default every other point tears instead of keeping all
				}
				if msg := sharedCrashAt(seed, at, mode, uint64(d), injected); msg != "" {
					t.Fatalf("seed %d, crash before operation %d of %d, mode %d, draw %d: %s", seed, at, total, mode, d, msg)
				}
			}
		}
	}
	for _, kind := range append(slices.Clone(lossKinds), lossGroupCommit) {
		t.Logf("%s: injected %d times", kind, injected[kind])
		if injected[kind] == 0 {
			t.Errorf("never injected: %s", kind)
		}
	}
}

// countSharedOps runs a seed's sequence without a crash and returns how
// many mutating operations it makes.
func countSharedOps(seed uint64) int {
	fs := newCrashFS()
	l, _, err := wal.OpenShared(sharedCrashDir, sharedCrashOpts(fs))
	if err != nil {
		panic(err)
	}
	if err := newSharedWorkload(seed).run(l, newSharedOracle()); err != nil {
		panic(err)
	}
	return fs.ops
}

// sharedCrashAt runs seed's sequence, crashing before operation at, and
// checks the reopened log, counting the losses it then injects in
// injected. It returns what is wrong, or "".
func sharedCrashAt(seed uint64, at int, mode crashMode, draw uint64, injected map[string]int) string {
	fs := newCrashFS()
	fs.failAt = at
	o := newSharedOracle()
	l, _, err := wal.OpenShared(sharedCrashDir, sharedCrashOpts(fs))
	if err == nil {
		err = newSharedWorkload(seed).run(l, o)
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
	// Write on past a rollover, so that the seals, not the manifest
	// written at open, name the newest segment.
	var batch []wal.Update
	for _, g := range sharedCrashGroups {
		r := rp.Group(g)
		last := r.Snapshot.Index + uint64(len(r.Entries))
		batch = append(batch, wal.Update{Group: g, Entries: []raftpb.Entry{{Index: last + 1, Term: max(r.HardState.Term, r.Snapshot.Term), Data: bytes.Repeat([]byte{'m'}, 400)}}})
	}
	if err := l.Save(batch, true); err != nil {
		return fmt.Sprintf("saving after the crash: %v", err)
	}
	if err := l.Close(); err != nil {
		return fmt.Sprintf("closing: %v", err)
	}
	fs.settle()
	return checkSharedLossesDetected(fs, injected)
}

// lossGroupCommit is the kind of loss checkSharedLossesDetected injects in
// one group's records alone.
const lossGroupCommit = "a group's hard state committing past its log"

// checkSharedLossesDetected damages a settled shared log in each of the
// ways checkLossesDetected damages a log of one group (placed by the
// file-system model, each concerning every group), and in one group's
// records alone (for each group, a hard state of that group committing
// past its log, as when its synced entries are gone), and checks that the
// open refuses with raft.ErrLostLog naming the file and the group, or
// every group. It counts the kinds it injected in injected.
func checkSharedLossesDetected(fs *crashFS, injected map[string]int) string {
	losses, msg := modelLosses(fs, sharedCrashDir)
	if msg != "" {
		return msg
	}
	groupOf := map[string]uint64{}
	for _, g := range sharedCrashGroups {
		what := fmt.Sprintf("%s (group %d)", lossGroupCommit, g)
		groupOf[what] = g
		losses = append(losses, loss{what, "", func(c *crashFS) { commitPastTheLog(c, g) }})
	}
	for _, l := range losses {
		c := fs.clone()
		l.do(c)
		group, ok := groupOf[l.what]
		if ok {
			injected[lossGroupCommit]++
			// The damage was saved through the log: it is in the newest
			// segment, which may be a new one.
			l.file = path.Base(newestSegment(c))
		} else {
			injected[l.what]++
		}
		log, _, err := wal.OpenShared(sharedCrashDir, sharedCrashOpts(c))
		if err == nil {
			log.Close()
			return fmt.Sprintf("%s: the log opened", l.what)
		}
		var ce *wal.CorruptionError
		if !errors.Is(err, raft.ErrLostLog) || !errors.As(err, &ce) || !slices.Contains(strings.Fields(l.file), path.Base(ce.File)) {
			return fmt.Sprintf("%s: open = %v, want a lost log naming %s", l.what, err, l.file)
		}
		if ce.EveryGroup != !ok || ce.Group != group {
			return fmt.Sprintf("%s: open = %v (group %d, every group %v), want it to name group %d (0: every group)", l.what, err, ce.Group, ce.EveryGroup, group)
		}
	}
	return ""
}

// newestSegment returns the newest segment file of the shared log, as
// the file-system model lists it.
func newestSegment(c *crashFS) string {
	newest := ""
	for _, p := range c.files(sharedCrashDir) {
		if strings.HasSuffix(p, ".wal") {
			newest = p // sorted: the names begin with the sequence number in hex
		}
	}
	return newest
}

// commitPastTheLog saves, durably, a hard state of group g whose commit
// index lies past the group's log: what a log whose synced entries were
// lost, and their hard state kept, holds.
func commitPastTheLog(c *crashFS, g uint64) {
	l, rp, err := wal.OpenShared(sharedCrashDir, sharedCrashOpts(c))
	if err != nil {
		panic(err)
	}
	r := rp.Group(g)
	last := r.Snapshot.Index + uint64(len(r.Entries))
	hs := raftpb.HardState{Term: r.HardState.Term + 1, Commit: last + 2}
	if err := l.Save([]wal.Update{{Group: g, HardState: hs}}, true); err != nil {
		panic(err)
	}
	if err := l.Close(); err != nil {
		panic(err)
	}
	c.settle()
}

// sharedStorageSteps is the length of each group's sequence in the
// SharedStorage crash test.
const sharedStorageSteps = 25

// sharedStorageRun runs, on one SharedStorage, the crash workload of a
// log of one group for each of sharedCrashGroups, their steps
// interleaved: saves, compactions (a snapshot file per group, a marker,
// a release) and installed snapshots.
func sharedStorageRun(s *wal.SharedStorage, seed uint64, oracles map[uint64]*oracle) error {
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	works, terms, sts := map[uint64]workload{}, map[uint64]*uint64{}, map[uint64]*wal.GroupStorage{}
	for _, g := range sharedCrashGroups {
		st, err := s.Group(g)
		if err != nil {
			return err
		}
		o := oracles[g]
		cur := o.cur()
		cur.CS, cur.Snap.ConfState = cs, cs
		o.push(cur)
		if err := st.Bootstrap(cs); err != nil {
			return err
		}
		o.acked = len(o.states) - 1
		works[g], terms[g], sts[g] = workload{rng: rand.New(rand.NewPCG(seed, g))}, new(uint64), st
		*terms[g] = 1
	}
	for i := 0; i < sharedStorageSteps; i++ {
		for _, g := range sharedCrashGroups {
			if err := works[g].step(sts[g], oracles[g], terms[g]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Claim: the groups of a SharedStorage, crashed before every mutating
// operation of their interleaved sequences with unsynced data lost, kept
// or torn, each serve again a state their calls made, at or after their
// last acknowledged one, snapshot data included.
func TestSharedStorageCrashAtEveryWriteKeepsEveryGroupsAcknowledgedState(t *testing.T) {
	seeds, draws := crashSeeds(t)
	for _, seed := range seeds {
		fs := newCrashFS()
		s, err := wal.OpenSharedStorage(crashDir, sharedCrashOpts(fs))
		if err != nil {
			t.Fatal(err)
		}
		if err := sharedStorageRun(s, seed, newOracles()); err != nil {
			t.Fatal(err)
		}
		total := fs.ops
		for at := 1; at <= total+1; at++ {
			for d := 0; d < draws; d++ {
				mode := []crashMode{loseAll, tear}[min(d, 1)]
				if msg := sharedStorageCrashAt(seed, at, mode, uint64(d)); msg != "" {
					t.Fatalf("seed %d, crash before operation %d of %d, mode %d, draw %d: %s", seed, at, total, mode, d, msg)
				}
			}
		}
	}
}

// newOracles returns an empty oracle per group.
func newOracles() map[uint64]*oracle {
	out := map[uint64]*oracle{}
	for _, g := range sharedCrashGroups {
		out[g] = &oracle{states: []crashState{{}}}
	}
	return out
}

// sharedStorageCrashAt runs seed's sequences, crashing before operation at,
// and checks every group of the reopened storage. It returns what is
// wrong, or "".
func sharedStorageCrashAt(seed uint64, at int, mode crashMode, draw uint64) string {
	fs := newCrashFS()
	fs.failAt = at
	oracles := newOracles()
	s, err := wal.OpenSharedStorage(crashDir, sharedCrashOpts(fs))
	if err == nil {
		err = sharedStorageRun(s, seed, oracles)
	}
	if err != nil && !errors.Is(err, errCrashed) {
		return fmt.Sprintf("the sequences failed: %v", err)
	}
	fs.crash(mode, rand.New(rand.NewPCG(seed, uint64(at)<<8|draw)))
	s, err = wal.OpenSharedStorage(crashDir, sharedCrashOpts(fs))
	if err != nil {
		return fmt.Sprintf("reopening after the crash: %v", err)
	}
	defer s.Close()
	for _, g := range sharedCrashGroups {
		st, err := s.Group(g)
		if err != nil {
			return fmt.Sprintf("group %d: %v", g, err)
		}
		got, err := servedState(st)
		if err != nil {
			return fmt.Sprintf("group %d: %v", g, err)
		}
		o, key := oracles[g], stateKey(got)
		if !slices.ContainsFunc(o.states[o.acked:], func(s crashState) bool { return bytes.Equal(stateKey(s), key) }) {
			return fmt.Sprintf("group %d serves a state its calls never made, or one before its last acknowledged: %+v", g, got)
		}
	}
	return ""
}
