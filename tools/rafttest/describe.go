package rafttest

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/tickraft/raft"
)

// RaftState returns one line per node in ID order: its role, term and
// leader, or "down" for a crashed node.
func (env *Env) RaftState() string {
	var b strings.Builder
	for _, id := range env.ids {
		rn := env.nodes[id].RawNode
		if rn == nil {
			fmt.Fprintf(&b, "%d: down\n", id)
			continue
		}
		s := rn.BasicStatus()
		fmt.Fprintf(&b, "%d: %v term=%d lead=%d", id, s.RaftState, s.Term, s.Lead)
		if s.Quiesced {
			b.WriteString(" quiesced")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// RaftLog returns the entries node id holds in its storage, one per line;
// a first line gives the snapshot they follow when the log was compacted.
// Entries the node has not yet handed out for persisting are not shown.
func (env *Env) RaftLog(id uint64) (string, error) {
	n, err := env.node(id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	first, _ := n.Storage.FirstIndex()
	last, _ := n.Storage.LastIndex()
	if first > 1 {
		snap, _ := n.Storage.Snapshot()
		fmt.Fprintf(&b, "snapshot: %v\n", snap)
	}
	for lo := first; lo <= last; {
		ents, err := n.Storage.Entries(lo, last+1, math.MaxUint64) // may stop short: ask again
		if err != nil {
			return "", err
		}
		for _, e := range ents {
			fmt.Fprintf(&b, "%v\n", e)
		}
		lo += uint64(len(ents))
	}
	if b.Len() == 0 {
		b.WriteString("(empty)\n")
	}
	return b.String(), nil
}

// StatusString returns node id's status: a first line with its role, hard
// state and applied index (and "transferee=N" while a leadership transfer
// to N runs, and the use of the bounds that is not zero), then on the leader one line per member with its progress, in
// ID order.
func (env *Env) StatusString(id uint64) (string, error) {
	s, err := env.Status(id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d: %v lead=%d %v applied=%d", id, s.RaftState, s.Lead, s.HardState, s.Applied)
	if s.LeadTransferee != 0 {
		fmt.Fprintf(&b, " transferee=%d", s.LeadTransferee)
	}
	describeBounds(&b, s)
	if f := s.Fetch; f != nil {
		fmt.Fprintf(&b, " fetching=%d/%d saved=%d/%d inflight=%d sources=%v", f.Term, f.Index, f.Saved, f.Chunks, f.Inflight, f.Sources)
	}
	b.WriteString("\n")
	for _, pid := range slices.Sorted(maps.Keys(s.Progress)) {
		pr := s.Progress[pid]
		fmt.Fprintf(&b, "  %d: %v\n", pid, pr.String())
	}
	return b.String(), nil
}

// describeBounds writes the use of the node's bounds that is not zero: the
// leader's uncommitted tail, the committed payload being applied, and the
// reads waiting on the leader or for the applied index.
func describeBounds(b *strings.Builder, s raft.Status) {
	if s.UncommittedEntries != 0 || s.UncommittedBytes != 0 {
		fmt.Fprintf(b, " uncommitted=%d entries/%d bytes", s.UncommittedEntries, s.UncommittedBytes)
	}
	if s.ApplyingBytes != 0 {
		fmt.Fprintf(b, " applying=%d bytes", s.ApplyingBytes)
	}
	if s.PendingReads != 0 {
		fmt.Fprintf(b, " pending-reads=%d", s.PendingReads)
	}
	if s.LocalReads != 0 {
		fmt.Fprintf(b, " local-reads=%d", s.LocalReads)
	}
}
