package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// hostStatuses returns the status of every running process of a
// multi-group cluster, or nil if one does not answer.
func (pc *procCluster) hostStatuses() map[uint64]*kvnode.HostStatus {
	pc.mu.Lock()
	ids := make([]uint64, 0, len(pc.procs))
	for id := range pc.procs {
		ids = append(ids, id)
	}
	pc.mu.Unlock()
	sts := map[uint64]*kvnode.HostStatus{}
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := pc.c.HostStatus(ctx, pc.peer(id).HTTPAddr)
		cancel()
		if err != nil {
			return nil
		}
		sts[id] = st
	}
	return sts
}

// groupsLed reports whether every group has a leader among the running
// processes that all of them name.
func groupsLed(sts map[uint64]*kvnode.HostStatus) bool {
	if sts == nil {
		return false
	}
	lead := map[uint64]uint64{}
	for _, st := range sts {
		for _, g := range st.PerGroup {
			if g.Leader == 0 || sts[g.Leader] == nil || (lead[g.Group] != 0 && lead[g.Group] != g.Leader) {
				return false
			}
			lead[g.Group] = g.Leader
		}
	}
	return len(lead) > 0
}

// Claim: three kvexample processes of 8 groups each (-groups 8, a
// snapshot every 8 entries of a group, so that restarts restore from
// snapshots), writes
// in flight; the process leading the most groups is SIGKILLed, the groups
// it led elect new leaders among the other two and keep acknowledging
// writes, and the killed process, restarted from its disk, catches up in
// every group and then holds every acknowledged write, as do the others;
// and again after a second SIGKILL and restart with nothing to catch up
// on (every group restored from the process's own disk).
func TestSIGKILLedHostLeadingGroupsLosesNoAcknowledgedWrite(t *testing.T) {
	pc := startProcCluster(t, 3, "-groups", "8", "-snapshot-interval", "8")
	pc.waitFor("a leader in every group", 15*time.Second, func() bool { return groupsLed(pc.hostStatuses()) })
	w := startWriters(pc, "g", 8)
	w.waitCount(0, 150)
	var victim uint64
	most := 0
	for id, st := range pc.hostStatuses() {
		if st.Leading > most {
			victim, most = id, st.Leading
		}
	}
	if most == 0 {
		t.Fatal("no process leads a group")
	}
	pc.kill(victim)
	killedAt := w.count()
	w.waitCount(killedAt, 150)
	acked := w.halt()
	pc.waitFor("new leaders in every group", 15*time.Second, func() bool { return groupsLed(pc.hostStatuses()) })
	pc.start(victim)
	pc.waitCaughtUpInEveryGroup(victim)
	pc.checkGroupAcked(acked)
	// Up to date now, the process is killed again and restarts with no
	// write in between: no leader sends it a snapshot, so every group
	// must come back from its own records and snapshot.
	pc.kill(victim)
	pc.start(victim)
	pc.waitCaughtUpInEveryGroup(victim)
	pc.checkGroupAcked(acked)
	t.Logf("process %d led %d of 8 groups when killed; %d writes acknowledged (%d failed after retries), %d after the kill",
		victim, most, len(acked), w.fails, len(acked)-killedAt)
}

// waitCaughtUpInEveryGroup waits until process id has applied, in every
// group, the commit index its leader reports.
func (pc *procCluster) waitCaughtUpInEveryGroup(id uint64) {
	pc.t.Helper()
	pc.waitFor(fmt.Sprintf("process %d to catch up in every group", id), 20*time.Second, func() bool {
		sts := pc.hostStatuses()
		if !groupsLed(sts) || sts[id] == nil {
			return false
		}
		for i, g := range sts[id].PerGroup {
			if g.Applied < sts[g.Leader].PerGroup[i].Commit {
				return false
			}
		}
		return true
	})
}

// checkGroupAcked reads every acknowledged key from every process, locally
// at the index its write returned in its group.
func (pc *procCluster) checkGroupAcked(acked map[string]uint64) {
	pc.t.Helper()
	ctx := pc.ctx(30 * time.Second)
	for _, p := range pc.peers {
		for key, idx := range acked {
			res, err := getApplied(ctx, pc.c, p.HTTPAddr, key, idx)
			if err != nil {
				pc.t.Fatalf("process %d: get %s (group %d, index %d): %v", p.ID, key, kvnode.GroupOf(key, 8), idx, err)
			}
			if !res.Found || res.Value != "v-"+key {
				pc.t.Fatalf("process %d lost acknowledged write %s: got %+v", p.ID, key, res)
			}
		}
	}
}

// getApplied reads key locally from addr once the process has applied
// minIndex in the key's group, asking again while it answers that it lags.
func getApplied(ctx context.Context, c *kvnode.Client, addr, key string, minIndex uint64) (kvnode.KVResult, error) {
	for {
		res, err := c.Get(ctx, addr, key, kvnode.ConsistencyLocal, minIndex)
		var e *kvnode.Error
		if !errors.As(err, &e) || e.Code != kvnode.CodeTimeout || ctx.Err() != nil {
			return res, err
		}
	}
}
