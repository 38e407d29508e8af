package checker

// CheckStateMachineSafety verifies State Machine Safety (§5.4.3): no two
// nodes, and no node in two epochs, apply different entries at the same
// index. A snapshot applied at an index counts as the entry of its term
// there.
func CheckStateMachineSafety(h *History) error {
	first := make(map[uint64]appliedRecord)
	for _, r := range h.appliedRecords() {
		was, ok := first[r.entry.Index]
		if !ok {
			first[r.entry.Index] = r
			continue
		}
		if !sameApplied(was, r) {
			return violation(StateMachineSafety, "index %d: node %d applied %s (event %d) but node %d applied %s (event %d)",
				r.entry.Index, was.node, was.describe(), was.event, r.node, r.describe(), r.event)
		}
	}
	return nil
}

// sameApplied reports whether two records applied the same thing at one
// index: the same term, and the same entry when neither is a snapshot.
func sameApplied(a, b appliedRecord) bool {
	if a.snapshot || b.snapshot {
		return a.entry.Term == b.entry.Term
	}
	return sameEntry(a.entry, b.entry)
}

// describe returns the record as a report quotes it.
func (r appliedRecord) describe() string {
	if r.snapshot {
		return "a snapshot of " + r.entry.String()
	}
	return r.entry.String()
}
