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
				pc.t.Fatalf("process %d: get %s (index %d in its group): %v", p.ID, key, idx, err)
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

// Claim: per-group membership across real processes: four kvexample
// processes of 4 groups started with -group-voters 1,2,3 (the fourth
// holds no group); the fourth is added to group 2, promoted and handed
// its leadership, serves group 2's writes, and after a SIGKILL and a
// restart from its disk still holds group 2 alone with every
// acknowledged write of it; a process removed from group 2 and
// SIGKILLed and restarted no longer holds group 2 but holds the others.
func TestProcessesChangeOneGroupsMembership(t *testing.T) {
	pc := startProcCluster(t, 4, "-groups", "4", "-group-voters", "1,2,3", "-insecure-admin", "-snapshot-interval", "8")
	pc.waitFor("a leader in every group", 15*time.Second, func() bool { return groupsLed(pc.hostStatuses()) })
	const g = 2
	ctx := pc.ctx(60 * time.Second)
	put := func(prefix string, n int, acked map[string]uint64) {
		for i := 0; len(acked) < n; i++ {
			k := fmt.Sprintf("%s-%d", prefix, i)
			if kvnode.GroupOf(k, 4) != g {
				continue
			}
			idx, err := pc.c.Put(ctx, k, []byte("v-"+k))
			if err != nil {
				t.Fatalf("put %s: %v", k, err)
			}
			acked[k] = idx
		}
	}
	acked := map[string]uint64{}
	put("before", 20, acked)
	for _, step := range []struct {
		what string
		do   func() error
	}{
		{"add process 4 to group 2", func() error { return pc.c.AddGroupLearner(ctx, g, 4) }},
		{"promote it", func() error { return pc.c.PromoteGroupMember(ctx, g, 4) }},
		{"hand it group 2", func() error { return pc.c.TransferGroupLeader(ctx, g, 4) }},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
	}
	put("after", 30, acked)
	hosted := func(id uint64, want ...uint64) {
		t.Helper()
		pc.waitFor(fmt.Sprintf("process %d to hold groups %v", id, want), 15*time.Second, func() bool {
			st, err := pc.c.HostStatus(ctx, pc.peer(id).HTTPAddr)
			if err != nil || len(st.PerGroup) != len(want) {
				return false
			}
			for i, gs := range st.PerGroup {
				if gs.Group != want[i] {
					return false
				}
			}
			return true
		})
	}
	pc.kill(4)
	pc.start(4)
	hosted(4, g)
	for k, idx := range acked {
		res, err := getApplied(ctx, pc.c, pc.peer(4).HTTPAddr, k, idx)
		if err != nil || !res.Found || res.Value != "v-"+k {
			t.Fatalf("process 4: %s (index %d): %+v, %v", k, idx, res, err)
		}
	}
	// A voter of group 2 that does not lead it (its leader cannot be
	// removed; process 4's restart may have moved the leadership).
	var victim uint64
	pc.waitFor("a leader of group 2", 15*time.Second, func() bool {
		st, err := pc.c.HostStatus(ctx, pc.peer(4).HTTPAddr)
		if err != nil || len(st.PerGroup) != 1 || st.PerGroup[0].Leader == 0 {
			return false
		}
		victim = st.PerGroup[0].Leader%3 + 1
		return true
	})
	if err := pc.c.RemoveGroupMember(ctx, g, victim); err != nil {
		t.Fatalf("removing process %d from group 2: %v", victim, err)
	}
	hosted(victim, 1, 3, 4)
	pc.kill(victim)
	pc.start(victim)
	hosted(victim, 1, 3, 4)
	put("last", 35, acked)
}
