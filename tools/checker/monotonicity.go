package checker

// CheckMonotonicity verifies that a node's progress never goes backwards:
// within an epoch (between restarts) its term, commit index and applied
// index never decrease from one observation to the next; after a restart
// they never fall below the HardState and applied index it restarted from;
// and the entries it applies follow each other index by index, from the
// applied index it started from, a snapshot jumping ahead.
func CheckMonotonicity(h *History) error {
	for _, n := range h.sortedNodes() {
		for _, ep := range n.epochs {
			if err := checkEpochProgress(n.id, ep); err != nil {
				return err
			}
			if err := checkEpochApplied(n.id, ep); err != nil {
				return err
			}
		}
	}
	return nil
}

// progress is the part of a node's state that must not go backwards.
type progress struct {
	term, commit, applied uint64
	event                 uint64
}

// checkEpochProgress compares each observation of an epoch with the one
// before it, the first with what the node restarted from.
func checkEpochProgress(id uint64, ep *epoch) error {
	last := progress{term: ep.persisted.Term, commit: ep.persisted.Commit, applied: ep.persistedApplied, event: ep.event}
	for _, o := range ep.obs {
		cur := progress{term: o.Hard.Term, commit: o.Hard.Commit, applied: o.Applied, event: o.event}
		if err := checkNotBehind(id, last, cur); err != nil {
			return err
		}
		last = cur
	}
	return nil
}

// checkNotBehind reports the first field of cur below last.
func checkNotBehind(id uint64, last, cur progress) error {
	switch {
	case cur.term < last.term:
		return regressed(id, "term", last.term, cur.term, last.event, cur.event)
	case cur.commit < last.commit:
		return regressed(id, "commit index", last.commit, cur.commit, last.event, cur.event)
	case cur.applied < last.applied:
		return regressed(id, "applied index", last.applied, cur.applied, last.event, cur.event)
	}
	return nil
}

// regressed reports a value that went backwards; event 0 is the boot.
func regressed(id uint64, what string, was, now, wasEvent, nowEvent uint64) error {
	return violation(Monotonicity, "node %d: %s went back from %d (event %d) to %d (event %d)",
		id, what, was, wasEvent, now, nowEvent)
}

// checkEpochApplied verifies that an epoch's applied entries follow each
// other without gap or repeat.
func checkEpochApplied(id uint64, ep *epoch) error {
	last, lastEvent := ep.persistedApplied, ep.event
	for _, r := range ep.applied {
		i := r.entry.Index
		switch {
		case r.snapshot && i <= last:
			return violation(Monotonicity, "node %d applied a snapshot at index %d (event %d) after applying index %d (event %d)",
				id, i, r.event, last, lastEvent)
		case !r.snapshot && i != last+1:
			return violation(Monotonicity, "node %d applied index %d (event %d) right after index %d (event %d)",
				id, i, r.event, last, lastEvent)
		}
		last, lastEvent = i, r.event
	}
	return nil
}
