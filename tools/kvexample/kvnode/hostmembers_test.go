package kvnode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// membersConfig is the configuration of the membership tests' hosts:
// every group starts on processes 1 to 3 (a fourth, if started, holds
// nothing), and the admin endpoints are open.
func membersConfig() Config {
	c := hostTestConfig()
	c.GroupVoters = []uint64{1, 2, 3}
	c.InsecureAdmin = true
	return c
}

// wireWatch is an oracle over what the memHub carried: the votes granted
// (a process must never grant two candidates in one term of a group), the
// snapshots sent and the removed notices, counted by group and receiver.
type wireWatch struct {
	mu      sync.Mutex
	votes   map[[3]uint64]uint64 // (group, voter, term) -> candidate
	doubles []string
	snaps   map[[2]uint64]int // (group, to)
	notices map[[2]uint64]int // (group, to)
	// seen, when set, is called with each message, under mu.
	seen func(groupMsg)
}

// watchWire installs a wireWatch on hc's hub.
func watchWire(hc *hostCluster) *wireWatch {
	w := &wireWatch{votes: map[[3]uint64]uint64{}, snaps: map[[2]uint64]int{}, notices: map[[2]uint64]int{}}
	hc.hub.mu.Lock()
	hc.hub.tap = w.see
	hc.hub.mu.Unlock()
	return w
}

// granted records that voter granted its vote in group's term to
// candidate, and a second candidate in the same term as a violation.
func (w *wireWatch) granted(group, voter, term, candidate uint64) {
	k := [3]uint64{group, voter, term}
	if prev, ok := w.votes[k]; ok && prev != candidate {
		w.doubles = append(w.doubles, fmt.Sprintf("group %d: process %d voted for %d and %d in term %d", group, voter, prev, candidate, term))
	}
	w.votes[k] = candidate
}

func (w *wireWatch) see(gm groupMsg) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := gm.Message
	switch {
	case gm.Removed != 0:
		w.notices[[2]uint64{gm.Group, m.To}]++
	case m.Type == raftpb.MsgVoteResp && !m.Reject:
		w.granted(gm.Group, m.From, m.Term, m.To)
	case m.Type == raftpb.MsgSnap:
		w.snaps[[2]uint64{gm.Group, m.To}]++
	}
	if w.seen != nil {
		w.seen(gm)
	}
}

// check fails the test on a double vote.
func (w *wireWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range w.doubles {
		t.Errorf("election safety: %s", d)
	}
}

func (w *wireWatch) count(m map[[2]uint64]int, group, to uint64) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return m[[2]uint64{group, to}]
}

// membersCluster starts n hosts of groups groups configured for
// membership changes (membersConfig), in process or over sockets; with
// watch, a wireWatch is installed before the first election so that it
// sees every vote. It waits, within timeout (the returned context's, which
// ends with the test), for every group to have a leader, and returns the
// leaders.
func membersCluster(t *testing.T, n, groups int, sockets bool, timeout time.Duration, watch bool) (*hostCluster, *wireWatch, context.Context, map[uint64]uint64) {
	t.Helper()
	hc := newHostClusterWith(t, n, groups, sockets, membersConfig())
	var w *wireWatch
	if watch {
		w = watchWire(hc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return hc, w, ctx, awaitAllLed(ctx, t, hc)
}

// awaitHosts polls the running hosts' statuses until ok holds for them.
func awaitHosts(ctx context.Context, t *testing.T, hc *hostCluster, what string, ok func(map[uint64]*HostStatus) bool) map[uint64]*HostStatus {
	t.Helper()
	var sts map[uint64]*HostStatus
	for {
		sts = map[uint64]*HostStatus{}
		for id := range hc.hosts {
			if st, err := hc.status(ctx, id); err == nil {
				sts[id] = st
			}
		}
		if len(sts) == len(hc.hosts) && ok(sts) {
			return sts
		}
		select {
		case <-ctx.Done():
			for id, st := range sts {
				t.Logf("host %d: %+v", id, st.PerGroup)
			}
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// keepAlive sends host to, every tenth of an election timeout until the
// returned function is called, a heartbeat of group from process from in
// the term term holds, as a leader would; it skips a host that is down.
func (hc *hostCluster) keepAlive(to, group, from uint64, term *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	every := time.Duration(hc.base.ElectionTicks) * hc.base.TickInterval / 10
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-time.After(every):
			}
			hb := groupMsg{Group: group, Message: raftpb.Message{Type: raftpb.MsgHeartbeat, From: from, To: to, Term: term.Load()}}
			hc.hub.mu.Lock()
			if in := hc.hub.inboxes[to]; in != nil {
				select {
				case in <- []groupMsg{hb}:
				default:
				}
			}
			hc.hub.mu.Unlock()
		}
	}()
	return func() { close(done); <-finished }
}

// inject hands batch to host id as if its network had received it.
func (hc *hostCluster) inject(id uint64, batch ...groupMsg) {
	hc.hub.mu.Lock()
	in := hc.hub.inboxes[id]
	hc.hub.mu.Unlock()
	in <- batch
}

// putGroupKeys writes n keys of group g and returns them with their
// indexes.
func putGroupKeys(ctx context.Context, t *testing.T, hc *hostCluster, prefix string, g uint64, n int) map[string]uint64 {
	t.Helper()
	acked := map[string]uint64{}
	for _, k := range keysOfGroup(prefix, g, hc.groups, n) {
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		idx, err := hc.c.Put(wctx, k, []byte("v:"+k))
		cancel()
		if err != nil {
			t.Fatalf("writing %s of group %d: %v", k, g, err)
		}
		acked[k] = idx
	}
	return acked
}

// readsOn reads acked keys at host id locally, each once the host applied
// its index.
func readsOn(ctx context.Context, t *testing.T, hc *hostCluster, id uint64, acked map[string]uint64) {
	t.Helper()
	for k, idx := range acked {
		res, err := getApplied(ctx, hc.c, hc.peers[id-1].HTTPAddr, k, idx)
		if err != nil || !res.Found || res.Value != "v:"+k {
			t.Fatalf("host %d: key %s of group %d (index %d): %+v, %v", id, k, fnvGroup(k, hc.groups), idx, res, err)
		}
	}
}

// maxIndex returns the highest index of acked's keys of group g.
func maxIndex(acked map[string]uint64, g uint64, groups int) uint64 {
	var top uint64
	for k, idx := range acked {
		if fnvGroup(k, groups) == g {
			top = max(top, idx)
		}
	}
	return top
}

// created returns how many replicas of group the log created.
func (l *memGroupLog) created(group uint64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.creates[group]
}

// expectCode fails the test unless err is an API error with code.
func expectCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

// expectHosted fails the test unless host id holds exactly the groups
// want, by its HostsGroup and by its memory log (the disk model).
func expectHosted(t *testing.T, hc *hostCluster, id uint64, want ...uint64) {
	t.Helper()
	for g := uint64(1); g <= uint64(hc.groups); g++ {
		in := slices.Contains(want, g)
		if got := hc.hosts[id].HostsGroup(g); got != in {
			t.Errorf("host %d: HostsGroup(%d) = %v, want %v", id, g, got, in)
		}
		if held, _, _ := hc.logs[id].holds(g); held != in {
			t.Errorf("host %d: its log holds group %d: %v, want %v", id, g, held, in)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// Claim: a process that holds no group, added to one group as a learner
// and promoted, catches up by the leader's snapshot, serves that group's
// keys (and leads it after a transfer), and holds no other group: the
// other groups keep their voters, its log and HostsGroup hold that group
// alone, a key of another group is refused; it comes back with the same
// single group after a crash.
func TestProcessAddedToOneGroupCatchesUpBySnapshotAndServesIt(t *testing.T) {
	hc, w, ctx, _ := membersCluster(t, 4, 4, false, 60*time.Second, true)
	acked := writeHostKeys(ctx, t, hc.c, "before", 80)
	expectHosted(t, hc, 4)
	const g = 2
	if err := hc.c.AddGroupLearner(ctx, g, 4); err != nil {
		t.Fatalf("adding process 4 to group %d: %v", g, err)
	}
	expectCode(t, "adding it again", hc.c.AddGroupLearner(ctx, g, 4), CodeAlreadyMember)
	caughtUp := maxIndex(acked, g, hc.groups)
	awaitHosts(ctx, t, hc, "process 4 to catch up as a learner", func(sts map[uint64]*HostStatus) bool {
		gs := sts[4].Group(g)
		return gs != nil && slices.Contains(gs.Learners, 4) && gs.Applied >= caughtUp
	})
	if n := w.count(w.snaps, g, 4); n == 0 {
		t.Fatalf("process 4 caught up on group %d without a snapshot", g)
	}
	if err := hc.c.PromoteGroupMember(ctx, g, 4); err != nil {
		t.Fatalf("promoting process 4: %v", err)
	}
	expectCode(t, "promoting it again", hc.c.PromoteGroupMember(ctx, g, 4), CodeNotLearner)
	expectCode(t, "promoting a process that is not a member", hc.c.PromoteGroupMember(ctx, 3, 4), CodeUnknownMember)
	expectCode(t, "adding a process that is not one of the cluster's", hc.c.AddGroupLearner(ctx, g, 9), CodeBadRequest)
	if err := hc.c.TransferGroupLeader(ctx, g, 4); err != nil {
		t.Fatalf("handing group %d to process 4: %v", g, err)
	}
	for k, v := range putGroupKeys(ctx, t, hc, "after", g, 10) {
		acked[k] = v
	}
	sts := awaitHosts(ctx, t, hc, "every replica of group 2 to have 4 voters", func(sts map[uint64]*HostStatus) bool {
		for _, st := range sts {
			if gs := st.Group(g); gs != nil && len(gs.Voters) != 4 {
				return false
			}
		}
		return true
	})
	for id, st := range sts {
		for _, gs := range st.PerGroup {
			if gs.Group == g {
				if gs.Leader != 4 {
					t.Errorf("host %d: group %d led by %d, want 4", id, g, gs.Leader)
				}
				continue
			}
			if !slices.Equal(gs.Voters, []uint64{1, 2, 3}) || len(gs.Learners) > 0 {
				t.Errorf("host %d: group %d changed: voters %v learners %v", id, gs.Group, gs.Voters, gs.Learners)
			}
		}
	}
	if sts[4].Hosted != 1 || len(sts[4].PerGroup) != 1 {
		t.Fatalf("process 4 lists %d groups (hosted %d), want only group %d", len(sts[4].PerGroup), sts[4].Hosted, g)
	}
	expectHosted(t, hc, 4, g)
	ofG := map[string]uint64{}
	var other string
	for k, idx := range acked {
		if fnvGroup(k, hc.groups) == g {
			ofG[k] = idx
		} else {
			other = k
		}
	}
	readsOn(ctx, t, hc, 4, ofG)
	_, err := hc.c.Get(ctx, hc.peers[3].HTTPAddr, other, ConsistencyLocal, 0)
	expectCode(t, "a read of another group's key on process 4", err, CodeNotLeader)

	hc.kill(4)
	hc.start(4)
	expectHosted(t, hc, 4, g)
	readsOn(ctx, t, hc, 4, ofG)
	w.check(t)
}

// Claim: a process removed from a group drops its replica once it
// applies the removal: its log keeps only the group's tombstone (with
// the term it had), its HostsGroup and status lose the group, and it
// keeps its other groups; the group keeps committing without it, and the
// replica stays dropped across a restart. The group's leader cannot be
// removed (leader_removal), nor a process that is not a member.
func TestProcessRemovedFromAGroupDropsItsReplica(t *testing.T) {
	hc, _, ctx, lead := membersCluster(t, 3, 4, false, 60*time.Second, false)
	const g = 1
	victim := lead[g]%3 + 1
	acked := writeHostKeys(ctx, t, hc.c, "before", 40)
	expectCode(t, "removing the group's leader", hc.c.RemoveGroupMember(ctx, g, lead[g]), CodeLeaderRemoval)
	before, err := hc.status(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	if err := hc.c.RemoveGroupMember(ctx, g, victim); err != nil {
		t.Fatalf("removing process %d from group %d: %v", victim, g, err)
	}
	awaitHosts(ctx, t, hc, "the removed replica to be dropped", func(sts map[uint64]*HostStatus) bool {
		return sts[victim].Group(g) == nil && sts[victim].Hosted == hc.groups-1
	})
	expectHosted(t, hc, victim, 2, 3, 4)
	_, tomb, dropped := hc.logs[victim].holds(g)
	if !dropped || tomb.Term < before.Group(g).Term {
		t.Fatalf("the log of process %d keeps tombstone %v (dropped %v) for group %d, whose term was %d", victim, tomb, dropped, g, before.Group(g).Term)
	}
	expectCode(t, "removing it again", hc.c.RemoveGroupMember(ctx, g, victim), CodeUnknownMember)
	for k, v := range putGroupKeys(ctx, t, hc, "after", g, 10) {
		acked[k] = v
	}
	hc.kill(victim)
	hc.start(victim)
	expectHosted(t, hc, victim, 2, 3, 4)
	for id := range hc.hosts {
		mine := map[string]uint64{}
		for k, idx := range acked {
			if id != victim || fnvGroup(k, hc.groups) != g {
				mine[k] = idx
			}
		}
		readsOn(ctx, t, hc, id, mine)
	}
}

// Claim: a process removed from a group while it was down learns it when
// it comes back: its replica's messages are answered with a removed
// notice by the members, and it drops the replica (its log ends below the
// removal) and keeps its other group.
func TestProcessRemovedWhileDownDropsItsReplicaOnTheNotice(t *testing.T) {
	testRemovedWhileDown(t, false)
}

// Claim: the same over loopback sockets and files, the notice carried by
// the transport.
func TestProcessRemovedWhileDownOverSocketsDropsItsReplica(t *testing.T) {
	testRemovedWhileDown(t, true)
}

func testRemovedWhileDown(t *testing.T, sockets bool) {
	hc := newHostClusterWith(t, 3, 2, sockets, membersConfig())
	var w *wireWatch
	if !sockets {
		w = watchWire(hc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lead := awaitAllLed(ctx, t, hc)
	const g = 1
	victim := lead[g]%3 + 1
	writeHostKeys(ctx, t, hc.c, "before", 20)
	hc.kill(victim)
	if err := hc.c.RemoveGroupMember(ctx, g, victim); err != nil {
		t.Fatalf("removing process %d from group %d: %v", victim, g, err)
	}
	acked := putGroupKeys(ctx, t, hc, "during", g, 5)
	hc.start(victim)
	awaitHosts(ctx, t, hc, "the replica removed while down to be dropped", func(sts map[uint64]*HostStatus) bool {
		return sts[victim].Group(g) == nil
	})
	if sockets {
		if hc.hosts[victim].HostsGroup(g) || !hc.hosts[victim].HostsGroup(2) {
			t.Fatalf("process %d hosts group %d: %v, group 2: %v", victim, g, hc.hosts[victim].HostsGroup(g), hc.hosts[victim].HostsGroup(2))
		}
	} else {
		expectHosted(t, hc, victim, 2)
		if w.count(w.notices, g, victim) == 0 {
			t.Fatal("the replica was dropped without a removed notice")
		}
	}
	for id := range hc.hosts {
		if id != victim {
			readsOn(ctx, t, hc, id, acked)
		}
	}
	readsOn(ctx, t, hc, victim, putGroupKeys(ctx, t, hc, "other", 2, 5))
}

// Claim: a removed notice drops only a replica whose log lacks the entry
// it names (the log ends below it, or holds another term there), and only
// when it comes from a member of the replica's applied configuration: a
// replica holding the entry keeps it (and learns it committed), and a
// notice from a process that is not a member changes nothing. The terms
// are read from the disk model.
func TestRemovedNoticeDropsOnlyAReplicaThatLacksTheNamedEntry(t *testing.T) {
	hc, _, ctx, _ := membersCluster(t, 4, 4, false, 30*time.Second, false)
	writeHostKeys(ctx, t, hc.c, "k", 10)
	notice := func(g, from, index, term uint64) groupMsg {
		return groupMsg{Group: g, Removed: index, RemovedTerm: term, Message: raftpb.Message{From: from, To: 1}}
	}
	var terms [5]uint64
	for g := uint64(1); g <= 4; g++ {
		if terms[g] = hc.logs[1].syncedTerm(g, 1); terms[g] == 0 {
			t.Fatalf("group %d: the log of process 1 holds no synced entry 1", g)
		}
	}
	// Group 1: the entry held. Group 2: beyond the log. Group 3: another
	// term at index 1. Group 4: beyond the log, but from process 4, which
	// is no member of it.
	hc.inject(1, notice(1, 2, 1, terms[1]), notice(2, 2, 1<<40, 1), notice(3, 3, 1, terms[3]+100), notice(4, 4, 1<<40, 1))
	awaitHosts(ctx, t, hc, "the replicas lacking the entry to be dropped", func(sts map[uint64]*HostStatus) bool {
		return sts[1].Group(2) == nil && sts[1].Group(3) == nil
	})
	// The notices were handled together, after one round: the others
	// stood by then, and the ignored one (from a non-member) is counted.
	expectHosted(t, hc, 1, 1, 4)
	if got := metricValue(t, scrapeBody(t, hc.peers[0].HTTPAddr), "kvexample_host_messages_dropped_total"); got < 1 {
		t.Errorf("kvexample_host_messages_dropped_total = %v: the notice from a non-member was not counted", got)
	}
}

// Claim: only a message a group's leader sends (MsgApp, MsgSnap,
// MsgHeartbeat), from a process of the cluster, for a group of the
// layout, creates a replica on demand: a heartbeat from a stranger, vote
// requests and a group outside the layout create nothing; and the empty
// replica created sends no vote request (it has no configuration), is
// kept while a leader's heartbeats keep coming (as for a process waiting
// for its snapshot), and, its configuration not holding its process, is
// dropped once they stop for an election timeout, its tombstone in the
// log.
func TestOnlyALeaderMessageFromAPeerCreatesAReplica(t *testing.T) {
	// An election timeout of 300 ms: the heartbeats that keep the replica
	// come every tenth of it, and a loaded machine (the whole suite on
	// two cores) once held them back for a whole 100 ms timeout.
	base := membersConfig()
	base.ElectionTicks = 30
	hc := newHostClusterWith(t, 4, 4, false, base)
	w := watchWire(hc)
	var campaigned []string
	w.seen = func(gm groupMsg) {
		if gm.Message.From == 4 && (gm.Message.Type == raftpb.MsgVote || gm.Message.Type == raftpb.MsgPreVote) {
			campaigned = append(campaigned, gm.Message.Type.String())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	awaitAllLed(ctx, t, hc)
	msg := func(g, from uint64, typ raftpb.MessageType) groupMsg {
		return groupMsg{Group: g, Message: raftpb.Message{Type: typ, From: from, To: 4, Term: 50, LogTerm: 50, Index: 100}}
	}
	// The last message, a heartbeat from a peer for group 4, is the sign
	// that the others were handled.
	hc.inject(4, msg(1, 9, raftpb.MsgHeartbeat), msg(2, 1, raftpb.MsgVote), msg(2, 1, raftpb.MsgPreVote),
		msg(3, 1, raftpb.MsgAppResp), msg(99, 1, raftpb.MsgApp), msg(4, 1, raftpb.MsgHeartbeat))
	awaitHosts(ctx, t, hc, "the heartbeat's replica", func(sts map[uint64]*HostStatus) bool {
		return sts[4].Group(4) != nil
	})
	expectHosted(t, hc, 4, 4)
	// Five election timeouts of a leader's heartbeats: an unconfigured
	// replica that campaigned would have done so by then, and one dropped
	// while a leader speaks would be gone.
	var term atomic.Uint64
	term.Store(50)
	stop := hc.keepAlive(4, 4, 1, &term)
	time.Sleep(5 * time.Duration(hc.base.ElectionTicks) * hc.base.TickInterval)
	st, err := hc.status(ctx, 4)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	gs := st.Group(4)
	if len(campaigned) > 0 || gs == nil || gs.State != raft.StateFollower.String() {
		t.Fatalf("the unconfigured replica is %+v and sent %v", gs, campaigned)
	}
	w.mu.Unlock()
	if n := hc.logs[4].created(4); n != 1 {
		t.Fatalf("the replica was created %d times while the heartbeats came", n)
	}
	awaitHosts(ctx, t, hc, "the silent unconfigured replica to be dropped", func(sts map[uint64]*HostStatus) bool {
		return sts[4].Group(4) == nil
	})
	expectHosted(t, hc, 4)
	if _, _, dropped := hc.logs[4].holds(4); !dropped {
		t.Fatal("the replica went without a tombstone")
	}
}

// Claim: a process removed from a group and added back comes back empty
// and catches up (also after a crash right after its replica came back),
// serves the group as a voter and leads it; and it never votes twice in a
// term: its new replica starts from the tombstone's term and vote, so a
// vote request of that term from another candidate, on a replica created
// and restarted in that term (a forged case), is refused. Judged by the
// votes the network carried.
func TestRemovedAndReaddedProcessNeverVotesTwiceInATerm(t *testing.T) {
	hc, w, ctx, lead := membersCluster(t, 4, 2, false, 60*time.Second, true)
	const g = 1
	victim := lead[g]%3 + 1
	other := 6 - lead[g] - victim
	acked := writeHostKeys(ctx, t, hc.c, "before", 30)
	// An election the victim votes in, so that its tombstone has a vote.
	if err := hc.c.TransferGroupLeader(ctx, g, other); err != nil {
		t.Fatalf("handing group %d to %d: %v", g, other, err)
	}
	// The removal and the addition that follow must fall after the
	// group's last snapshot and before its next (one every 8 entries), so
	// that the new replica catches up from a snapshot older than its
	// removal and applies that removal on its way to its addition.
	for i := 0; ; i++ {
		st, err := hc.status(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if gs := st.Group(g); gs.Applied%8 < 6 && gs.Applied%8 > 0 && gs.Snapshot > 0 {
			break
		}
		for k, v := range putGroupKeys(ctx, t, hc, fmt.Sprintf("pad%d", i), g, 1) {
			acked[k] = v
		}
	}
	if err := hc.c.RemoveGroupMember(ctx, g, victim); err != nil {
		t.Fatalf("removing process %d: %v", victim, err)
	}
	awaitHosts(ctx, t, hc, "the removed replica to be dropped", func(sts map[uint64]*HostStatus) bool {
		return sts[victim].Group(g) == nil
	})
	_, tomb, dropped := hc.logs[victim].holds(g)
	if !dropped || tomb.Vote == 0 {
		t.Fatalf("tombstone %v (dropped %v): the victim should have voted in the transfer", tomb, dropped)
	}
	w.mu.Lock()
	w.granted(g, victim, tomb.Term, tomb.Vote)
	w.mu.Unlock()

	// Forged: a heartbeat of the tombstone's term creates the replica
	// (from process 4, which holds no replica of the group and so sends
	// no removed notice back); the process crashes and restarts; a vote
	// request of that term from another candidate must be refused. A
	// grant would reach the wire in a few milliseconds: the oracle looks
	// for one for a second.
	// A heartbeat of a term below the tombstone's (a stale leader's)
	// creates nothing (the log records no creation) and is answered with
	// the tombstone's term, so that a stale leader steps down (§5.1).
	var staleAnswers []uint64
	w.mu.Lock()
	w.seen = func(gm groupMsg) {
		if gm.Group == g && gm.Message.From == victim && gm.Message.Type == raftpb.MsgAppResp {
			staleAnswers = append(staleAnswers, gm.Message.Term)
		}
	}
	w.mu.Unlock()
	hb := func(term uint64) groupMsg {
		return groupMsg{Group: g, Message: raftpb.Message{Type: raftpb.MsgHeartbeat, From: 4, To: victim, Term: term}}
	}
	createdBefore := hc.logs[victim].created(g)
	hc.inject(victim, hb(tomb.Term-1))
	time.Sleep(50 * time.Millisecond) // the answers of that round reach the wire
	w.mu.Lock()
	w.seen = nil
	if n := hc.logs[victim].created(g) - createdBefore; n > 0 || !slices.Equal(staleAnswers, []uint64{tomb.Term}) {
		t.Errorf("a heartbeat of term %d, below the tombstone's %d, created %d replicas and was answered with terms %v", tomb.Term-1, tomb.Term, n, staleAnswers)
	}
	w.mu.Unlock()
	hc.inject(victim, hb(tomb.Term))
	awaitHosts(ctx, t, hc, "the forged heartbeat's replica", func(sts map[uint64]*HostStatus) bool {
		return sts[victim].Group(g) != nil
	})
	hc.kill(victim)
	hc.start(victim)
	rival := 6 - tomb.Vote - victim
	hc.inject(victim, groupMsg{Group: g, Message: raftpb.Message{Type: raftpb.MsgVote, From: rival, To: victim, Term: tomb.Term,
		LogTerm: tomb.Term, Index: 1 << 20, Context: []byte("CampaignTransfer")}})
	for i := 0; i < 100; i++ {
		w.mu.Lock()
		n := len(w.doubles)
		w.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.check(t)
	if t.Failed() {
		t.FailNow()
	}

	// The real way back: added, crashed right after its replica came
	// back, caught up, promoted, leading; its replica is created once (or
	// twice, when the crash lost the first before it was synced), not
	// dropped on applying its old removal and created again.
	created := hc.logs[victim].created(g)
	if err := hc.c.AddGroupLearner(ctx, g, victim); err != nil {
		t.Fatalf("adding process %d back: %v", victim, err)
	}
	awaitHosts(ctx, t, hc, "the new replica", func(sts map[uint64]*HostStatus) bool {
		gs := sts[victim].Group(g)
		return gs != nil && slices.Contains(gs.Learners, victim)
	})
	hc.kill(victim)
	hc.start(victim)
	caughtUp := maxIndex(acked, g, hc.groups)
	awaitHosts(ctx, t, hc, "the new replica to catch up", func(sts map[uint64]*HostStatus) bool {
		gs := sts[victim].Group(g)
		return gs != nil && gs.Applied >= caughtUp
	})
	if n := hc.logs[victim].created(g) - created; n > 2 {
		t.Fatalf("the replica added back was created %d times", n)
	}
	if err := hc.c.PromoteGroupMember(ctx, g, victim); err != nil {
		t.Fatalf("promoting process %d: %v", victim, err)
	}
	if err := hc.c.TransferGroupLeader(ctx, g, victim); err != nil {
		t.Fatalf("handing group %d to %d: %v", g, victim, err)
	}
	for k, v := range putGroupKeys(ctx, t, hc, "after", g, 5) {
		acked[k] = v
	}
	for id := uint64(1); id <= 3; id++ {
		readsOn(ctx, t, hc, id, acked)
	}
	w.check(t)
}

// Claim: the same life of a replica over loopback sockets and files
// (StartHost: the TCP transport, the shared log): a process added to one
// group catches up, leads it (so its transport must take the group's
// messages: HostsGroup follows the replicas) and serves it; a process
// removed from it drops its replica, whose snapshot directory goes (and
// goes at the next start if a crash left it), and neither comes back
// different after a restart.
func TestHostMembershipOverSockets(t *testing.T) {
	hc, _, ctx, lead := membersCluster(t, 4, 3, true, 60*time.Second, false)
	const g = 3
	acked := putGroupKeys(ctx, t, hc, "before", g, 20)
	if err := hc.c.AddGroupLearner(ctx, g, 4); err != nil {
		t.Fatalf("adding process 4: %v", err)
	}
	caughtUp := maxIndex(acked, g, hc.groups)
	awaitHosts(ctx, t, hc, "process 4 to catch up", func(sts map[uint64]*HostStatus) bool {
		gs := sts[4].Group(g)
		return gs != nil && gs.Applied >= caughtUp
	})
	if err := hc.c.PromoteGroupMember(ctx, g, 4); err != nil {
		t.Fatalf("promoting process 4: %v", err)
	}
	if err := hc.c.TransferGroupLeader(ctx, g, 4); err != nil {
		t.Fatalf("handing group %d to process 4: %v", g, err)
	}
	for k, v := range putGroupKeys(ctx, t, hc, "after", g, 10) {
		acked[k] = v
	}
	victim := lead[g]
	if err := hc.c.RemoveGroupMember(ctx, g, victim); err != nil {
		t.Fatalf("removing process %d: %v", victim, err)
	}
	awaitHosts(ctx, t, hc, "the removed replica to be dropped", func(sts map[uint64]*HostStatus) bool {
		return sts[victim].Group(g) == nil
	})
	snapDir := filepath.Join(hc.config(victim).DataDir, "groups", "snap", fmt.Sprint(g))
	if _, err := os.Stat(snapDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the dropped group's snapshot directory %s is still there: %v", snapDir, err)
	}
	// What a crash between the tombstone and the directory's deletion
	// leaves: the restart removes it.
	if err := os.MkdirAll(snapDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(snapDir, "left"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint64{victim, 4} {
		hc.kill(id)
		hc.start(id)
	}
	if _, err := os.Stat(snapDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the dropped group's leftover snapshot directory %s survived a restart: %v", snapDir, err)
	}
	for g2 := uint64(1); g2 <= uint64(hc.groups); g2++ {
		if hc.hosts[victim].HostsGroup(g2) != (g2 != g) || hc.hosts[4].HostsGroup(g2) != (g2 == g) {
			t.Fatalf("after restarts, group %d: hosted by %d %v, by 4 %v", g2, victim, hc.hosts[victim].HostsGroup(g2), hc.hosts[4].HostsGroup(g2))
		}
	}
	for k, v := range putGroupKeys(ctx, t, hc, "last", g, 5) {
		acked[k] = v
	}
	readsOn(ctx, t, hc, 4, acked)
}

// Claim: a replica re-created over its group's tombstone has lost the log
// it held (the tombstone keeps only its term and vote), so it boots
// recovering and grants no vote, before and after a restart, until an
// entry of a newer term is durable: its empty log would otherwise elect a
// candidate lacking entries it acknowledged while a member (a member that
// has not applied its removal still counts its vote). A vote request of a
// higher term is refused (its log claims to be long, so that only
// recovering refuses it), judged by the answers the in-process network
// carried.
func TestAReplicaRecreatedOverItsTombstoneGrantsNoVoteWhileItRecovers(t *testing.T) {
	hc, w, ctx, lead := membersCluster(t, 4, 2, false, 60*time.Second, true)
	const g = 1
	victim := lead[g]%3 + 1
	writeHostKeys(ctx, t, hc.c, "before", 30)
	if err := hc.c.RemoveGroupMember(ctx, g, victim); err != nil {
		t.Fatal(err)
	}
	awaitHosts(ctx, t, hc, "the removed replica to be dropped", func(sts map[uint64]*HostStatus) bool { return sts[victim].Group(g) == nil })
	_, tomb, _ := hc.logs[victim].holds(g)
	grants := 0
	w.mu.Lock()
	w.seen = func(gm groupMsg) {
		if gm.Group == g && gm.Message.From == victim && gm.Message.Type == raftpb.MsgVoteResp && !gm.Message.Reject {
			grants++
		}
	}
	w.mu.Unlock()
	// A heartbeat of a newer term: the replica makes that term durable,
	// so that it is opened again after the restart below. Heartbeats of
	// the latest term keep coming, as from a leader: the replica, whose
	// configuration does not hold its process, would otherwise be dropped
	// after an election timeout of silence.
	var term atomic.Uint64
	term.Store(tomb.Term + 1)
	stop := hc.keepAlive(victim, g, 4, &term)
	defer stop()
	awaitHosts(ctx, t, hc, "the re-created replica", func(sts map[uint64]*HostStatus) bool { return sts[victim].Group(g) != nil })
	wait := 3 * time.Duration(hc.base.ElectionTicks) * hc.base.TickInterval
	for round, vote := range []uint64{tomb.Term + 5, tomb.Term + 10} {
		if round == 1 {
			hc.kill(victim)
			hc.start(victim)
			awaitHosts(ctx, t, hc, "the re-created replica opened again", func(sts map[uint64]*HostStatus) bool { return sts[victim].Group(g) != nil })
		}
		time.Sleep(wait)
		// A leadership transfer's request: leader stickiness does not
		// ignore it, and its newer term makes the replica forget the
		// leader of the heartbeats: only recovering stops a grant.
		hc.inject(victim, groupMsg{Group: g, Message: raftpb.Message{Type: raftpb.MsgVote, From: 4, To: victim, Term: vote, LogTerm: vote - 1,
			Index: 1 << 20, Context: []byte("CampaignTransfer")}})
		term.Store(vote)
		time.Sleep(300 * time.Millisecond) // a grant would reach the wire in milliseconds
		w.mu.Lock()
		n := grants
		w.mu.Unlock()
		if n > 0 {
			t.Fatalf("round %d: the replica re-created over tombstone %v granted %d votes", round, tomb, n)
		}
	}
}
