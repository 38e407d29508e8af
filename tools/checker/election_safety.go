package checker

import "github.com/tickraft/raft/core"

// sighting is one node seen in some state at one event.
type sighting struct {
	node  uint64
	event uint64
}

// CheckElectionSafety verifies Election Safety (§5.2): at most one node is
// ever seen as leader in a given term, across the whole History, restarts
// included.
func CheckElectionSafety(h *History) error {
	leaders := make(map[uint64]sighting)
	for _, o := range h.observations() {
		if o.Soft.RaftState != core.StateLeader {
			continue
		}
		term := o.Hard.Term
		first, ok := leaders[term]
		if !ok {
			leaders[term] = sighting{node: o.ID, event: o.event}
			continue
		}
		if first.node != o.ID {
			return violation(ElectionSafety, "term %d has two leaders: node %d (event %d) and node %d (event %d)",
				term, first.node, first.event, o.ID, o.event)
		}
	}
	return nil
}
