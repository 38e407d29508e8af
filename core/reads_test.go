package core

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// takeReads runs one Ready of node id and returns its read states, and the
// messages it sent (delivered by the next stabilize).
func (c *testCluster) takeReads(id uint64) []ReadState {
	var out []ReadState
	r, st := c.nodes[id], c.st[id]
	for r.HasReady() {
		rd := r.Ready()
		out = append(out, rd.ReadStates...)
		if !rd.HardState.IsEmpty() {
			must(c.t, st.SetHardState(rd.HardState))
		}
		must(c.t, st.Append(rd.Entries))
		c.pending = append(c.pending, rd.Messages...)
		c.pending = append(c.pending, rd.MessagesAfterPersist...)
		r.Advance()
	}
	return out
}

// deliverPending steps the messages held by takeReads, collecting the
// read states every node produces on the way, until nothing moves.
func (c *testCluster) deliverPending() map[uint64][]ReadState {
	got := map[uint64][]ReadState{}
	for len(c.pending) > 0 {
		msgs := c.pending
		c.pending = nil
		for _, m := range msgs {
			if c.nodes[m.To] != nil {
				c.stepChecked(m)
			}
		}
		for _, id := range c.up() {
			got[id] = append(got[id], c.takeReads(id)...)
		}
	}
	return got
}

func TestSafeReadIsReleasedOnlyAfterAQuorumAnswersARound(t *testing.T) {
	c := electedCluster(t, 2)
	leader := c.nodes[1]
	must(t, leader.ReadIndex([]byte("r1")))
	if rs := c.takeReads(1); len(rs) != 0 {
		t.Fatalf("read released before any heartbeat answer: %v", rs)
	}
	got := c.deliverPending()
	if len(got[1]) != 1 || got[1][0].Index != leader.raftLog.committed || string(got[1][0].RequestCtx) != "r1" {
		t.Fatalf("read states %v, want one for r1 at commit %d", got[1], leader.raftLog.committed)
	}
}

func TestABatchOfReadsIsAnsweredByOneRound(t *testing.T) {
	c := electedCluster(t, 0)
	leader := c.nodes[1]
	for i := 0; i < 100; i++ {
		must(t, leader.ReadIndex([]byte(fmt.Sprint(i))))
	}
	rd := leader.Ready()
	heartbeats := 0
	for _, m := range rd.Messages {
		if m.Type == raftpb.MsgHeartbeat {
			heartbeats++
		}
	}
	if heartbeats != 2 {
		t.Fatalf("100 reads sent %d heartbeats, want one round (2)", heartbeats)
	}
	c.pending = append(c.pending, rd.Messages...)
	leader.Advance()
	if got := c.deliverPending(); len(got[1]) != 100 {
		t.Fatalf("released %d reads, want 100", len(got[1]))
	}
}

// TestRetriedReadContextIsNotReleasedByAnEarlierRound: rounds, not request
// contexts, identify what a heartbeat answer confirms.
func TestRetriedReadContextIsNotReleasedByAnEarlierRound(t *testing.T) {
	c := electedCluster(t, 0)
	leader := c.nodes[1]
	must(t, leader.ReadIndex([]byte("same")))
	c.takeReads(1) // round 1 goes out; its answers are held in c.pending
	must(t, leader.ReadIndex([]byte("same")))
	first := c.pending
	c.pending = nil
	for _, m := range first { // answers to round 1 only
		must(t, c.nodes[m.To].Step(m))
	}
	var answers []raftpb.Message
	for _, id := range []uint64{2, 3} {
		rd := c.nodes[id].Ready()
		answers = append(answers, rd.Messages...)
		c.nodes[id].Advance()
	}
	for _, m := range answers {
		must(t, leader.Step(m))
	}
	released := 0
	for _, rs := range readStatesOf(leader) {
		if string(rs.RequestCtx) == "same" {
			released++
		}
	}
	if released != 1 {
		t.Fatalf("round 1's answers released %d reads with the retried context, want 1", released)
	}
}

func TestNewLeaderHoldsReadsUntilItCommitsInItsTerm(t *testing.T) {
	c := newTestCluster(t, 3)
	must(t, c.nodes[1].Campaign())
	// Run the election up to the point where node 1 is leader but has not
	// committed its empty entry: deliver only votes.
	for i := 0; i < 4 && c.nodes[1].state != StateLeader; i++ {
		for _, id := range c.up() {
			for _, m := range c.drain(id) {
				if m.Type != raftpb.MsgApp {
					c.stepChecked(m)
				}
			}
		}
	}
	leader := c.nodes[1]
	if leader.state != StateLeader || leader.committedInTerm() {
		t.Fatalf("want a leader that has not committed in its term (state %v)", leader.state)
	}
	must(t, leader.ReadIndex([]byte("early")))
	c.takeReads(1)
	if leader.readOnly.CurrentRound() != 0 {
		t.Fatal("a read round started before the leader committed in its term")
	}
	got := c.deliverPending()
	if len(got[1]) != 1 || string(got[1][0].RequestCtx) != "early" || got[1][0].Index < 1 {
		t.Fatalf("read states %v, want the held read released at the first commit of the term", got[1])
	}
}

func TestLeaseReadIsAnsweredAtOnceAndFallsBackToARoundWhenItLapses(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.LeaseReads = true })
	leader := c.nodes[1]
	leader.Tick()
	leader.bcastHeartbeat()
	c.stabilize() // a quorum answered: the lease holds
	must(t, leader.ReadIndex([]byte("lease")))
	if len(readStatesOf(leader)) != 1 || len(leader.out.msgs) != 0 {
		t.Fatalf("lease read: %d states, %d messages; want 1 state and no message", len(readStatesOf(leader)), len(leader.out.msgs))
	}
	leader.queuedReads().takeStates()
	// No answers for an election timeout: the lease lapses.
	delete(c.nodes, 2)
	delete(c.nodes, 3)
	leader.leaderTick += uint64(leader.settings.electionTimeout - 1) // the lease clock, without CheckQuorum stepping down
	must(t, leader.ReadIndex([]byte("late")))
	if len(readStatesOf(leader)) != 0 {
		t.Fatal("a read was answered from a lapsed lease")
	}
	if !leader.readOnly.NeedsRound() {
		t.Fatal("the read did not fall back to a round")
	}
}

func TestLeaseEndsWhenATransferStarts(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.LeaseReads = true })
	leader := c.nodes[1]
	leader.Tick()
	leader.bcastHeartbeat()
	c.stabilize()
	if !leader.leaseHolds() {
		t.Fatal("lease should hold")
	}
	delete(c.nodes, 3) // keep the transfer from finishing
	must(t, leader.TransferLeader(3))
	if leader.leaseHolds() {
		t.Fatal("the lease survived the start of a transfer")
	}
}

func TestLeaseReadsRequireCheckQuorum(t *testing.T) {
	cfg := Config{ID: 1, Storage: NewMemoryStorage(), LeaseReads: true, DisableCheckQuorum: true}
	var ce *ConfigError
	if err := cfg.Validate(); !errors.As(err, &ce) || ce.Field != "LeaseReads" {
		t.Fatalf("Validate = %v, want a ConfigError on LeaseReads", err)
	}
}

func TestFollowerReadIsForwardedAndReturnsAsItsOwnReadState(t *testing.T) {
	c := electedCluster(t, 1)
	must(t, c.nodes[3].ReadIndex([]byte("f")))
	c.takeReads(3)
	got := c.deliverPending()
	if len(got[3]) != 1 || string(got[3][0].RequestCtx) != "f" || got[3][0].Index != c.nodes[1].raftLog.committed {
		t.Fatalf("follower read states %v", got[3])
	}
}

func TestIsolatedOldLeaderNeverAnswersARead(t *testing.T) {
	c := electedCluster(t, 0)
	leader := c.nodes[1]
	delete(c.nodes, 2)
	delete(c.nodes, 3)
	must(t, leader.ReadIndex([]byte("x")))
	var got []ReadState
	for i := 0; i < 3*leader.settings.electionTimeout && leader.state == StateLeader; i++ {
		leader.Tick()
		got = append(got, c.takeReads(1)...)
		c.pending = nil // the partition loses everything
	}
	if leader.state == StateLeader {
		t.Fatal("isolated leader did not step down")
	}
	got = append(got, c.takeReads(1)...)
	if len(got) != 1 || string(got[0].RequestCtx) != "x" || !errors.Is(got[0].Err, ErrReadAborted) {
		t.Fatalf("isolated leader's read states %v, want the read aborted", got)
	}
}

// TestAPreCandidateStillTakesTheLeadersAnswerToItsRead: a follower that
// forwarded a read and then began to pre-campaign keeps its term, so the
// leader's answer of that term is still its read's answer.
func TestAPreCandidateStillTakesTheLeadersAnswerToItsRead(t *testing.T) {
	c := electedCluster(t, 1)
	f := c.nodes[3]
	must(t, f.ReadIndex([]byte("r")))
	c.takeReads(3) // the forwarded read goes to the leader
	fwd := c.pending
	c.pending = nil
	for _, m := range fwd {
		c.stepChecked(m)
	}
	c.takeReads(1) // the leader's heartbeats of the read's round
	for _, m := range c.pending {
		if m.To != 3 {
			c.stepChecked(m) // node 2 answers; node 3 is partitioned
		}
	}
	c.pending = nil
	must(t, f.Campaign())
	if f.state != StatePreCandidate {
		t.Fatalf("node 3 is %v, want a pre-candidate", f.state)
	}
	c.takeReads(2)            // node 2's answer to the round
	early := c.takeReads(3)   // node 3's pre-votes
	got := c.deliverPending() // the leader releases the read to node 3
	got[3] = append(early, got[3]...)
	if len(got[3]) != 1 || string(got[3][0].RequestCtx) != "r" || got[3][0].Err != nil {
		t.Fatalf("pre-candidate's read states %v, want the answer to its read", got[3])
	}
}

// TestReadAnswerFromANodeOtherThanTheLeaderIsRefused: only the leader
// answers forwarded reads; another node's answer changes nothing.
func TestReadAnswerFromANodeOtherThanTheLeaderIsRefused(t *testing.T) {
	c := electedCluster(t, 1)
	f := c.nodes[3]
	m := raftpb.Message{Type: raftpb.MsgReadIndexResp, From: 2, To: 3, Term: f.term, Index: 1,
		Entries: []raftpb.Entry{{Data: []byte("r")}}}
	if err := f.Step(m); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("Step = %v, want ErrInvalidMessage", err)
	}
	if len(readStatesOf(f)) != 0 {
		t.Fatalf("read states %v after a refused answer", readStatesOf(f))
	}
}

func TestPendingReadIsAbortedWhenLeadershipIsLost(t *testing.T) {
	c := electedCluster(t, 0)
	leader := c.nodes[1]
	must(t, leader.ReadIndex([]byte("x")))
	leader.becomeFollower(leader.term+1, None)
	if len(readStatesOf(leader)) != 1 || !errors.Is(readStatesOf(leader)[0].Err, ErrReadAborted) {
		t.Fatalf("read states after step-down: %v", readStatesOf(leader))
	}
}

func TestMonotonicLocalReadWaitsForAppliedIndexOrReportsLagging(t *testing.T) {
	c := electedCluster(t, 1)
	f := c.nodes[3]
	must(t, f.ReadLocal([]byte("now"), f.raftLog.applied))
	if len(readStatesOf(f)) != 1 || readStatesOf(f)[0].Err != nil {
		t.Fatalf("read at the applied index: %v", readStatesOf(f))
	}
	f.queuedReads().takeStates()
	must(t, f.ReadLocal([]byte("later"), f.raftLog.applied+5))
	for i := 0; i < f.settings.electionTimeout; i++ {
		f.Tick()
	}
	var le *LaggingError
	if len(readStatesOf(f)) != 1 || !errors.As(readStatesOf(f)[0].Err, &le) || le.Leader != 1 {
		t.Fatalf("lagging read: %v", readStatesOf(f))
	}
}

func TestForgedHeartbeatAnswerForAFutureRoundIsRefused(t *testing.T) {
	c := electedCluster(t, 0)
	leader := c.nodes[1]
	m := raftpb.Message{Type: raftpb.MsgHeartbeatResp, From: 2, To: 1, Term: leader.term,
		Context: raftpb.HeartbeatContext{Round: 99, Tick: 1}.Encode()}
	if err := leader.Step(m); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("forged round answer = %v", err)
	}
}

// TestNoLeaseReadsAfterTimeoutNowInTheSameTerm: a MsgTimeoutNow still in
// flight after its transfer was abandoned can elect its target bypassing
// the followers' stickiness, so the leader never trusts its lease again
// in that term.
func TestNoLeaseReadsAfterTimeoutNowInTheSameTerm(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.LeaseReads = true })
	leader := c.nodes[1]
	must(t, leader.TransferLeader(2)) // node 2 is up to date: MsgTimeoutNow goes out
	leader.out.msgs = nil             // and is held in the network
	leader.abortLeaderTransfer("test")
	leader.Tick()
	leader.bcastHeartbeat()
	c.stabilize() // a quorum renews the lease's evidence
	if leader.leaseHolds() {
		t.Fatal("the lease holds after a MsgTimeoutNow was sent in this term")
	}
	must(t, leader.ReadIndex([]byte("r")))
	if len(readStatesOf(leader)) != 0 {
		t.Fatal("a read was answered from the lease")
	}
}

func TestForwardedReadRefusedByTheLeaderComesBackAsAnError(t *testing.T) {
	c := electedCluster(t, 0)
	delete(c.nodes, 3)
	must(t, c.nodes[1].TransferLeader(3)) // reads are refused during a transfer
	c.lenient = true                      // the leader's Step reports the refusal it sends back
	must(t, c.nodes[2].ReadIndex([]byte("fwd")))
	c.takeReads(2)
	got := c.deliverPending()
	if len(got[2]) != 1 || !errors.Is(got[2][0].Err, ErrReadAborted) || string(got[2][0].RequestCtx) != "fwd" {
		t.Fatalf("follower read states %v, want fwd with ErrReadAborted", got[2])
	}
}

// TestRestartedNodeKeepsALeaseItMayHaveGranted: under LeaseReads a node
// that restarts ignores vote requests for its first election timeout,
// since it may have answered the heartbeat round that anchors the old
// leader's lease (found by the simulator as a stale lease read).
func TestRestartedNodeKeepsALeaseItMayHaveGranted(t *testing.T) {
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	must(t, st.SetHardState(raftpb.HardState{Term: 1, Vote: 2}))
	r, err := NewRaft(&Config{ID: 1, Storage: st, LeaseReads: true})
	if err != nil {
		t.Fatal(err)
	}
	vote := raftpb.Message{Type: raftpb.MsgVote, From: 3, To: 1, Term: 2}
	must(t, r.Step(vote))
	if r.term != 1 || r.vote != 2 {
		t.Fatalf("a restarted node voted at once: term %d vote %d", r.term, r.vote)
	}
	for i := 0; i < r.settings.electionTimeout; i++ {
		r.Tick()
	}
	must(t, r.Step(vote))
	if r.term != 2 || r.vote != 3 {
		t.Fatalf("after an election timeout the node still refuses: term %d vote %d", r.term, r.vote)
	}
}

// readStatesOf returns the ReadStates r has released for its next Ready.
func readStatesOf(r *Raft) []ReadState {
	if r.queuedReads() == nil {
		return nil
	}
	return r.queuedReads().states
}
