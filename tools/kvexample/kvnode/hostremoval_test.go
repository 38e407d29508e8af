package kvnode

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
)

// This file tests the ways a removed replica leaves its process: told by
// a removed notice naming an entry it holds or lacks, or after an
// election timeout of silence once its configuration excludes its
// process, however it got there (see the package documentation,
// "Per-group membership").

// setDrop makes hc's network lose the messages drop matches (nil: none).
func (hc *hostCluster) setDrop(drop func(groupMsg) bool) {
	hc.hub.mu.Lock()
	hc.hub.drop = drop
	hc.hub.mu.Unlock()
}

// electionTimeout is the hosts' election timeout in time.
func (hc *hostCluster) electionTimeout() time.Duration {
	return time.Duration(hc.base.ElectionTicks) * hc.base.TickInterval
}

// awaitDropped waits, at most within ctx, until host id no longer lists
// group g, then checks it by its HostsGroup and the disk model's
// tombstone.
func awaitDropped(ctx context.Context, t *testing.T, hc *hostCluster, id, g uint64, what string) {
	t.Helper()
	awaitHosts(ctx, t, hc, what, func(sts map[uint64]*HostStatus) bool { return sts[id].Group(g) == nil })
	if hc.hosts[id].HostsGroup(g) {
		t.Fatalf("host %d: HostsGroup(%d) after the drop", id, g)
	}
	if held, _, dropped := hc.logs[id].holds(g); held || !dropped {
		t.Fatalf("host %d: its log holds group %d: %v, tombstone: %v", id, g, held, dropped)
	}
}

// Claim: a removed replica whose log holds its removal entry but that
// never heard that the entry is committed (every message carrying the
// commit index was lost) is dropped: the removed notice a member answers
// its vote requests with names the entry, the replica holds it with that
// term, learns it committed, applies its removal and falls silent; the
// notices then stop.
func TestARemovedReplicaHoldingItsRemovalLearnsItCommittedFromTheNotice(t *testing.T) {
	hc, w, ctx, lead := membersCluster(t, 3, 2, false, 30*time.Second, true)
	const g = 1
	victim := lead[g]%3 + 1
	putGroupKeys(ctx, t, hc, "pad", g, 5)
	st, err := hc.status(ctx, lead[g])
	if err != nil {
		t.Fatal(err)
	}
	removal := st.Group(g).Applied + 1
	// The victim never receives a commit index at or past its removal,
	// and the wire shows it received the entry.
	var received atomic.Bool
	hc.setDrop(func(gm groupMsg) bool {
		if gm.Group != g || gm.Message.To != victim {
			return false
		}
		if gm.Message.Commit >= removal {
			return true
		}
		for _, e := range gm.Message.Entries {
			if e.Index == removal {
				received.Store(true)
			}
		}
		return false
	})
	if err := hc.c.RemoveGroupMember(ctx, g, victim); err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(ctx, 20*hc.electionTimeout())
	defer dcancel()
	awaitDropped(dctx, t, hc, victim, g, "the replica holding its removal to be dropped")
	if !received.Load() {
		t.Fatalf("the case is not set up: the victim never received its removal at %d", removal)
	}
	n := w.count(w.notices, g, victim)
	if n == 0 {
		t.Fatal("the replica was dropped without a removed notice")
	}
	time.Sleep(3 * hc.electionTimeout())
	if after := w.count(w.notices, g, victim); after != n {
		t.Fatalf("%d removed notices sent after the drop", after-n)
	}
}

// Claim: a leader cut off from its group while it appended entries,
// removed by the others meanwhile, holds a log past the removal's index
// with another term at that index; the removed notice names the entry,
// so it is dropped (its divergent entries were never going to be
// committed) instead of staying a replica that members answer with a
// notice every election timeout.
func TestACutOffLeaderRemovedWithADivergentLogIsDropped(t *testing.T) {
	hc, _, ctx, lead := membersCluster(t, 3, 2, false, 30*time.Second, false)
	const g = 1
	p := lead[g]
	putGroupKeys(ctx, t, hc, "pad", g, 3)
	hc.setDrop(func(gm groupMsg) bool { return gm.Group == g && (gm.Message.To == p || gm.Message.From == p) })
	// Writes the cut-off leader appends and never commits.
	for _, k := range keysOfGroup("stale", g, hc.groups, 10) {
		req, _ := http.NewRequest(http.MethodPut, "http://"+hc.peers[p-1].HTTPAddr+"/kv/"+k, strings.NewReader("x"))
		cctx, c := context.WithTimeout(ctx, 20*time.Millisecond)
		if resp, err := http.DefaultClient.Do(req.WithContext(cctx)); err == nil {
			resp.Body.Close()
		}
		c()
	}
	awaitHosts(ctx, t, hc, "a new leader", func(sts map[uint64]*HostStatus) bool {
		for id, st := range sts {
			if gs := st.Group(g); id != p && gs != nil && gs.Leader == id {
				return true
			}
		}
		return false
	})
	if err := hc.c.RemoveGroupMember(ctx, g, p); err != nil {
		t.Fatalf("removing %d: %v", p, err)
	}
	st, err := hc.status(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	other := p%3 + 1
	ost, err := hc.status(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if old, now := st.Group(g), ost.Group(g); old == nil || now == nil || old.Term >= now.Term {
		t.Fatalf("the case is not set up: the cut-off leader %+v, a member %+v", old, now)
	}
	hc.setDrop(nil)
	dctx, dcancel := context.WithTimeout(ctx, 20*hc.electionTimeout())
	defer dcancel()
	awaitDropped(dctx, t, hc, p, g, "the cut-off leader's replica to be dropped")
}

// Claim: a process added to a group as a learner and removed before its
// snapshot arrived drops its empty replica (no configuration holds its
// process) once its leader falls silent, also when the process was down
// across the removal and opens the replica again; it holds nothing of the
// group after a restart.
func TestALearnerRemovedBeforeItsSnapshotArrivesDropsItsReplica(t *testing.T) {
	for _, down := range []bool{false, true} {
		t.Run(fmt.Sprintf("down=%v", down), func(t *testing.T) {
			hc, _, ctx, _ := membersCluster(t, 4, 2, false, 30*time.Second, false)
			const g = 1
			putGroupKeys(ctx, t, hc, "pad", g, 20)
			hc.setDrop(func(gm groupMsg) bool {
				return gm.Group == g && gm.Message.To == 4 && gm.Message.Type == raftpb.MsgSnap
			})
			if err := hc.c.AddGroupLearner(ctx, g, 4); err != nil {
				t.Fatal(err)
			}
			awaitHosts(ctx, t, hc, "the learner's empty replica", func(sts map[uint64]*HostStatus) bool { return sts[4].Group(g) != nil })
			if down {
				// Its term is durable once a round synced: it opens again.
				time.Sleep(hc.electionTimeout() / 2)
				hc.kill(4)
			}
			if err := hc.c.RemoveGroupMember(ctx, g, 4); err != nil {
				t.Fatal(err)
			}
			hc.setDrop(nil)
			if down {
				hc.start(4)
			}
			dctx, dcancel := context.WithTimeout(ctx, 20*hc.electionTimeout())
			defer dcancel()
			awaitDropped(dctx, t, hc, 4, g, "the removed learner's empty replica to be dropped")
			hc.kill(4)
			hc.start(4)
			expectHosted(t, hc, 4)
		})
	}
}

// Claim: a process that crashed after its replica applied its own
// removal, and before the replica was dropped, with a snapshot covering
// the removal (so that the restart applies no conf change), drops the
// replica after an election timeout of silence: its configuration, from
// the snapshot, excludes its process.
func TestACrashAfterApplyingItsRemovalUnderASnapshotStillDrops(t *testing.T) {
	cfg := membersConfig()
	cfg.ElectionTicks = 50 // time to crash between the apply and the drop
	hc := newHostClusterWith(t, 3, 2, false, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lead := awaitAllLed(ctx, t, hc)
	const g = 1
	victim := lead[g]%3 + 1
	for i := 0; ; i++ {
		st, err := hc.status(ctx, lead[g])
		if err != nil {
			t.Fatal(err)
		}
		if st.Group(g).Applied%cfg.SnapshotInterval == cfg.SnapshotInterval-1 {
			break
		}
		putGroupKeys(ctx, t, hc, fmt.Sprintf("pad%d", i), g, 1)
	}
	if err := hc.c.RemoveGroupMember(ctx, g, victim); err != nil {
		t.Fatal(err)
	}
	sts := awaitHosts(ctx, t, hc, "the victim to apply its removal", func(sts map[uint64]*HostStatus) bool {
		gs := sts[victim].Group(g)
		return gs != nil && !slices.Contains(gs.Voters, victim)
	})
	if gs := sts[victim].Group(g); gs.Snapshot != gs.Applied {
		t.Fatalf("the case is not set up: the victim's snapshot %d does not cover its removal (applied %d)", gs.Snapshot, gs.Applied)
	}
	hc.kill(victim)
	hc.start(victim)
	dctx, dcancel := context.WithTimeout(ctx, 10*hc.electionTimeout())
	defer dcancel()
	awaitDropped(dctx, t, hc, victim, g, "the replica opened from a snapshot without its process to be dropped")
}

// Claim: only a leader of a term at least the replica's own keeps a
// replica whose configuration excludes its process from being dropped:
// heartbeats of an older term (a stale leader's) keep coming to an empty
// replica created on demand, and it goes all the same, its tombstone in
// the log.
func TestAStaleLeaderDoesNotKeepAReplicaOutsideItsConfiguration(t *testing.T) {
	cfg := membersConfig()
	cfg.ElectionTicks = 50 // a heartbeat every 50 ms: a late one does not look like silence
	hc := newHostClusterWith(t, 4, 2, false, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	awaitAllLed(ctx, t, hc)
	const g = 1
	hc.inject(4, groupMsg{Group: g, Message: raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 4, Term: 50}})
	awaitHosts(ctx, t, hc, "the replica created on demand", func(sts map[uint64]*HostStatus) bool { return sts[4].Group(g) != nil })
	var term atomic.Uint64
	term.Store(49)
	stop := hc.keepAlive(4, g, 1, &term)
	defer stop()
	dctx, dcancel := context.WithTimeout(ctx, 8*hc.electionTimeout())
	defer dcancel()
	awaitDropped(dctx, t, hc, 4, g, "the replica to be dropped despite the stale heartbeats")
}

// Claim: a replica created over its group's tombstone by a leader of the
// tombstone's term moves one term past it at boot (recovering) without a
// vote; that leader's messages keep it all the same, and once they stop
// it is dropped again, its tombstone never below the term it reached.
func TestARecreatedReplicaHearsTheLeaderOfItsTombstonesTerm(t *testing.T) {
	hc, _, ctx, lead := membersCluster(t, 4, 2, false, 30*time.Second, false)
	const g = 1
	victim := lead[g]%3 + 1
	if err := hc.c.RemoveGroupMember(ctx, g, victim); err != nil {
		t.Fatal(err)
	}
	awaitDropped(ctx, t, hc, victim, g, "the removed replica to be dropped")
	_, tomb, _ := hc.logs[victim].holds(g)
	created := hc.logs[victim].created(g)
	hc.inject(victim, groupMsg{Group: g, Message: raftpb.Message{Type: raftpb.MsgHeartbeat, From: 4, To: victim, Term: tomb.Term}})
	awaitHosts(ctx, t, hc, "the replica re-created over the tombstone", func(sts map[uint64]*HostStatus) bool {
		gs := sts[victim].Group(g)
		return gs != nil && gs.Term == tomb.Term+1
	})
	var term atomic.Uint64
	term.Store(tomb.Term)
	stop := hc.keepAlive(victim, g, 4, &term)
	time.Sleep(5 * hc.electionTimeout())
	stop()
	if !hc.hosts[victim].HostsGroup(g) || hc.logs[victim].created(g)-created != 1 {
		t.Fatalf("the re-created replica was dropped while the leader of the tombstone's term spoke (hosted %v, created %d)",
			hc.hosts[victim].HostsGroup(g), hc.logs[victim].created(g)-created)
	}
	awaitDropped(ctx, t, hc, victim, g, "the re-created replica to be dropped")
	if _, again, _ := hc.logs[victim].holds(g); again.Term < tomb.Term+1 {
		t.Fatalf("the tombstone went from %+v to %+v", tomb, again)
	}
}

// Claim: a member restarted since a process's removal, its snapshot
// covering the removal (so that the restart applies no conf change), still
// tells the removed process: the notice names the member's last applied
// entry, which follows the removal, and needs no record of removals. The
// removed process, down during its removal, hears only that member (the
// leader's links to it are cut) and drops its replica.
func TestAMemberRestartedSinceTheRemovalStillTellsTheRemovedProcess(t *testing.T) {
	hc, w, ctx, lead := membersCluster(t, 3, 1, false, 60*time.Second, true)
	const g = 1
	leader := lead[g]
	victim := leader%3 + 1
	member := 6 - leader - victim
	hc.kill(victim)
	if err := hc.c.RemoveGroupMember(ctx, g, victim); err != nil {
		t.Fatalf("removing process %d from group %d: %v", victim, g, err)
	}
	removal := awaitHosts(ctx, t, hc, "the removal applied", func(map[uint64]*HostStatus) bool { return true })[member].Group(g).Applied
	// Enough writes after the removal for the member's snapshot to cover it.
	acked := putGroupKeys(ctx, t, hc, "after", g, 2*int(hc.base.SnapshotInterval))
	awaitHosts(ctx, t, hc, "the member's snapshot past the removal", func(sts map[uint64]*HostStatus) bool {
		gs := sts[member].Group(g)
		return gs != nil && gs.Snapshot > removal
	})
	hc.kill(member)
	hc.start(member)
	readsOn(ctx, t, hc, member, acked)
	hc.setDrop(func(gm groupMsg) bool {
		return gm.Group == g && (gm.Message.From == victim && gm.Message.To == leader ||
			gm.Message.From == leader && gm.Message.To == victim)
	})
	hc.start(victim)
	awaitDropped(ctx, t, hc, victim, g, "the removed replica to be dropped on the restarted member's notice")
	if w.count(w.notices, g, victim) == 0 {
		t.Fatal("the replica was dropped without a removed notice")
	}
}

// Claim: a process added to a group before the group's first snapshot
// still learns the whole configuration (the first voters are bootstrap
// state, in no entry: caught up from entries it would hold a
// configuration of itself alone), because every member snapshots at the
// conf change adding it; and a member that has not applied the addition
// follows the added process once it leads: the leader of a term was
// elected under a configuration holding it, so its appends and heartbeats
// at the member's term or above are stepped, not answered with a removed
// notice. The member's links are cut while process 4 is added, promoted
// and made leader, then restored; every replica must end with the same
// configuration, and the member must apply the writes made under the new
// leader.
func TestAMemberBehindAnAdditionFollowsTheAddedLeader(t *testing.T) {
	hc, _, ctx, lead := membersCluster(t, 4, 1, false, 60*time.Second, false)
	const g = 1
	leader := lead[g]
	member := leader%3 + 1
	hc.setDrop(func(gm groupMsg) bool { return gm.Message.To == member || gm.Message.From == member })
	if err := hc.c.AddGroupLearner(ctx, g, 4); err != nil {
		t.Fatal(err)
	}
	if err := hc.c.PromoteGroupMember(ctx, g, 4); err != nil {
		t.Fatal(err)
	}
	if err := hc.c.TransferGroupLeader(ctx, g, 4); err != nil {
		t.Fatal(err)
	}
	acked := putGroupKeys(ctx, t, hc, "new", g, 5)
	hc.setDrop(nil)
	top := maxIndex(acked, g, hc.groups)
	sts := awaitHosts(ctx, t, hc, "the member behind the addition to apply the new leader's writes", func(sts map[uint64]*HostStatus) bool {
		gs := sts[member].Group(g)
		return gs != nil && gs.Applied >= top && gs.Leader == 4
	})
	for id := uint64(1); id <= 4; id++ {
		if gs := sts[id].Group(g); gs == nil || !slices.Equal(gs.Voters, []uint64{1, 2, 3, 4}) || len(gs.Learners) != 0 {
			t.Fatalf("host %d: group %d %+v; want voters 1, 2, 3, 4", id, g, gs)
		}
	}
	readsOn(ctx, t, hc, member, acked)
}
