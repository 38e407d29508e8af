package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tickraft/raft/tools/checker"
	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// groupFaultModes are the fault test's modes for processes of groups
// groups: the read modes (ReadIndex, lease). A multi-group process has
// one storage loop (its rounds), so -sync does not apply; a snapshot
// every 16 entries of a group makes restarts and laggards restore from
// snapshots.
func groupFaultModes(groups int) []faultMode {
	flags := []string{"-groups", fmt.Sprint(groups), "-snapshot-interval", "16"}
	return []faultMode{
		{"groups-readindex", flags, kvnode.ConsistencyLinearizable},
		{"groups-lease", append([]string{"-lease-reads"}, flags...), kvnode.ConsistencyLease},
	}
}

// groupFaultKeys returns up to eight registers that fall in as many
// different groups of groups (kvnode.GroupOf), so that the history spans
// groups led by different processes.
func groupFaultKeys(groups int) []string {
	var keys []string
	seen := map[uint64]bool{}
	for i := 0; len(keys) < min(groups, 8); i++ {
		k := fmt.Sprintf("f%d", i)
		if g := kvnode.GroupOf(k, groups); !seen[g] {
			seen[g] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// testGroupFaultMode is testFaultMode for processes of run.groups groups:
// the same nemesis (its "leader" is the process leading the most
// groups), clients and checks, with every wait for a leader or a caught-up
// process asked of every group, and the keys spread over groups. The
// history is checked key by key, so each key's operations are judged
// against its own group's order.
func testGroupFaultMode(t *testing.T, mode faultMode, run faultRun) {
	pc := startProcCluster(t, run.nodes, mode.flags...)
	keys := groupFaultKeys(run.groups)
	led := func() {
		pc.waitFor("a leader in every group", 20*time.Second, func() bool { return groupsLed(pc.hostStatuses()) })
	}
	led()
	h := newOpHistory()
	w := startWorkload(pc, h, keys, mode.consistency, 3, 3)
	t.Cleanup(w.halt) // before the processes are killed (cleanups run last first)
	fresh := startWriters(pc, "u", 2)
	t.Cleanup(func() { fresh.halt() })
	nem := &nemesis{pc: pc, h: h, run: run, rng: rand.New(rand.NewPCG(run.seed, run.seed^0x9e3779b97f4a7c15)),
		faults: map[uint64]string{}, since: map[uint64]time.Time{}, leaderAmong: pc.mostLeadingAmong}
	for i := 0; i < run.steps; i++ {
		nem.step()
		time.Sleep(nem.gap())
	}
	nem.healAll()
	led()
	time.Sleep(calm) // operations after the heal, on the healed cluster
	w.halt()
	acked := fresh.halt()
	for _, p := range pc.peers {
		pc.waitCaughtUpInEveryGroup(p.ID)
	}
	pc.checkGroupAcked(acked)
	for _, p := range pc.peers {
		groupFinalReads(pc, h, p.ID, keys, run.groups)
	}
	ops := h.all()
	if err := checker.CheckLinearizable(ops); err != nil {
		t.Fatalf("seed %d, %d groups, %d operations: %v\nnemesis (times in ns of the test's clock):%s", run.seed, run.groups, len(ops), err, nem.logText())
	}
	writes, pending, reads := countOps(ops)
	if writes == 0 || reads == 0 || len(acked) == 0 || nem.injected == 0 {
		t.Fatalf("%d acknowledged writes, %d reads, %d fresh keys, %d faults: the run judges nothing", writes, reads, len(acked), nem.injected)
	}
	t.Logf("seed %d, %d groups, keys %v: %d faults; %d operations linearizable: %d acknowledged writes, %d of unknown outcome, %d reads (%d failed reads left out); %d fresh keys on every process",
		run.seed, run.groups, keys, nem.injected, len(ops), writes, pending, reads, h.failedReads.Load(), len(acked))
}

// mostLeadingAmong returns the process of ids that leads the most
// groups, or 0 if none answers leading one.
func (pc *procCluster) mostLeadingAmong(ids []uint64) uint64 {
	var best uint64
	most := 0
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := pc.c.HostStatus(ctx, pc.peer(id).HTTPAddr)
		cancel()
		if err == nil && st.Leading > most {
			best, most = id, st.Leading
		}
	}
	return best
}

// groupFinalReads reads every key on process id, locally once it has
// applied what the leader of the key's group had committed, and records
// the reads in the history.
func groupFinalReads(pc *procCluster, h *opHistory, id uint64, keys []string, groups int) {
	pc.t.Helper()
	sts := pc.hostStatuses()
	if !groupsLed(sts) {
		pc.t.Fatalf("not every group has a leader that answers")
	}
	for _, key := range keys {
		g := kvnode.GroupOf(key, groups)
		lead := sts[id].PerGroup[g-1].Leader
		commit := sts[lead].PerGroup[g-1].Commit
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		inv := h.now()
		res, err := getApplied(ctx, pc.c, pc.peer(id).HTTPAddr, key, commit)
		ret := h.now()
		cancel()
		if err != nil {
			pc.t.Fatalf("process %d: final read of %s (group %d): %v", id, key, g, err)
		}
		h.add(checker.Op{Client: 1<<32 + id, Kind: checker.OpRead, Key: key, Value: res.Value, Invoke: inv, Return: ret})
	}
}
