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
	st := raft.NewMemoryStorage()
	if snap.Metadata.Index > 0 {
		err = st.ApplySnapshot(snap)
	} else {
		st.SetConfState(cs)
	}
	if err == nil {
		err = st.Append(kept)
	}
	if err == nil {
		err = st.SetHardState(hs)
	}
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
