package checker

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
)

// commitment is the earliest-term sighting of an entry as committed: a node
// in term term whose log held the entry at or below its commit index. The
// entry was therefore committed in term term or before.
type commitment struct {
	sighting
	key  entryKey
	term uint64
}

// CheckLeaderCompleteness verifies Leader Completeness (§5.4): an entry
// committed in a term is in the log of every leader of every later term.
//
// An entry counts as committed in term T when a node in term T held it at
// or below its commit index (the commit index a node of term T knows was
// reached in T or before). Every observation of a leader of a term above T
// must then hold it, unless compaction moved it below the leader's first
// index.
func CheckLeaderCompleteness(h *History) error {
	committed := collectCommitments(h)
	for _, n := range h.sortedNodes() {
		var prev observed
		for _, ep := range n.epochs {
			for _, o := range ep.obs {
				if o.Soft.RaftState != core.StateLeader || (sameSlice(prev.Log, o.Log) && prev.Hard.Term == o.Hard.Term) {
					continue
				}
				prev = o
				if err := checkLeaderHolds(o, committed); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// collectCommitments returns every entry seen committed, with the lowest
// term it was seen committed in (the earliest event among equals), ordered
// by index and then term.
func collectCommitments(h *History) []commitment {
	byKey := make(map[entryKey]commitment)
	for _, n := range h.sortedNodes() {
		var prev observed
		for _, ep := range n.epochs {
			for _, o := range ep.obs {
				if sameSlice(prev.Log, o.Log) && prev.Hard == o.Hard {
					continue
				}
				prev = o
				addCommitments(byKey, o)
			}
		}
	}
	out := make([]commitment, 0, len(byKey))
	for _, c := range byKey {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b commitment) int {
		if a.key.index != b.key.index {
			return cmp.Compare(a.key.index, b.key.index)
		}
		return cmp.Compare(a.key.term, b.key.term)
	})
	return out
}

// addCommitments records the entries of o's log at or below its commit
// index.
func addCommitments(byKey map[entryKey]commitment, o observed) {
	end := min(o.Hard.Commit, lastIndex(o.Log))
	for i := firstIndex(o.Log); i > 0 && i <= end; i++ {
		e, _ := entryAt(o.Log, i)
		k := entryKey{index: e.Index, term: e.Term}
		c, ok := byKey[k]
		if ok && (c.term < o.Hard.Term || (c.term == o.Hard.Term && c.event < o.event)) {
			continue
		}
		byKey[k] = commitment{sighting: sighting{node: o.ID, event: o.event}, key: k, term: o.Hard.Term}
	}
}

// checkLeaderHolds reports the first entry committed before the leader's
// term that the leader's log lacks.
func checkLeaderHolds(o observed, committed []commitment) error {
	for _, c := range committed {
		if c.term >= o.Hard.Term || c.key.index < firstIndex(o.Log) {
			continue
		}
		e, ok := entryAt(o.Log, c.key.index)
		if ok && e.Term == c.key.term {
			continue
		}
		return violation(LeaderCompleteness, "%d/%d, committed by term %d (node %d saw it committed at event %d), is missing from node %d, leader of term %d at event %d: %s",
			c.key.term, c.key.index, c.term, c.node, c.event, o.ID, o.Hard.Term, o.event, holdsInstead(o.Log, c.key.index))
	}
	return nil
}

// holdsInstead describes what a log has at index i.
func holdsInstead(log []raftpb.Entry, i uint64) string {
	if e, ok := entryAt(log, i); ok {
		return fmt.Sprintf("it holds %d/%d there", e.Term, e.Index)
	}
	return fmt.Sprintf("its log ends at %d", lastIndex(log))
}
