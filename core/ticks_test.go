package core

import (
	"errors"
	"math"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// countType counts the messages of type t among msgs.
func countType(msgs []raftpb.Message, t raftpb.MessageType) int {
	n := 0
	for _, m := range msgs {
		if m.Type == t {
			n++
		}
	}
	return n
}

// TestTickNOnALeaderSendsOneHeartbeatRound: many missed ticks at once make
// one broadcast, not one per heartbeat interval, and cost one call.
func TestTickNOnALeaderSendsOneHeartbeatRound(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) {
		cfg.DisableCheckQuorum, cfg.HeartbeatTick, cfg.ElectionTick = true, 3, 100
	})
	leader := c.nodes[1]
	c.drain(1)
	leader.TickN(10 * leader.settings.heartbeatTimeout)
	msgs := c.drain(1)
	if n := countType(msgs, raftpb.MsgHeartbeat); n != 2 {
		t.Fatalf("%d heartbeats after TickN, want one to each of 2 followers: %v", n, msgs)
	}
	if leader.leaderTick < uint64(10*leader.settings.heartbeatTimeout) {
		t.Fatalf("the leader's clock moved to %d only", leader.leaderTick)
	}
}

// TestTickNPastTheElectionTimeoutStepsDownAQuietLeader: a leader paused
// for longer than an election timeout heard from no quorum in it, so its
// first act on resuming is to step down (CheckQuorum), before any message
// that waited is stepped.
func TestTickNPastTheElectionTimeoutStepsDownAQuietLeader(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.LeaseReads = true })
	leader := c.nodes[1]
	leader.Tick()
	leader.bcastHeartbeat()
	c.stabilize() // the lease holds
	if !leader.leaseHolds() {
		t.Fatal("the lease should hold")
	}
	leader.TickN(leader.settings.electionTimeout) // a pause, seen all at once
	if leader.state == StateLeader {
		t.Fatal("a leader that heard from no quorum for an election timeout still leads")
	}
}

// TestTickNOnAFollowerCampaignsOnce: a follower paused past its election
// timeout campaigns once on resuming, however many timeouts passed.
func TestTickNOnAFollowerCampaignsOnce(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.DisablePreVote = true })
	f := c.nodes[2]
	c.drain(2)
	term := f.term
	f.TickN(100 * f.settings.electionTimeout)
	if f.state != StateCandidate || f.term != term+1 {
		t.Fatalf("after TickN: %v at term %d, want candidate at term %d", f.state, f.term, term+1)
	}
	if n := countType(c.drain(2), raftpb.MsgVote); n != 2 {
		t.Fatalf("%d vote requests, want one round of 2", n)
	}
}

// TestTickNIsTickNTimesForTimers: below every timeout, TickN(n) leaves
// the clocks where n calls to Tick do.
func TestTickNIsTickNTimesForTimers(t *testing.T) {
	a := electedCluster(t, 0)
	b := electedCluster(t, 0)
	for _, id := range []uint64{1, 2} {
		n := a.nodes[id].settings.heartbeatTimeout - 1
		a.nodes[id].TickN(n)
		for i := 0; i < n; i++ {
			b.nodes[id].Tick()
		}
		x, y := a.nodes[id], b.nodes[id]
		if x.ticks != y.ticks || x.clock.electionElapsed != y.clock.electionElapsed || heartbeatElapsed(x) != heartbeatElapsed(y) || x.leaderTick != y.leaderTick {
			t.Fatalf("node %d: TickN(%d) gives ticks %d election %d heartbeat %d leader %d; Tick %d times gives %d %d %d %d", id, n,
				x.ticks, x.clock.electionElapsed, heartbeatElapsed(x), x.leaderTick, n, y.ticks, y.clock.electionElapsed, heartbeatElapsed(y), y.leaderTick)
		}
	}
}

// TestTickNNeverOverflowsATimer: a pause of any length saturates.
func TestTickNNeverOverflowsATimer(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.DisableCheckQuorum = true })
	leader := c.nodes[1]
	for i := 0; i < 3; i++ {
		leader.TickN(1<<31 - 1)
	}
	if leader.clock.electionElapsed < 0 || heartbeatElapsed(leader) < 0 {
		t.Fatalf("timers overflowed: election %d heartbeat %d", leader.clock.electionElapsed, heartbeatElapsed(leader))
	}
}

// TestTheLeaseLastsElectionTickMinusDriftMinusOne: the lease holds for
// exactly ElectionTick - LeaseClockDriftTicks - 1 of the leader's ticks
// from the tick its confirmed round was sent in: a follower resets its
// clock part-way through a tick, and that rounding must not eat the drift
// allowance.
func TestTheLeaseLastsElectionTickMinusDriftMinusOne(t *testing.T) {
	for _, drift := range []int{1, 2, 3} {
		c := electedClusterWith(t, 0, func(cfg *Config) {
			cfg.LeaseReads, cfg.ElectionTick, cfg.LeaseClockDriftTicks = true, 10, drift
		})
		leader := c.nodes[1]
		leader.Tick()
		anchor := leader.leaderTick
		leader.bcastHeartbeat()
		c.stabilize()
		want := uint64(10 - drift - 1)
		leader.leaderTick = anchor + want - 1
		if !leader.leaseHolds() {
			t.Fatalf("drift %d: the lease lapsed after %d ticks, want it to last %d", drift, want-1, want)
		}
		leader.leaderTick = anchor + want
		if leader.leaseHolds() {
			t.Fatalf("drift %d: the lease still holds after %d ticks", drift, want)
		}
	}
}

// TestALeasePromiseRefusesForgetLeaderAndCampaign: under LeaseReads a
// follower that heard from its leader within the election timeout may
// have helped grant its lease; forgetting the leader or campaigning would
// let it vote inside that lease.
func TestALeasePromiseRefusesForgetLeaderAndCampaign(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.LeaseReads = true })
	f := c.nodes[2]
	before := fingerprint(f)
	if err := f.ForgetLeader(); !errors.Is(err, ErrLeasePromised) {
		t.Fatalf("ForgetLeader inside the lease = %v, want ErrLeasePromised", err)
	}
	if err := f.Campaign(); !errors.Is(err, ErrLeasePromised) {
		t.Fatalf("Campaign inside the lease = %v, want ErrLeasePromised", err)
	}
	if fingerprint(f) != before || f.lead != 1 {
		t.Fatal("a refused ForgetLeader or Campaign changed the follower")
	}
	f.clock.electionElapsed = int32(f.settings.electionTimeout) // the leader went quiet for an election timeout
	must(t, f.ForgetLeader())
	if f.lead != None {
		t.Fatal("ForgetLeader after the lease did not forget")
	}
	must(t, f.Campaign())

	// Without lease reads both are allowed at once.
	c = electedCluster(t, 0)
	must(t, c.nodes[2].ForgetLeader())
	must(t, c.nodes[3].Campaign())
}

// heartbeatElapsed returns the ticks r's heartbeat timer counted, -1 if r
// does not lead (only a leader has one).
func heartbeatElapsed(r *Raft) int32 {
	if r.leader == nil {
		return -1
	}
	return r.leader.heartbeat.elapsed
}

// TestATimeoutBeyondWhatATimerCountsNeverRunsOut: the clock's counters
// are 32 bits and saturate at math.MaxInt32; a timeout set beyond that
// still never runs out, however long the pause, as with wider counters,
// while one at the ceiling does.
func TestATimeoutBeyondWhatATimerCountsNeverRunsOut(t *testing.T) {
	for _, tc := range []struct {
		timeout int
		runsOut bool
	}{
		{math.MaxInt32, true},
		{math.MaxInt32 + 1, false},
		{math.MaxInt64, false},
	} {
		c := newElectionClock(1)
		c.setRandomized(tc.timeout)
		for i := 0; i < 3; i++ {
			c.advanceElection(math.MaxInt32)
		}
		if got := c.pastElectionTimeout(); got != tc.runsOut {
			t.Errorf("timeout %d after a saturating pause: ran out %v, want %v", tc.timeout, got, tc.runsOut)
		}
	}
}
