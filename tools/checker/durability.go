package checker

import (
	"cmp"
	"slices"

	"github.com/tickraft/raft/raftpb"
)

// CheckDurability verifies that no proposal acknowledged to a client as
// committed is ever lost: every node that applies its index applies it
// (same term and data), every node that applies past its index has applied
// it (or a snapshot covering it, or restarted from a state covering it),
// and every log that holds its index at or below the commit index holds it.
func CheckDurability(h *History) error {
	nodes := h.sortedNodes()
	applied := make([]appliedIndex, len(nodes))
	for i, n := range nodes {
		applied[i] = indexApplied(n)
	}
	obs := h.observations()
	for _, a := range h.acks {
		for i := range applied {
			if err := applied[i].checkAck(a); err != nil {
				return err
			}
		}
		if err := checkAckInLogs(obs, a); err != nil {
			return err
		}
	}
	return nil
}

// appliedIndex is one node's apply records, all epochs together, indexed
// so that each acknowledged proposal is checked against them in
// logarithmic time rather than by a scan.
type appliedIndex struct {
	id uint64
	// inOrder holds the records in event order, and reach[k] the highest
	// index among inOrder[:k+1]; byIndex holds them by index, in event
	// order among equals.
	inOrder, byIndex []appliedRecord
	reach            []uint64
	// covered is the highest index a restart or a snapshot brought the
	// node to without applying the entries below it.
	covered uint64
}

// indexApplied indexes the apply records of n.
func indexApplied(n *nodeHistory) appliedIndex {
	ix := appliedIndex{id: n.id}
	for _, ep := range n.epochs {
		ix.covered = max(ix.covered, ep.persistedApplied)
		for _, r := range ep.applied {
			if r.snapshot {
				ix.covered = max(ix.covered, r.entry.Index)
			}
			top := r.entry.Index
			if k := len(ix.reach); k > 0 {
				top = max(top, ix.reach[k-1])
			}
			ix.inOrder, ix.reach = append(ix.inOrder, r), append(ix.reach, top)
		}
	}
	ix.byIndex = slices.Clone(ix.inOrder)
	slices.SortStableFunc(ix.byIndex, func(a, b appliedRecord) int { return cmp.Compare(a.entry.Index, b.entry.Index) })
	return ix
}

// checkAck checks one acknowledged proposal against the node's records:
// what it applied at the proposal's index, then whether it applied past
// the index without ever holding it.
func (ix *appliedIndex) checkAck(a ack) error {
	i := a.entry.Index
	lo, _ := slices.BinarySearchFunc(ix.byIndex, i, func(r appliedRecord, i uint64) int { return cmp.Compare(r.entry.Index, i) })
	at := lo
	for ; at < len(ix.byIndex) && ix.byIndex[at].entry.Index == i; at++ {
		if err := checkAppliedRecord(a, ix.byIndex[at]); err != nil {
			return err
		}
	}
	if at > lo || ix.covered >= i {
		return nil
	}
	k, _ := slices.BinarySearch(ix.reach, i+1) // the first record past i
	if k == len(ix.reach) {
		return nil
	}
	beyond := ix.inOrder[k]
	return violation(Durability, "acknowledged %s (event %d) was lost by node %d: it applied index %d (event %d) without ever applying %d",
		describeAck(a), a.event, ix.id, beyond.entry.Index, beyond.event, i)
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
