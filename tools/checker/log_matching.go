package checker

import "github.com/tickraft/raft/raftpb"

// entryKey identifies an entry the way Raft does: by index and term.
type entryKey struct {
	index, term uint64
}

// holding is the first sighting of an entry in some log, and the first
// sighting of it together with the entry before it (a log starting at it
// has none): the term found there.
type holding struct {
	sighting
	entry    raftpb.Entry
	prevAt   sighting
	prevTerm uint64
	hasPrev  bool
}

// CheckLogMatching verifies the Log Matching property (§5.3): if two logs
// (of any nodes, at any times) hold an entry with the same index and term,
// they hold the same entries up to that index.
//
// It checks the equivalent local rule, by induction on the index: every
// log that holds the entry (index, term) holds the same content there and
// the same term at index-1. Two logs that agree on (i, t) then agree on
// the term at i-1, hence on the entry at i-1, and so on down to the first
// index either holds.
func CheckLogMatching(h *History) error {
	seen := make(map[entryKey]*holding)
	for _, n := range h.sortedNodes() {
		var prev []raftpb.Entry
		for _, ep := range n.epochs {
			for _, o := range ep.obs {
				if prev != nil && sameSlice(prev, o.Log) {
					continue
				}
				prev = o.Log
				if err := matchLog(seen, sighting{node: n.id, event: o.event}, o.Log); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// matchLog checks every entry of one log against the first sighting of
// the same (index, term), recording the entries seen for the first time.
func matchLog(seen map[entryKey]*holding, at sighting, log []raftpb.Entry) error {
	for k, e := range log {
		cur := holding{sighting: at, entry: e}
		if k > 0 {
			cur.prevAt, cur.prevTerm, cur.hasPrev = at, log[k-1].Term, true
		}
		first, ok := seen[entryKey{e.Index, e.Term}]
		if !ok {
			seen[entryKey{e.Index, e.Term}] = &cur
			continue
		}
		if err := matchHolding(first, &cur); err != nil {
			return err
		}
	}
	return nil
}

// matchHolding compares a sighting of an entry with its first sighting.
func matchHolding(first, cur *holding) error {
	e := cur.entry
	if !sameEntry(first.entry, e) {
		return violation(LogMatching, "node %d (event %d) holds %v and node %d (event %d) holds %v: same index and term, different content",
			first.node, first.event, first.entry, cur.node, cur.event, e)
	}
	if !cur.hasPrev {
		return nil
	}
	if !first.hasPrev {
		first.prevAt, first.prevTerm, first.hasPrev = cur.prevAt, cur.prevTerm, true
		return nil
	}
	if first.prevTerm != cur.prevTerm {
		return violation(LogMatching, "nodes %d (event %d) and %d (event %d) both hold %d/%d but disagree at index %d: term %d vs term %d",
			first.prevAt.node, first.prevAt.event, cur.node, cur.event, e.Term, e.Index, e.Index-1, first.prevTerm, cur.prevTerm)
	}
	return nil
}
