package core

import (
	"fmt"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// checkVotesDurable makes s judge every granted vote as it leaves its
// sender: the sender's disk must already hold that vote, for that term
// (§5.2 and thesis §3.8: a vote is persisted before it is answered, or a
// voter that crashes and restarts could vote twice in one term).
func checkVotesDurable(t *testing.T, s *ruleNet) *int {
	checked := 0
	s.onSend = func(m raftpb.Message) {
		if m.Type != raftpb.MsgVoteResp || m.Reject {
			return
		}
		checked++
		if hs := s.hardState(m.From); hs.Term != m.Term || hs.Vote != m.To {
			t.Fatalf("node %d sent %v while its disk holds %v: the vote left before it was durable", m.From, m, hs)
		}
	}
	return &checked
}

// TestVoteIsAnsweredOnlyOnceDurable: in both storage modes, a granted
// MsgVoteResp leaves the voter only once the HardState recording the vote
// is on the voter's disk. In the synchronous loop it must travel in
// MessagesAfterPersist; in the asynchronous mode it must wait for the
// append worker.
func TestVoteIsAnsweredOnlyOnceDurable(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%t", async), func(t *testing.T) {
			s := newRuleNet(t, 3, async, nil)
			checked := checkVotesDurable(t, s)
			s.elect(1)
			s.deliver(anyMsg)
			// A second election, in a later term, where each voter also has
			// a vote to change.
			s.crash(1)
			s.restart(1)
			for _, id := range []uint64{2, 3} {
				must(t, s.nodes[id].ForgetLeader())
			}
			s.elect(2)
			if *checked != 4 {
				t.Fatalf("%d granted votes seen on the wire, want 4", *checked)
			}
		})
	}
}

// TestAsyncVoteWaitsForTheAppendWorker: in the asynchronous mode, a voter
// whose append worker has not run has sent no vote, whatever else it did;
// once the worker completes the write the vote leaves.
func TestAsyncVoteWaitsForTheAppendWorker(t *testing.T) {
	s := newRuleNet(t, 3, true, func(cfg *Config) { cfg.DisablePreVote = true })
	s.autoWorkers = false
	must(t, s.nodes[1].Campaign())
	s.flushAll()
	s.deliver(and(to(2), ofType(raftpb.MsgVote)))
	if len(s.appendQ[2]) == 0 {
		t.Fatal("the voter handed its append worker nothing to persist")
	}
	if votes := s.queued(and(ofType(raftpb.MsgVoteResp), func(m raftpb.Message) bool { return m.From == 2 })); len(votes) > 0 {
		t.Fatalf("node 2 answered %v with its write still in the append worker (disk %v)", votes, s.hardState(2))
	}
	for len(s.appendQ[2]) > 0 {
		s.completeAppend(2)
	}
	votes := s.queued(and(ofType(raftpb.MsgVoteResp), func(m raftpb.Message) bool { return m.From == 2 && !m.Reject }))
	if len(votes) != 1 {
		t.Fatalf("after its write completed node 2 sent %v, want one granted vote", votes)
	}
	if hs := s.hardState(2); hs.Vote != 1 || hs.Term != votes[0].Term {
		t.Fatalf("node 2's disk holds %v after it granted %v", hs, votes[0])
	}
}

// preVoteWitness records what a node's HardState is, on disk and as the
// node reports it, and how many HardStates it has handed to storage.
type preVoteWitness struct {
	disk   raftpb.HardState
	status raftpb.HardState
	writes int
}

func witness(s *ruleNet, id uint64) preVoteWitness {
	return preVoteWitness{disk: s.hardState(id), status: s.nodes[id].BasicStatus().HardState, writes: len(s.hardStates[id])}
}

// TestPreVoteNeverChangesTermOrVote: answering a MsgPreVote, granted or
// refused, changes neither the voter's term nor its vote, and a
// pre-candidate keeps its own term and vote while it gathers pre-votes,
// whatever the answers (thesis §9.6: a pre-vote only asks whether an
// election could be won). Five voters, so that one granted pre-vote is
// not yet a majority; CheckQuorum is off, so that stickiness (tested on
// its own) does not hide the pre-votes.
func TestPreVoteNeverChangesTermOrVote(t *testing.T) {
	s := newRuleNet(t, 5, false, func(cfg *Config) { cfg.DisableCheckQuorum = true })
	s.elect(1)
	s.deliver(anyMsg)
	// Node 3 gets an entry the pre-candidate lacks, so that it refuses.
	s.propose(1, "only-on-3")
	s.deliver(among(1, 3))
	s.drop(anyMsg)
	before := map[uint64]preVoteWitness{}
	for _, id := range []uint64{3, 4, 5} {
		before[id] = witness(s, id)
	}
	must(t, s.nodes[5].Campaign())
	if st := s.nodes[5].state; st != StatePreCandidate {
		t.Fatalf("node 5 is %v, want a pre-candidate", st)
	}
	s.deliver(among(3, 4, 5))
	answers := map[uint64]bool{}
	for _, m := range s.delivered {
		if m.Type == raftpb.MsgPreVoteResp && m.To == 5 {
			answers[m.From] = !m.Reject
		}
	}
	if granted, ok := answers[4]; !ok || !granted {
		t.Fatalf("node 4 did not grant the pre-vote: answers %v", answers)
	}
	if granted, ok := answers[3]; !ok || granted {
		t.Fatalf("node 3, whose log is longer, did not refuse the pre-vote: answers %v", answers)
	}
	for _, id := range []uint64{3, 4, 5} {
		if after := witness(s, id); after != before[id] {
			t.Errorf("node %d: a pre-vote round changed its term or vote: before %+v, after %+v", id, before[id], after)
		}
	}
	if st := s.nodes[5].state; st != StatePreCandidate {
		t.Fatalf("node 5 is %v after one grant and one refusal of four, want a pre-candidate still", st)
	}
}

// TestFollowerOfALiveLeaderRefusesElections is leader stickiness (thesis
// §4.2.3, with CheckQuorum): a follower that heard from its leader within
// the election timeout neither grants a (pre-)vote to a node that lost
// touch with the leader nor takes its term, and neither does the leader.
// Once the follower has not heard from the leader for an election
// timeout, the same request is granted.
func TestFollowerOfALiveLeaderRefusesElections(t *testing.T) {
	for _, preVote := range []bool{true, false} {
		t.Run(fmt.Sprintf("prevote=%t", preVote), func(t *testing.T) {
			s := newRuleNet(t, 3, false, func(cfg *Config) { cfg.DisablePreVote = !preVote })
			s.elect(1)
			s.deliver(anyMsg)
			before := map[uint64]preVoteWitness{1: witness(s, 1), 2: witness(s, 2)}
			// Node 3 hears nothing from the leader and times out.
			for i := 0; i < 2*s.nodes[3].settings.electionTimeout && s.nodes[3].state == StateFollower; i++ {
				s.nodes[3].Tick()
			}
			want := StateCandidate
			if preVote {
				want = StatePreCandidate
			}
			if st := s.nodes[3].state; st != want {
				t.Fatalf("node 3 is %v after timing out, want %v", st, want)
			}
			n := len(s.delivered)
			s.deliver(and(anyMsg, not(ofType(raftpb.MsgHeartbeat, raftpb.MsgApp))))
			for _, m := range s.delivered[n:] {
				if (m.Type == raftpb.MsgVoteResp || m.Type == raftpb.MsgPreVoteResp) && !m.Reject && m.From != m.To {
					t.Fatalf("node %d granted %v to node 3 though it hears from a live leader (or is it)", m.From, m)
				}
			}
			for _, id := range []uint64{1, 2} {
				if after := witness(s, id); after != before[id] {
					t.Errorf("node %d: the election of a node that lost the leader changed its state: before %+v, after %+v",
						id, before[id], after)
				}
			}
			if st := s.nodes[1].state; st != StateLeader {
				t.Fatalf("the leader was disrupted: it is %v", st)
			}
			// Node 2 stops hearing from the leader for an election timeout:
			// now it grants.
			s.drop(anyMsg)
			for i := 0; i < s.nodes[2].settings.electionTimeout; i++ {
				s.nodes[2].Tick()
			}
			s.crash(1)
			for i := 0; i < 4*s.nodes[3].settings.electionTimeout && s.nodes[3].state != StateLeader; i++ {
				s.nodes[3].Tick()
				s.deliver(anyMsg)
			}
			if st := s.nodes[3].state; st != StateLeader {
				t.Fatalf("with the leader gone node 3 is %v, want leader: stickiness outlived the election timeout", st)
			}
		})
	}
}

// TestACandidateCountsItsOwnVoteOnlyOnceDurable: in the asynchronous mode
// a candidate's vote for itself goes through its append worker like any
// vote (thesis §3.8): with a voter's grant in hand but its own write not
// done, it is not leader yet.
func TestACandidateCountsItsOwnVoteOnlyOnceDurable(t *testing.T) {
	s := newRuleNet(t, 3, true, func(cfg *Config) { cfg.DisablePreVote = true })
	s.autoWorkers = false
	must(t, s.nodes[1].Campaign())
	s.flushAll()
	s.deliver(and(to(2), ofType(raftpb.MsgVote)))
	for len(s.appendQ[2]) > 0 {
		s.completeAppend(2) // node 2's vote is durable and leaves
	}
	s.deliver(and(to(1), ofType(raftpb.MsgVoteResp)))
	s.flushAll()
	if len(s.appendQ[1]) == 0 {
		t.Fatal("the candidate handed its append worker nothing to persist")
	}
	if s.nodes[1].state == StateLeader {
		t.Fatalf("node 1 leads with its own vote not durable (disk %v)", s.hardState(1))
	}
	for len(s.appendQ[1]) > 0 {
		s.completeAppend(1)
	}
	if s.nodes[1].state != StateLeader {
		t.Fatalf("node 1 is %v once its vote is durable, want leader", s.nodes[1].state)
	}
}

// TestAStaleCandidateDoesNotHoldBackAnUpToDateNode: §5.2 (Figure 2) lets
// only a granted vote or a leader restart the election timer. A vote
// request of a newer term from a candidate whose log is behind this
// node's moves it to that term, refused, but its election timer runs on:
// otherwise candidates with stale logs, each with a newer term, kept the
// only node able to win from campaigning (the simulator, without
// pre-vote, seed 24000142).
func TestAStaleCandidateDoesNotHoldBackAnUpToDateNode(t *testing.T) {
	c := newTestClusterWith(t, 3, func(cfg *Config) { cfg.DisablePreVote = true; cfg.DisableCheckQuorum = true })
	r := c.nodes[1]
	must(t, r.Campaign())
	c.stabilize()
	if r.state != StateLeader {
		t.Fatalf("node 1 is %v", r.state)
	}
	_, _, err := r.Propose([]byte("x"))
	must(t, err)
	c.stabilize()
	f := c.nodes[2]
	last := f.raftLog.lastEntryID()
	for i := 0; i < 3; i++ {
		f.Tick()
	}
	before := f.clock.electionElapsed
	stale := raftpb.Message{Type: raftpb.MsgVote, From: 3, To: 2, Term: f.term + 5, Index: last.index - 1, LogTerm: last.term}
	must(t, f.Step(stale))
	if f.term != stale.Term || f.vote != None {
		t.Fatalf("node 2 at term %d voted %d; want term %d, no vote", f.term, f.vote, stale.Term)
	}
	if f.clock.electionElapsed != before {
		t.Fatalf("a refused stale candidate restarted the election timer: %d ticks elapsed, was %d", f.clock.electionElapsed, before)
	}
	// A candidate it may vote for does restart it (the vote is granted).
	upToDate := raftpb.Message{Type: raftpb.MsgVote, From: 3, To: 2, Term: f.term + 1, Index: last.index, LogTerm: last.term}
	must(t, f.Step(upToDate))
	if f.vote != 3 || f.clock.electionElapsed != 0 {
		t.Fatalf("granting a vote: vote %d, %d ticks elapsed; want a vote for 3 and a restarted timer", f.vote, f.clock.electionElapsed)
	}
}
