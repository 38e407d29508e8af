package sim

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// The scenarios of the library issues the simulator found, driven step by
// step through the simulator's primitives. Each failed before its fix (the
// first three in commits 417df4b, 9a5f1cb and 204726e) and asserts the
// correct behaviour now.

// newTestSim returns a run of o, failing the test if New refuses it.
func newTestSim(t *testing.T, o Options) *Sim {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runSteps runs s for steps steps, or until it fails.
func (s *Sim) runSteps(steps int) {
	for i := 0; i < steps && s.failure == nil; i++ {
		s.step()
	}
}

// TestAsyncNodeRestartsFromASnapshotAboveItsDurableCommit: in the
// asynchronous mode a node applies a committed entry before the hard
// state carrying the commit index is durable; its application snapshots
// at the applied index without compacting the log, and the node crashes.
// It must restart from that snapshot with Config.Applied at its index.
func TestAsyncNodeRestartsFromASnapshotAboveItsDurableCommit(t *testing.T) {
	s := newTestSim(t, Options{Seed: 1, Nodes: 3, Async: true, DiskLatency: 12, ChaosTicks: 1 << 30, Steps: 1 << 20,
		Workload: Workload{Clients: 2, Keys: 1}})
	for i := 0; i < 2000 && s.failure == nil; i++ {
		s.step()
		if s.Tick() > 20 && s.clients.list[0].op == nil {
			s.clients.startWrite(s.clients.list[0], "k0")
		}
		for _, n := range s.nodes {
			hs, _, _ := n.st.InitialState()
			snap, _ := n.st.Snapshot()
			if !n.up() || n.kv.applied <= hs.Commit || n.kv.applied <= snap.Metadata.Index {
				continue
			}
			s.compact(n, int(n.kv.applied)) // snapshot at the applied index, log not compacted
			s.crash(n, 0)
			s.restart(n)
			if s.failure != nil || !n.up() {
				t.Fatalf("node %d did not restart: %v", n.id, s.failure)
			}
			s.converge()
			if s.failure != nil {
				t.Fatal(s.failure)
			}
			return
		}
	}
	t.Fatalf("no node applied an entry before its commit was durable: %v", s.failure)
}

// TestALeaseDoesNotOutliveAFollowerRestart: leader L holds a lease that a
// quorum's heartbeat answers give it; L is then cut off, and follower A,
// which answered, crashes and restarts at once, forgetting the leader it
// followed (the stickiness L's lease relies on). Follower B tries to
// campaign at once (and is refused: it heard from L within the lease). Either B cannot win while L's lease may hold (A, restarted, helps
// elect no leader for an election timeout), or, if it wins and commits a
// write, L must not answer a linearizable read from its lease with a
// state that lacks it.
func TestALeaseDoesNotOutliveAFollowerRestart(t *testing.T) {
	o := Options{Seed: 1, Nodes: 3, LeaseReads: true, ElectionTick: 10, LatencyMin: 1, LatencyMax: 1, Jitter: 0,
		DiskLatency: 1, ChaosTicks: 1 << 30, Steps: 1 << 20, Workload: Workload{Clients: 2, Keys: 1}}
	if testing.Verbose() {
		o.Trace = os.Stdout
	}
	s := newTestSim(t, o)
	s.runSteps(200)
	s.clients.startWrite(s.clients.list[0], "k0")
	s.runSteps(40)
	lead := s.leader()
	if lead == nil || s.failure != nil {
		t.Fatalf("no leader: %v", s.failure)
	}
	var others []*node
	for _, n := range s.nodes {
		if n != lead {
			others = append(others, n)
		}
	}
	a, b := others[0], others[1]
	s.net.split(1<<lead.id, len(s.nodes))
	s.crash(a, 0)
	s.restart(a)
	// B is inside the lease it helped grant: it refuses to campaign
	// (ErrLeasePromised), a second guard beside A's quiet restart.
	if err := b.rn.Campaign(); err != nil && !errors.Is(err, raft.ErrLeasePromised) {
		t.Fatal(err)
	}
	s.runSteps(16)
	won := b.rn.BasicStatus().RaftState == raft.StateLeader
	if won {
		if _, _, err := b.rn.Propose(encodeWrite("k0", "c2.1", 0)); err != nil {
			t.Fatal(err)
		}
		s.runSteps(12)
	}
	if s.failure != nil {
		t.Fatal(s.failure)
	}
	if err := lead.rn.ReadIndex([]byte("read")); err != nil {
		return // refused: fine
	}
	rd := lead.rn.Ready()
	for _, rs := range rd.ReadStates {
		if rs.Err == nil && b.kv.data["k0"] != lead.kv.data["k0"] {
			t.Fatalf("old leader %d answered a read at %d from its lease with k0=%q after leader %d committed k0=%q",
				lead.id, rs.Index, lead.kv.data["k0"], b.id, b.kv.data["k0"])
		}
	}
	if won {
		t.Logf("node %d won while node %d's lease could hold, but the old leader served no stale read", b.id, lead.id)
	}
}

// TestTheUncommittedTailCountsEveryEntryWithPayload: a new leader takes
// small and large proposals while its empty entry of the term commits.
// Its uncommitted tail must never count zero entries while it holds
// payload bytes: "an empty tail accepts any one proposal" would then let
// the next proposal take it past MaxUncommittedEntriesSize.
func TestTheUncommittedTailCountsEveryEntryWithPayload(t *testing.T) {
	const bound, big = 2048, 1500
	for seed := uint64(1); seed <= 10; seed++ {
		s := newTestSim(t, Options{Seed: seed, Nodes: 3, ChaosTicks: 1 << 30, Steps: 1 << 20,
			Bounds: Bounds{MaxUncommittedEntriesSize: bound}, Workload: Workload{Clients: 1, Keys: 1}})
		var lead *node
		for i := 0; i < 400 && lead == nil && s.failure == nil; i++ {
			s.step()
			lead = s.leader()
		}
		if lead == nil {
			t.Fatalf("seed %d: no leader: %v", seed, s.failure)
		}
		for i := 0; i < 40 && s.failure == nil; i++ {
			switch {
			case i%4 == 0 && i < 20:
				lead.rn.Propose(encodeWrite("k0", fmt.Sprintf("c9.%d", i), 0))
			case i == 6:
				lead.rn.Propose(encodeWrite("k0", "c8.1", big))
			}
			s.step()
			st := lead.rn.Status()
			if st.RaftState != raft.StateLeader || st.UncommittedEntries > 0 || st.UncommittedBytes == 0 {
				continue
			}
			t.Fatalf("seed %d: %d bytes uncommitted in 0 entries", seed, st.UncommittedBytes)
		}
	}
}

// TestAnIdleLeaderCatchesUpAFollowerWhoseProbeWasLost: a learner is added
// to an idle cluster while it is down, so the leader's first append to it
// is lost; it then starts, answers the leader's heartbeats, and nobody
// writes. The leader must still bring it up to date: a follower's
// heartbeat answer while it lags is the leader's cue to probe again.
func TestAnIdleLeaderCatchesUpAFollowerWhoseProbeWasLost(t *testing.T) {
	s := newTestSim(t, Options{Seed: 1, Nodes: 3, Spares: 1, ChaosTicks: 1 << 30, Steps: 1 << 20, Workload: Workload{Clients: 1, Keys: 1}})
	s.runSteps(200)
	lead, learner := s.leader(), s.nodes[3]
	if lead == nil {
		t.Fatalf("no leader: %v", s.failure)
	}
	s.crash(learner, 0)
	cc := raftpb.ConfChange{Type: raftpb.ConfChangeAddLearnerNode, NodeID: learner.id}
	if _, _, err := lead.rn.ProposeConfChange(cc); err != nil {
		t.Fatal(err)
	}
	s.runSteps(40) // the change commits; the append to the learner is lost
	s.restart(learner)
	s.runSteps(60 * s.opts.StepsPerTick) // sixty ticks, nobody writes
	if s.failure != nil {
		t.Fatal(s.failure)
	}
	want := lead.rn.BasicStatus().Commit
	if got := learner.rn.BasicStatus().Commit; got != want {
		t.Fatalf("learner %d is at commit %d after sixty idle ticks, the leader at %d: the leader never probed it again",
			learner.id, got, want)
	}
}
