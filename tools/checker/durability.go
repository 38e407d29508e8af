package checker

import "github.com/tickraft/raft/raftpb"

// CheckDurability verifies that no proposal acknowledged to a client as
// committed is ever lost: every node that applies its index applies it
// (same term and data), every node that applies past its index has applied
// it (or a snapshot covering it, or restarted from a state covering it),
// and every log that holds its index at or below the commit index holds it.
func CheckDurability(h *History) error {
	obs := h.observations()
	for _, a := range h.acks {
		if err := checkAckApplied(h, a); err != nil {
			return err
		}
		if err := checkAckInLogs(obs, a); err != nil {
			return err
		}
	}
	return nil
}

// checkAckApplied checks one acknowledged proposal against each node's
// applied sequence.
func checkAckApplied(h *History, a ack) error {
	for _, n := range h.sortedNodes() {
		covered, beyond := false, appliedRecord{}
		for _, ep := range n.epochs {
			covered = covered || ep.persistedApplied >= a.entry.Index
			for _, r := range ep.applied {
				if err := checkAppliedRecord(a, r); err != nil {
					return err
				}
				covered = covered || r.entry.Index == a.entry.Index || (r.snapshot && r.entry.Index >= a.entry.Index)
				if r.entry.Index > a.entry.Index && beyond.event == 0 {
					beyond = r
				}
			}
		}
		if !covered && beyond.event != 0 {
			return violation(Durability, "acknowledged %s (event %d) was lost by node %d: it applied index %d (event %d) without ever applying %d",
				describeAck(a), a.event, n.id, beyond.entry.Index, beyond.event, a.entry.Index)
		}
	}
	return nil
}

// checkAppliedRecord reports an entry applied at the acknowledged index
// that is not the acknowledged one.
func checkAppliedRecord(a ack, r appliedRecord) error {
	if r.entry.Index != a.entry.Index || sameApplied(appliedRecord{entry: a.entry}, r) {
		return nil
	}
	return violation(Durability, "acknowledged %s (event %d) was lost: node %d applied %s at its index (event %d)",
		describeAck(a), a.event, r.node, r.describe(), r.event)
}

// checkAckInLogs checks one acknowledged proposal against every log that
// holds its index as committed.
func checkAckInLogs(obs []observed, a ack) error {
	for _, o := range obs {
		if o.Hard.Commit < a.entry.Index {
			continue
		}
		e, ok := entryAt(o.Log, a.entry.Index)
		if ok && !sameEntry(e, a.entry) {
			return violation(Durability, "acknowledged %s (event %d) was lost: node %d holds %v at its index, committed up to %d (event %d)",
				describeAck(a), a.event, o.ID, e, o.Hard.Commit, o.event)
		}
	}
	return nil
}

// describeAck returns the acknowledged entry as reports quote it.
func describeAck(a ack) string { return raftpb.DescribeEntries([]raftpb.Entry{a.entry}) }
