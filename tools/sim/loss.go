package sim

import (
	"fmt"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// loseLogSuffix rebuilds the storage of n, which is about to restart, as
// its disk reads after losing a suffix of its durable log: the snapshot
// and the hard state are intact (the hard state is a record of its own),
// the entries after a random point are gone, at least one of them. n then
// boots in recovering mode, as an application that found the loss would
// boot it. A node with no entries after its snapshot loses nothing.
func (s *Sim) loseLogSuffix(n *node) {
	first, _ := n.st.FirstIndex()
	last, _ := n.st.LastIndex()
	if last < first {
		return
	}
	keep := uint64(s.lossRNG.between(0, int(last-first)))
	hs, cs, _ := n.st.InitialState()
	snap, _ := n.st.Snapshot()
	kept, err := readEntries(n.st, first, first+keep)
	if err != nil {
		s.failf(ClassRefusal, "node %d: reading its own log: %v", n.id, err)
		return
	}
	st, err := rebuiltStorage(snap, cs, kept, hs)
	if err != nil {
		s.failf(ClassRefusal, "node %d: rebuilding its storage after a loss: %v", n.id, err)
		return
	}
	n.st = st
	n.lostLog, n.recovering = true, true
	if n.lossTerm == 0 {
		n.lossTerm = hs.Term
	}
	s.faultEvent(FaultLoseLog, n.id, "node %d lost entries %d..%d of its log (commit %d)", n.id, first+keep, last, hs.Commit)
}

// survivesOneLoss reports whether a configuration keeps a quorum of
// voters that lost nothing when one node loses its log: every half has
// three voters or more (a recovering node does not vote).
func survivesOneLoss(cs raftpb.ConfState) bool {
	return len(cs.Voters) >= 3 && (len(cs.VotersOutgoing) == 0 || len(cs.VotersOutgoing) >= 3)
}

// lossBlocksQuorum reports whether the latest configuration a running
// node applied has no quorum of voters that lost nothing, in either half:
// the recovering node votes for no one, so no leader can be elected. That
// is the outcome a loss on too many nodes must have (unavailable, never
// silently divergent), not a liveness failure.
func (s *Sim) lossBlocksQuorum() bool {
	var latest *node
	for _, n := range s.nodes {
		if n.up() && (latest == nil || n.kv.applied > latest.kv.applied) {
			latest = n
		}
	}
	if latest == nil || !s.anyRecovering() {
		return false
	}
	sound := func(voters []uint64) bool {
		ok := 0
		for _, id := range voters {
			if n := s.node(id); n != nil && !n.recovering {
				ok++
			}
		}
		return ok > len(voters)/2
	}
	cs := latest.conf
	return !sound(cs.Voters) || (len(cs.VotersOutgoing) > 0 && !sound(cs.VotersOutgoing))
}

// anyRecovering reports whether a node, running or not, has lost its log
// and not yet been seen out of recovering mode: a second loss then would
// be a loss on a second node at once.
func (s *Sim) anyRecovering() bool {
	any := false
	for _, n := range s.nodes {
		if n.recovering && n.up() && s.notRecovered(n) == "" {
			n.recovering = false // judged from its disk first (notRecovered)
		}
		any = any || n.recovering
	}
	return any
}

// checkRecovered fails the run if a running node has not recovered from
// a lost log at the end of a whole calm phase that was judged, so not one
// where too many voters lost their logs (the final phase converges only
// once no needed node is left recovering). Running all of it, connected,
// under a quorum of voters that lost nothing, the node must have become an
// ordinary member: a leader of a term past its boot term (its answers end
// the boot term's) brings it an entry of that term, whose durability ends
// recovering.
func (s *Sim) checkRecovered(when string) {
	for _, n := range s.nodes {
		if why := s.notRecovered(n); why != "" {
			s.failf(ClassLiveness, "node %d at the end of %s: %s:\n%s", n.id, when, why, s.describeNodes())
			return
		}
	}
}

// notRecovered says why a running node that lost its log is not an
// ordinary member again, or returns "". It judges from the disk model
// first: an entry of a term above the one the node held when it lost its
// log must be durable there (a leader elected without it brought it one).
// Only then does it ask the library, which must have ended recovering.
func (s *Sim) notRecovered(n *node) string {
	if !n.up() || n.lossTerm == 0 {
		return ""
	}
	last, _ := n.st.LastIndex()
	term, _ := n.st.Term(last)
	if term <= n.lossTerm {
		return fmt.Sprintf("lost its log at term %d, and its disk holds no entry of a newer term (last %d of term %d)", n.lossTerm, last, term)
	}
	if n.rn.BasicStatus().Recovering {
		return fmt.Sprintf("its disk holds entry %d of term %d, past the term %d of its loss, yet it still recovers", last, term, n.lossTerm)
	}
	n.lossTerm = 0
	return ""
}

// loseOverwrite rebuilds the storage of n, which is about to restart, as
// its disk reads after silently losing the last write that overwrote
// entries of its log, and every write after it: the older term's entries
// that write replaced are back (n.overwritten), and the hard state, a
// record of its own, keeps its term and vote but not a commit index past
// them. Nothing tells the application: n boots normally, and the log's
// length passes the boot check when the older tail is as long as what
// the node acknowledged. A Raft node then learns, from its leader's
// heartbeat, a commit index its log holds with another term (the older
// tail); it must commit none of it. It reports whether it made the loss:
// only when the entries n acknowledged and lost are held durably by a
// majority of the voters without n (each half of a joint configuration),
// so that no committed entry depends on n's copy, and n's vote cannot
// elect a leader lacking them. What goes wrong then is the library's
// doing.
func (s *Sim) loseOverwrite(n *node) bool {
	if len(n.overwritten) == 0 {
		return false
	}
	at := n.overwritten[0].Index
	first, _ := n.st.FirstIndex()
	last, _ := n.st.LastIndex()
	lastTerm, _ := n.st.Term(last)
	if at < first || last < at || !s.heldByQuorumWithout(n, entryAt{index: last, term: lastTerm}) {
		return false
	}
	if prev, err := n.st.Term(at - 1); err != nil || prev != n.overwrittenAfter {
		n.overwritten = nil // the log was cut below the overwrite since (a lost tail) and written again
		return false
	}
	hs, cs, _ := n.st.InitialState()
	snap, _ := n.st.Snapshot()
	if snap.Metadata.Index >= at {
		// A snapshot taken since covers the overwritten entries: it was
		// written after the overwrite, so the disk would lose it too,
		// and the older tail cannot follow it.
		n.overwritten = nil
		return false
	}
	kept, err := readEntries(n.st, first, at)
	if err != nil {
		s.failf(ClassRefusal, "node %d: reading its own log: %v", n.id, err)
		return false
	}
	hs.Commit = min(hs.Commit, at-1)
	st, err := rebuiltStorage(snap, cs, append(kept, n.overwritten...), hs)
	if err != nil {
		s.failf(ClassRefusal, "node %d: rebuilding its storage after a lost overwrite: %v", n.id, err)
		return false
	}
	older := n.overwritten
	n.st, n.overwritten = st, nil
	n.lostOverwrite = entryAt{index: at, term: older[0].Term}
	s.faultEvent(FaultLoseOverwrite, n.id, "node %d lost the overwrite of %d..%d (its log ended at %d of term %d): entries %d..%d of term %d..%d are back (commit %d)",
		n.id, at, last, last, lastTerm, at, older[len(older)-1].Index, older[0].Term, older[len(older)-1].Term, hs.Commit)
	return true
}

// anyLostOverwrite reports whether a node's disk still holds the first
// entry of an older tail that a lost overwrite brought back, forgetting
// the losses that its leader has since repaired (overwritten or
// compacted).
func (s *Sim) anyLostOverwrite() bool {
	any := false
	for _, n := range s.nodes {
		if n.lostOverwrite == (entryAt{}) {
			continue
		}
		if t, err := n.st.Term(n.lostOverwrite.index); err != nil || t != n.lostOverwrite.term {
			n.lostOverwrite = entryAt{}
			continue
		}
		any = true
	}
	return any
}

// entryAt names an entry by index and term.
type entryAt struct{ index, term uint64 }

// heldByQuorumWithout reports whether e is durable on a majority of the
// voters (of each half, if joint), not counting n, in n's configuration
// and in the latest one a running node applied.
func (s *Sim) heldByQuorumWithout(n *node, e entryAt) bool {
	held := func(voters []uint64) bool {
		count := 0
		for _, id := range voters {
			o := s.node(id)
			if id == n.id || o == nil {
				continue
			}
			if t, err := o.st.Term(e.index); err == nil && t == e.term {
				count++
			}
		}
		return count > len(voters)/2
	}
	heldIn := func(cs raftpb.ConfState) bool {
		return held(cs.Voters) && (len(cs.VotersOutgoing) == 0 || held(cs.VotersOutgoing))
	}
	latest := n
	for _, o := range s.nodes {
		if o.up() && o.kv.applied > latest.kv.applied {
			latest = o
		}
	}
	return heldIn(n.conf) && heldIn(latest.conf)
}

// rebuiltStorage returns a storage holding what a disk that lost writes
// reads: snap (or, without one, the configuration cs), then ents, then
// hs.
func rebuiltStorage(snap raftpb.Snapshot, cs raftpb.ConfState, ents []raftpb.Entry, hs raftpb.HardState) (*raft.MemoryStorage, error) {
	st := raft.NewMemoryStorage()
	var err error
	if snap.Metadata.Index > 0 {
		err = st.ApplySnapshot(snap)
	} else {
		st.SetConfState(cs)
	}
	if err == nil {
		err = st.Append(ents)
	}
	if err == nil {
		err = st.SetHardState(hs)
	}
	return st, err
}
