package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tickraft/raft/tools/checker"
	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// faultMode is one configuration of the server the fault test runs.
type faultMode struct {
	name  string
	flags []string
	// consistency is what the readers ask for.
	consistency string
}

// faultModes are the read modes (ReadIndex, lease) crossed with the
// storage modes (asynchronous writes, the synchronous Ready loop).
var faultModes = []faultMode{
	{"async-readindex", nil, kvnode.ConsistencyLinearizable},
	{"sync-readindex", []string{"-sync"}, kvnode.ConsistencyLinearizable},
	{"async-lease", []string{"-lease-reads"}, kvnode.ConsistencyLease},
	{"sync-lease", []string{"-sync", "-lease-reads"}, kvnode.ConsistencyLease},
}

// faultRun sizes one run of the fault test.
type faultRun struct {
	nodes int
	// steps is how many times the nemesis injects or heals a fault;
	// between steps it waits a random time in [minGap, maxGap).
	steps          int
	minGap, maxGap time.Duration
	// maxDown bounds how long a fault may last before it is healed.
	maxDown time.Duration
	seed    uint64
	// groups, above one, runs multi-group processes (-groups) and the
	// multi-group modes (fault_groups_test.go).
	groups int
}

// faultKeys are the registers the clients write and read.
var faultKeys = []string{"f0", "f1", "f2", "f3"}

// Claim: under a nemesis that SIGKILLs and restarts nodes (the leader
// more often than not) and pauses them with SIGSTOP/SIGCONT, while
// clients write unique values to a few keys and read them from every
// node, then heals everything: (1) every write acknowledged to a client
// is on every node (a writer of fresh keys, checked key by key on each
// node once it has caught up); (2) the whole history, timed by one
// monotonic clock in the test, with the final reads of every key on every
// node, is linearizable (tools/checker; a write without an answer counts
// as one that may or may not have happened). It runs in each read mode
// (ReadIndex, and -lease-reads with consistency=lease) and each storage
// mode (asynchronous writes, -sync). A server that acknowledges a write
// when it proposes it, before it commits, fails it.
//
// The default run is one short round per mode, three nodes, about 4 s
// each; the long run is five nodes and 60 nemesis steps per mode, several
// minutes in all:
//
//	TICKRAFT_LONG=1 go test -run TestFaultsKeepHistoryLinearizable -v -timeout 30m ./tools/kvexample
//
// TICKRAFT_FAULT_SEED=n replays the nemesis's choices (not the
// processes' timing) of a failed run; TICKRAFT_FAULT_MODE=name runs one
// mode; TICKRAFT_FAULT_GROUPS=n runs processes of n groups instead, in
// the multi-group modes (fault_groups_test.go).
func TestFaultsKeepHistoryLinearizable(t *testing.T) {
	run := faultRun{nodes: 3, steps: 8, minGap: 150 * time.Millisecond, maxGap: 450 * time.Millisecond, maxDown: 800 * time.Millisecond, seed: 1}
	if os.Getenv("TICKRAFT_LONG") != "" {
		run = faultRun{nodes: 5, steps: 60, minGap: 200 * time.Millisecond, maxGap: 1500 * time.Millisecond, maxDown: 3 * time.Second, seed: 1}
	}
	if s := os.Getenv("TICKRAFT_FAULT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("TICKRAFT_FAULT_SEED: %v", err)
		}
		run.seed = v
	}
	modes := faultModes
	if s := os.Getenv("TICKRAFT_FAULT_GROUPS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 2 {
			t.Fatalf("TICKRAFT_FAULT_GROUPS=%q: want a number of groups above one", s)
		}
		run.groups, modes = v, groupFaultModes(v)
	}
	only := os.Getenv("TICKRAFT_FAULT_MODE")
	for i, mode := range modes {
		if only != "" && only != mode.name {
			continue
		}
		r := run
		r.seed += uint64(i)
		t.Run(mode.name, func(t *testing.T) { testFaultMode(t, mode, r) })
	}
}

func testFaultMode(t *testing.T, mode faultMode, run faultRun) {
	if run.groups > 1 {
		testGroupFaultMode(t, mode, run)
		return
	}
	pc := startProcCluster(t, run.nodes, mode.flags...)
	pc.leader()
	h := newOpHistory()
	w := startWorkload(pc, h, faultKeys, mode.consistency, 2, 3)
	t.Cleanup(w.halt) // before the processes are killed (cleanups run last first)
	fresh := startWriters(pc, "u", 1)
	t.Cleanup(func() { fresh.halt() })
	nem := &nemesis{pc: pc, h: h, run: run, rng: rand.New(rand.NewPCG(run.seed, run.seed^0x9e3779b97f4a7c15)),
		faults: map[uint64]string{}, since: map[uint64]time.Time{}}
	for i := 0; i < run.steps; i++ {
		nem.step()
		time.Sleep(nem.gap())
	}
	nem.healAll()
	pc.leader()
	time.Sleep(calm) // operations after the heal, on the healed cluster
	w.halt()
	acked := fresh.halt()
	lead := pc.leader()
	for _, p := range pc.peers {
		pc.waitCaughtUp(p.ID)
		pc.checkAcked(p.ID, acked)
		finalReads(pc, h, p.ID)
	}
	ops := h.all()
	if err := checker.CheckLinearizable(ops); err != nil {
		t.Fatalf("seed %d, %d operations: %v\nnemesis (times in ns of the test's clock):%s", run.seed, len(ops), err, nem.logText())
	}
	writes, pending, reads := countOps(ops)
	if writes == 0 || reads == 0 || len(acked) == 0 || nem.injected == 0 {
		t.Fatalf("%d acknowledged writes, %d reads, %d fresh keys, %d faults: the run judges nothing", writes, reads, len(acked), nem.injected)
	}
	t.Logf("seed %d: %d faults; %d operations linearizable: %d acknowledged writes, %d of unknown outcome, %d reads (%d failed reads left out); %d fresh keys on every node; leader %d at the end",
		run.seed, nem.injected, len(ops), writes, pending, reads, h.failedReads.Load(), len(acked), lead)
}

// finalReads reads every key on node id, locally once it has applied what
// the leader had committed, and records the reads in the history.
func finalReads(pc *procCluster, h *opHistory, id uint64) {
	pc.t.Helper()
	st := pc.status(pc.leader())
	if st == nil {
		pc.t.Fatalf("the leader does not answer")
	}
	for _, key := range faultKeys {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		inv := h.now()
		res, err := pc.c.Get(ctx, pc.peer(id).HTTPAddr, key, kvnode.ConsistencyLocal, st.Commit)
		ret := h.now()
		cancel()
		if err != nil {
			pc.t.Fatalf("node %d: final read of %s: %v", id, key, err)
		}
		h.add(checker.Op{Client: 1<<32 + id, Kind: checker.OpRead, Key: key, Value: res.Value, Invoke: inv, Return: ret})
	}
}

// nemesis injects and heals faults: SIGKILL (the process is restarted
// when healed) and SIGSTOP (continued when healed), on the leader more
// often than not, never on more than a minority at once. Only the test's
// goroutine uses it.
type nemesis struct {
	pc  *procCluster
	h   *opHistory
	run faultRun
	rng *rand.Rand
	// faults is each faulty node's fault ("kill" or "stop"), and since
	// when, for healing.
	faults   map[uint64]string
	since    map[uint64]time.Time
	injected int
	log      []string
	// leaderAmong, when set, replaces the method of that name: the
	// multi-group run's picks the process leading the most groups.
	leaderAmong func(ids []uint64) uint64
}

// step heals a fault whose time is up or, when a minority is not yet
// faulty, injects one; otherwise it heals one.
func (nm *nemesis) step() {
	for id := range nm.faults {
		if time.Since(nm.since[id]) >= nm.run.maxDown {
			nm.heal(id)
			return
		}
	}
	if len(nm.faults) < (nm.run.nodes-1)/2 && nm.rng.IntN(4) != 0 {
		nm.inject()
		return
	}
	if ids := nm.faulty(); len(ids) > 0 {
		nm.heal(ids[nm.rng.IntN(len(ids))])
	} else {
		nm.inject()
	}
}

// gap is the wait before the next step.
func (nm *nemesis) gap() time.Duration {
	return nm.run.minGap + time.Duration(nm.rng.Int64N(int64(nm.run.maxGap-nm.run.minGap)))
}

// inject faults a node: the leader two times in three when one is known.
func (nm *nemesis) inject() {
	id := nm.victim()
	kind := "stop"
	if nm.rng.IntN(2) == 0 {
		kind = "kill"
	}
	nm.faults[id], nm.since[id] = kind, time.Now()
	nm.injected++
	nm.note("%s node %d", kind, id)
	if kind == "kill" {
		nm.pc.kill(id)
	} else {
		nm.pc.sendSignal(id, syscall.SIGSTOP)
	}
}

// victim picks the node to fault among the healthy ones.
func (nm *nemesis) victim() uint64 {
	var healthy []uint64
	for _, p := range nm.pc.peers {
		if nm.faults[p.ID] == "" {
			healthy = append(healthy, p.ID)
		}
	}
	if nm.rng.IntN(3) != 0 {
		pick := nm.singleLeaderAmong
		if nm.leaderAmong != nil {
			pick = nm.leaderAmong
		}
		if lead := pick(healthy); lead != 0 {
			return lead
		}
	}
	return healthy[nm.rng.IntN(len(healthy))]
}

// singleLeaderAmong returns the node of ids that reports itself leader,
// or 0.
func (nm *nemesis) singleLeaderAmong(ids []uint64) uint64 {
	for _, id := range ids {
		if st := nm.pc.status(id); st != nil && st.State == "StateLeader" {
			return id
		}
	}
	return 0
}

// heal ends node id's fault.
func (nm *nemesis) heal(id uint64) {
	kind := nm.faults[id]
	delete(nm.faults, id)
	nm.note("heal node %d (%s)", id, kind)
	if kind == "kill" {
		nm.pc.start(id)
	} else {
		nm.pc.sendSignal(id, syscall.SIGCONT)
	}
}

// healAll ends every fault.
func (nm *nemesis) healAll() {
	for _, id := range nm.faulty() {
		nm.heal(id)
	}
}

// faulty returns the faulty nodes in ID order.
func (nm *nemesis) faulty() []uint64 {
	ids := make([]uint64, 0, len(nm.faults))
	for id := range nm.faults {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (nm *nemesis) note(format string, args ...any) {
	nm.log = append(nm.log, fmt.Sprintf("%d: ", nm.h.now())+fmt.Sprintf(format, args...))
}

func (nm *nemesis) logText() string { return "\n\t" + strings.Join(nm.log, "\n\t") }
