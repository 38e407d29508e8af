package checker

import (
	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
)

// CheckLeaderAppendOnly verifies Leader Append-Only (§5.3): while a node
// leads a term, every later observation of its log (in the same epoch)
// still holds every entry an earlier one held, unchanged. Entries that
// compaction moved below the log's first index are not counted as deleted.
func CheckLeaderAppendOnly(h *History) error {
	for _, n := range h.sortedNodes() {
		for _, ep := range n.epochs {
			if err := checkEpochAppendOnly(n.id, ep); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkEpochAppendOnly compares each leader observation of one epoch with
// the previous observation as leader of the same term.
func checkEpochAppendOnly(id uint64, ep *epoch) error {
	last := make(map[uint64]observed) // term -> last observation as its leader
	for _, o := range ep.obs {
		if o.Soft.RaftState != core.StateLeader {
			continue
		}
		if prev, ok := last[o.Hard.Term]; ok && !sameSlice(prev.Log, o.Log) {
			if err := checkExtends(id, o.Hard.Term, prev, o); err != nil {
				return err
			}
		}
		last[o.Hard.Term] = o
	}
	return nil
}

// checkExtends reports a violation if cur's log lost or changed an entry
// prev's log held (at or above cur's first index).
func checkExtends(id, term uint64, prev, cur observed) error {
	from := max(firstIndex(prev.Log), firstIndex(cur.Log))
	for i := from; i <= lastIndex(prev.Log) && from > 0; i++ {
		was, _ := entryAt(prev.Log, i)
		now, ok := entryAt(cur.Log, i)
		if !ok {
			return violation(LeaderAppendOnly, "node %d, leader of term %d, deleted index %d: it held %v at event %d but its log ends at %d at event %d",
				id, term, i, was, prev.event, lastIndex(cur.Log), cur.event)
		}
		if !sameEntry(was, now) {
			return overwritten(id, term, was, now, prev.event, cur.event)
		}
	}
	return nil
}

// overwritten reports a leader's entry replaced by another.
func overwritten(id, term uint64, was, now raftpb.Entry, prevEvent, curEvent uint64) error {
	return violation(LeaderAppendOnly, "node %d, leader of term %d, overwrote index %d: %v at event %d became %v at event %d",
		id, term, was.Index, was, prevEvent, now, curEvent)
}
