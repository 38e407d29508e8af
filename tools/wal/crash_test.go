package wal_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// The crash tests run a seeded sequence of saves, compactions and
// installed snapshots through a Storage on the page-cache model
// (crashfs_test.go), crash it at every mutating file-system operation in
// turn, with what was not durable lost, kept, or torn at random, reopen,
// and check three things: what was acknowledged (a synced call returned)
// survives; nothing is presented that the node did not write, in the
// contract's order (a hard state never without the entries and snapshot
// before it); and every loss of synced data the log can see (a segment
// removed, a segment cut short) is refused with raft.ErrLostLog naming
// the file. The states allowed after a crash are computed by the test
// from the calls made, not read from the log.
//
// TICKRAFT_WAL_CRASH=N runs N seeds with more draws per crash point
// (default: one seed, three draws).

// crashDir is where the Storage lives in the model.
const crashDir = "/node"

// crashOpts is the Storage's options on the model: segments of a few
// records each, so that the sequence rolls over and releases many.
func crashOpts(fs *crashFS) wal.Options { return wal.Options{SegmentBytes: 1024, FS: fs} }

// crashState is what a Storage serves, as the oracle knows it.
type crashState = storageState

// oracle follows the calls the workload makes and lists every state the
// storage passed through, in order, the contract's intermediate states
// included.
type oracle struct {
	states []crashState
	// acked is the index in states of the last state a synced call made
	// durable.
	acked int
}

// cur returns the current state.
func (o *oracle) cur() crashState { return o.states[len(o.states)-1] }

// push records a new state.
func (o *oracle) push(s crashState) {
	s.Entries = slices.Clone(s.Entries)
	o.states = append(o.states, s)
}

// save records the states of one Save, in the contract's order: the
// snapshot, then the entries, then the hard state.
func (o *oracle) save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) {
	s := o.cur()
	if !snap.IsEmpty() {
		s.Snap, s.Data, s.CS, s.Entries = snap.Metadata, snap.Data, snap.Metadata.ConfState, nil
		o.push(s)
	}
	if len(ents) > 0 {
		keep := int(ents[0].Index - s.Snap.Index - 1)
		s.Entries = append(slices.Clone(s.Entries[:keep]), ents...)
		o.push(s)
	}
	if !hs.IsEmpty() && hs != s.HS {
		s.HS = hs
		o.push(s)
	}
}

// compact records a snapshot of the node's own at index.
func (o *oracle) compact(index uint64, data []byte) {
	s := o.cur()
	term := s.Entries[index-s.Snap.Index-1].Term
	s.Entries = s.Entries[index-s.Snap.Index:]
	s.Snap = raftpb.SnapshotMetadata{Index: index, Term: term, ConfState: s.CS}
	s.Data = data
	o.push(s)
}

// crashStorage is what a workload drives: a Storage, or one group's
// storage on a SharedStorage.
type crashStorage interface {
	Bootstrap(raftpb.ConfState) error
	Save(raft.Ready) error
	Compact(index uint64, cs raftpb.ConfState, data []byte) error
}

// workload drives a Storage through a seeded sequence and tells the
// oracle. It stops at the first error (the crash) and returns it.
type workload struct {
	rng   *rand.Rand
	steps int
}

// run performs the sequence on st.
func (w workload) run(st crashStorage, o *oracle) error {
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	s := o.cur()
	s.CS = cs
	s.Snap.ConfState = cs
	o.push(s)
	if err := st.Bootstrap(cs); err != nil {
		return err
	}
	o.acked = len(o.states) - 1
	term := uint64(1)
	for i := 0; i < w.steps; i++ {
		if err := w.step(st, o, &term); err != nil {
			return err
		}
	}
	return nil
}

// step makes one call.
func (w workload) step(st crashStorage, o *oracle, term *uint64) error {
	s := o.cur()
	last := s.Snap.Index + uint64(len(s.Entries))
	switch r := w.rng.IntN(20); {
	case r == 0 && s.HS.Commit > s.Snap.Index:
		// A snapshot of the node's own at its commit index.
		index := s.Snap.Index + 1 + w.rng.Uint64N(s.HS.Commit-s.Snap.Index)
		data := []byte("state at " + strconv.FormatUint(index, 10))
		o.compact(index, data)
		if err := st.Compact(index, s.CS, data); err != nil {
			return err
		}
		o.acked = len(o.states) - 1
		return nil
	case r == 1:
		// A snapshot from a new leader, past the log: it replaces it.
		*term++
		index := last + 1 + w.rng.Uint64N(3)
		snap := raftpb.Snapshot{Data: []byte(fmt.Sprintf("leader's state at %d", index)),
			Metadata: raftpb.SnapshotMetadata{Index: index, Term: *term, ConfState: s.CS}}
		hs := raftpb.HardState{Term: *term, Vote: s.HS.Vote, Commit: index}
		return w.save(st, o, hs, nil, snap, true)
	}
	// Entries, now and then from a new leader overwriting the uncommitted
	// tail, with a hard state.
	from := last + 1
	if w.rng.IntN(6) == 0 && last > s.HS.Commit {
		*term++
		from = s.HS.Commit + 1 + w.rng.Uint64N(last-s.HS.Commit)
	}
	ents := make([]raftpb.Entry, w.rng.IntN(4))
	for i := range ents {
		data := make([]byte, 10+w.rng.IntN(300))
		for j := range data {
			data[j] = byte('a' + w.rng.IntN(26))
		}
		ents[i] = raftpb.Entry{Index: from + uint64(i), Term: *term, Data: data}
	}
	newLast := last
	if len(ents) > 0 {
		newLast = from + uint64(len(ents)) - 1
	}
	hs := raftpb.HardState{Term: *term, Vote: uint64(1 + *term%3), Commit: s.HS.Commit}
	if newLast > hs.Commit && w.rng.IntN(2) == 0 {
		hs.Commit = min(newLast, from-1+uint64(w.rng.IntN(3)))
		hs.Commit = max(hs.Commit, s.HS.Commit)
	}
	mustSync := len(ents) > 0 || hs.Term != s.HS.Term || hs.Vote != s.HS.Vote
	return w.save(st, o, hs, ents, raftpb.Snapshot{}, mustSync)
}

// save makes one Save and tells the oracle.
func (w workload) save(st crashStorage, o *oracle, hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot, sync bool) error {
	// The oracle first: the states of a Save that crashes midway are
	// allowed after the crash.
	o.save(hs, ents, snap)
	if err := st.Save(raft.Ready{HardState: hs, Entries: ents, Snapshot: snap, MustSync: sync}); err != nil {
		return err
	}
	if sync {
		o.acked = len(o.states) - 1
	}
	return nil
}

// stateKey encodes a state for comparing (cmp.Equal is too slow for the
// thousands of comparisons a run makes).
func stateKey(s crashState) []byte {
	b := s.HS.AppendMarshal(nil)
	b = s.CS.AppendMarshal(append(b, '|'))
	b = s.Snap.AppendMarshal(append(b, '|'))
	b = append(strconv.AppendInt(append(b, '|'), int64(len(s.Data)), 10), s.Data...)
	for i := range s.Entries {
		b = s.Entries[i].AppendMarshal(append(b, '|'))
	}
	return b
}

// crashSeeds returns the seeds to run and the draws per crash point.
func crashSeeds(t *testing.T) (seeds []uint64, draws int) {
	n, draws := 1, 2
	if v := os.Getenv("TICKRAFT_WAL_CRASH"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("TICKRAFT_WAL_CRASH=%q: %v", v, err)
		}
		draws = 8
	}
	for i := 1; i <= n; i++ {
		seeds = append(seeds, uint64(i))
	}
	return seeds, draws
}

// Claim: crashed at every write boundary of a sequence of saves and
// compactions, with unsynced data lost, kept or torn, the storage opens
// again to a state the calls made, at or after the last acknowledged one,
// and every loss of synced data it can see is refused.
func TestCrashAtEveryWriteKeepsWhatWasAcknowledged(t *testing.T) {
	seeds, draws := crashSeeds(t)
	injected := map[string]int{}
	for _, seed := range seeds {
		total := countOps(seed)
		for at := 1; at <= total+1; at++ {
			for d := 0; d < draws+1; d++ {
				mode := []crashMode{loseAll, keepAll, tear}[min(d, 2)]
				if msg := crashAt(seed, at, mode, uint64(d), injected); msg != "" {
					t.Fatalf("seed %d, crash before operation %d of %d, mode %d, draw %d: %s", seed, at, total, mode, d, msg)
				}
			}
		}
	}
	for _, kind := range lossKinds {
		t.Logf("%s: injected %d times", kind, injected[kind])
		if injected[kind] == 0 {
			t.Errorf("never injected: %s", kind)
		}
	}
}

// crashSteps is the length of each seed's sequence.
const crashSteps = 60

// countOps runs a seed's sequence without a crash and returns how many
// mutating operations it makes.
func countOps(seed uint64) int {
	fs := newCrashFS()
	st, err := wal.OpenStorage(crashDir, crashOpts(fs))
	if err != nil {
		panic(err)
	}
	o := &oracle{states: []crashState{{}}}
	if err := (workload{rng: rand.New(rand.NewPCG(seed, 0)), steps: crashSteps}).run(st, o); err != nil {
		panic(err)
	}
	return fs.ops
}

// crashAt runs seed's sequence, crashing before operation at, and checks
// the reopened storage, counting the losses it then injects in injected.
// It returns what is wrong, or "".
func crashAt(seed uint64, at int, mode crashMode, draw uint64, injected map[string]int) string {
	fs := newCrashFS()
	fs.failAt = at
	o := &oracle{states: []crashState{{}}}
	st, err := wal.OpenStorage(crashDir, crashOpts(fs))
	if err == nil {
		err = (workload{rng: rand.New(rand.NewPCG(seed, 0)), steps: crashSteps}).run(st, o)
	}
	if err != nil && !errors.Is(err, errCrashed) {
		return fmt.Sprintf("the sequence failed: %v", err)
	}
	fs.crash(mode, rand.New(rand.NewPCG(seed, uint64(at)<<8|draw)))
	st, err = wal.OpenStorage(crashDir, crashOpts(fs))
	if err != nil {
		return fmt.Sprintf("reopening after the crash: %v", err)
	}
	got, err := servedState(st)
	if err != nil {
		return err.Error()
	}
	key := stateKey(got)
	j := slices.IndexFunc(o.states[o.acked:], func(s crashState) bool { return bytes.Equal(stateKey(s), key) })
	if j < 0 {
		return fmt.Sprintf("the storage serves a state the calls never made, or one before the last acknowledged:\n%s",
			cmp.Diff(o.states[o.acked], got, cmpopts.EquateEmpty()))
	}
	// Write on past a rollover, so that the manifest written at open no
	// longer names the newest segment and the seals must.
	last := got.Snap.Index + uint64(len(got.Entries))
	more := make([]raftpb.Entry, 3)
	for i := range more {
		more[i] = raftpb.Entry{Index: last + 1 + uint64(i), Term: got.HS.Term, Data: bytes.Repeat([]byte{'m'}, 400)}
	}
	if err := st.Save(raft.Ready{Entries: more, MustSync: true}); err != nil {
		return fmt.Sprintf("saving after the crash: %v", err)
	}
	if err := st.Close(); err != nil {
		return fmt.Sprintf("closing: %v", err)
	}
	fs.settle()
	return checkLossesDetected(fs, injected)
}

// The kinds of synced data lost that checkLossesDetected injects; the
// crash test requires each to be injected at least once.
const (
	lossNewestRemoved  = "the newest segment removed"
	lossOldestRemoved  = "the oldest segment removed"
	lossOlderFlipped   = "a synced byte of a segment before the newest flipped"
	lossNewestFlipped  = "a synced byte of the newest segment flipped"
	lossCutAtSyncedEnd = "the newest segment cut at a synced end"
	lossCutInsideWrite = "the newest segment cut inside its last synced write"
	lossCutByOneByte   = "the newest segment cut by one byte"
)

var lossKinds = []string{lossNewestRemoved, lossOldestRemoved, lossOlderFlipped, lossNewestFlipped,
	lossCutAtSyncedEnd, lossCutInsideWrite, lossCutByOneByte}

// loss is a damage done to a settled log: what it is, the base names of
// the files a refusal may name (space-separated), and the damage.
type loss struct {
	what string
	file string
	do   func(*crashFS)
}

// modelLosses returns the damages checkLossesDetected makes to the
// settled log in dir, placed by the file-system model (see there), or
// why it cannot.
func modelLosses(fs *crashFS, dir string) ([]loss, string) {
	var segs []string // oldest first: the names begin with the sequence number in hex
	for _, p := range fs.files(dir) {
		if path.Dir(p) == dir && strings.HasSuffix(p, ".wal") {
			segs = append(segs, p)
		}
	}
	if len(segs) == 0 {
		return nil, "no segment in the settled log"
	}
	var losses []loss
	newest := segs[len(segs)-1]
	// The manifest names the newest segment when no rollover followed the
	// last open or release, and the seal of the one before names it when
	// there is one: either names the loss.
	newestNamers := "SEGMENTS"
	if len(segs) > 1 {
		newestNamers += " " + path.Base(segs[len(segs)-2])
	}
	flip := func(p string, at int64) func(*crashFS) {
		return func(c *crashFS) {
			data, _ := c.ReadFile(p)
			data[at] ^= 0xff
			c.rewrite(p, data)
		}
	}
	cut := func(p string, at int64) func(*crashFS) {
		return func(c *crashFS) {
			data, _ := c.ReadFile(p)
			c.rewrite(p, data[:at])
		}
	}
	losses = append(losses, loss{lossNewestRemoved, newestNamers, func(c *crashFS) { c.remove(newest) }})
	if len(segs) > 1 {
		oldest, prev := segs[0], segs[len(segs)-2]
		losses = append(losses, loss{lossOldestRemoved, "SEGMENTS", func(c *crashFS) { c.remove(oldest) }})
		if ends := fs.syncedPrefixes(prev); len(ends) > 1 {
			losses = append(losses, loss{lossOlderFlipped, path.Base(prev), flip(prev, ends[len(ends)-2]-1)})
		}
	}
	if ends := fs.syncedPrefixes(newest); len(ends) > 1 {
		e, last := ends[len(ends)-2], ends[len(ends)-1]
		losses = append(losses,
			loss{lossNewestFlipped, path.Base(newest), flip(newest, e-1)},
			loss{lossCutAtSyncedEnd, path.Base(newest), cut(newest, e)},
			loss{lossCutInsideWrite, path.Base(newest), cut(newest, (e+last)/2)})
	}
	if data, _ := fs.ReadFile(newest); len(data) > 1 {
		losses = append(losses, loss{lossCutByOneByte, path.Base(newest), cut(newest, int64(len(data)-1))})
	}
	return losses, ""
}

// checkLossesDetected removes, damages or cuts, in turn, each segment of a
// settled log and checks that the open refuses with raft.ErrLostLog
// naming the damaged file; it counts the kinds it injected in injected.
// Where to damage comes from the file-system model, never from the log's
// own parse: the segments are the files the log keeps, and a synced byte
// is one the writes had reached when the file was synced
// (crashFS.syncedPrefixes), followed by data synced later, whose records
// say it was synced. Damage: a segment removed (the oldest, the newest);
// the last byte of the second-newest synced prefix flipped, in the newest
// segment and in the one before it; the newest cut short at that prefix's
// end, inside the write synced after it, and by one byte.
func checkLossesDetected(fs *crashFS, injected map[string]int) string {
	losses, msg := modelLosses(fs, path.Join(crashDir, "wal"))
	if msg != "" {
		return msg
	}
	for _, l := range losses {
		c := fs.clone()
		l.do(c)
		injected[l.what]++
		st, err := wal.OpenStorage(crashDir, crashOpts(c))
		if err == nil {
			st.Close()
			return fmt.Sprintf("%s: the storage opened", l.what)
		}
		var ce *wal.CorruptionError
		if !errors.Is(err, raft.ErrLostLog) || !errors.As(err, &ce) || !slices.Contains(strings.Fields(l.file), path.Base(ce.File)) {
			return fmt.Sprintf("%s: open = %v, want a lost log naming %s", l.what, err, l.file)
		}
	}
	return ""
}
