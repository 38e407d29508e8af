package sim

import (
	"testing"

	"github.com/tickraft/raft"
)

// TestResumedNodeTakesMissedTicksBeforeHeldMessages: a follower paused for
// three election timeouts gets every tick it missed before any message
// that arrived meanwhile, as the tick contract asks of an embedder. So it
// resumes as a pre-candidate (its election timer ran out while it was
// stopped) with the leader's heartbeats still waiting in its inbox: had
// the heartbeats been stepped first, they would have reset its timer.
func TestResumedNodeTakesMissedTicksBeforeHeldMessages(t *testing.T) {
	s, err := New(Options{Seed: 7, Nodes: 3, Steps: 2000})
	if err != nil {
		t.Fatal(err)
	}
	for s.leader() == nil && s.Now() < 400 {
		s.step()
	}
	lead := s.leader()
	if lead == nil {
		t.Fatal("no leader elected")
	}
	n := s.nodes[lead.id%3] // a follower
	ticks := 3 * s.opts.ElectionTick
	n.pausedUntil = s.now + uint64(ticks*s.opts.StepsPerTick)
	for s.now+1 < n.pausedUntil {
		s.step()
	}
	if s.failure != nil {
		t.Fatal(s.failure)
	}
	held := len(n.held)
	if held == 0 || n.missedTicks < ticks-1 {
		t.Fatalf("paused node %d holds %d messages and missed %d ticks; want heartbeats and about %d ticks", n.id, held, n.missedTicks, ticks)
	}
	s.resume(n)
	if st := n.rn.BasicStatus(); st.RaftState != raft.StatePreCandidate && st.RaftState != raft.StateCandidate {
		t.Fatalf("node %d resumed as %v: its missed ticks did not run out its election timer before the held messages", n.id, st.RaftState)
	}
	if len(n.inbox) < held {
		t.Fatalf("node %d has %d messages in its inbox after resuming, want the %d held", n.id, len(n.inbox), held)
	}
}
