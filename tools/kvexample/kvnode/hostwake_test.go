package kvnode

import (
	"context"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
)

// Claim: a sleeping group woken by a message is handed the ticks it
// missed (TickN) before the message is stepped (raft doc.go,
// "Quiescence"). A follower asleep for many election timeouts gets a
// pre-vote request of a higher term (sent in its leader's name, so that
// its answer cannot be mistaken for one to another member's campaign):
// with its clock caught up it has not heard from its leader within an
// election timeout, so it grants the pre-vote (thesis §9.6); stepped
// before its missed ticks, it would still believe its leader alive
// (leader stickiness, thesis §4.2.3) and ignore the request. The grant is
// read on the in-process network, not from the host.
func TestHostGivesAWokenGroupItsMissedTicksBeforeItsInput(t *testing.T) {
	const groups = 4
	hc := newHostCluster(t, 3, groups, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lead := awaitAllLed(ctx, t, hc)
	awaitAllAsleep(ctx, t, hc)
	const group = 1
	leader, follower := lead[group], uint64(1)
	if follower == leader {
		follower = 2
	}
	st, err := hc.status(ctx, follower)
	if err != nil {
		t.Fatal(err)
	}
	gs := st.PerGroup[group-1]
	// Asleep for four times the longest randomized election timeout.
	time.Sleep(8 * time.Duration(hc.base.ElectionTicks) * hc.base.TickInterval)
	if st, err := hc.status(ctx, follower); err != nil || st.PerGroup[group-1].State != "StateFollower" || st.Quiesced != groups {
		t.Fatalf("follower %d is no longer a sleeping follower of group %d: %+v, %v", follower, group, st, err)
	}
	answers := make(chan raftpb.Message, 16)
	hc.hub.mu.Lock()
	hc.hub.tap = func(gm groupMsg) {
		if gm.Group == group && gm.Message.Type == raftpb.MsgPreVoteResp && gm.Message.From == follower && gm.Message.To == leader {
			select {
			case answers <- gm.Message:
			default:
			}
		}
	}
	in := hc.hub.inboxes[follower]
	hc.hub.mu.Unlock()
	in <- []groupMsg{{Group: group, Message: raftpb.Message{
		Type: raftpb.MsgPreVote, From: leader, To: follower, Term: gs.Term + 1,
		LogTerm: gs.Term, Index: gs.Commit + 1000,
	}}}
	select {
	case m := <-answers:
		if m.Reject || m.Term != gs.Term+1 {
			t.Fatalf("follower %d answered the pre-vote of term %d with %+v, want a grant", follower, gs.Term+1, m)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("follower %d, asleep for %d election timeouts, did not answer a pre-vote: it was stepped before the ticks it missed",
			follower, 8)
	}
}
