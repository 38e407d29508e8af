package kvnode

import (
	"errors"
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
