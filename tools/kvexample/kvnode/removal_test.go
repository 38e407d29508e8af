package kvnode

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Claim: a node that applies its own removal stops with ErrRemoved (the
// leader that removes itself applies it for sure), and the rest of the
// cluster goes on serving writes.
func TestANodeThatAppliesItsRemovalStops(t *testing.T) {
	tc := newTestCluster(t, 3, testConfig())
	lead := tc.leader()
	tc.put("before", 3)
	if err := tc.c.Remove(tc.ctx(), lead); err != nil {
		t.Fatalf("removing leader %d: %v", lead, err)
	}
	n := tc.nodes[lead]
	select {
	case <-n.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("node %d applied its removal and is still running", lead)
	}
	err := n.Stop()
	delete(tc.nodes, lead)
	if !errors.Is(err, ErrRemoved) {
		t.Fatalf("the removed node stopped with %v; want ErrRemoved", err)
	}
	last := tc.put("after", 3)
	for id := range tc.nodes {
		tc.checkKeys(id, "after", 3, last)
		if st := tc.status(id); len(st.Voters) != 2 {
			t.Fatalf("node %d: voters %v; want the two left", id, st.Voters)
		}
	}
}

// Claim: a node that was removed while it was down, and so never applies
// its removal, is told by a peer that applied it when it comes back, and
// stops with ErrRemoved instead of pre-campaigning forever.
func TestANodeRemovedWhileDownIsToldAndStops(t *testing.T) {
	tc := newTestCluster(t, 3, testConfig())
	lead := tc.leader()
	victim := lead%3 + 1
	tc.put("before", 3)
	tc.nodes[victim].Kill()
	delete(tc.nodes, victim)
	if err := tc.c.Remove(tc.ctx(), victim); err != nil {
		t.Fatalf("removing node %d: %v", victim, err)
	}
	tc.waitFor("both members to apply the removal", func() bool {
		for id := range tc.nodes {
			if st := tc.status(id); st == nil || len(st.Voters) != 2 {
				return false
			}
		}
		return true
	})
	n := tc.start(victim, false)
	select {
	case <-n.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("node %d, removed while down, is still running", victim)
	}
	err := n.Stop()
	delete(tc.nodes, victim)
	if !errors.Is(err, ErrRemoved) || !strings.Contains(err.Error(), "a peer applied its removal") {
		t.Fatalf("the removed node stopped with %v; want ErrRemoved told by a peer", err)
	}
	last := tc.put("after", 3)
	for id := range tc.nodes {
		tc.checkKeys(id, "after", 3, last)
	}
}

// Claim: a peer's word stops a node only if the removal it reports comes
// after the node was last added, and never a node that does not know when
// it was added.
func TestAPeersWordStopsANodeOnlyAfterItsAddition(t *testing.T) {
	n := &Node{}
	n.removal.toldRemoved(2, 40)
	if err := n.removedErr(); err != nil {
		t.Fatalf("a node that does not know when it was added: %v; want nil", err)
	}
	n.addedAt = 50
	if err := n.removedErr(); err != nil {
		t.Fatalf("removal at 40, added at 50: %v; want nil (it was added again)", err)
	}
	n.removal.toldRemoved(3, 60)
	n.removal.toldRemoved(2, 45) // an older word changes nothing
	if err := n.removedErr(); !errors.Is(err, ErrRemoved) {
		t.Fatalf("removal at 60, added at 50: %v; want ErrRemoved", err)
	}
}
