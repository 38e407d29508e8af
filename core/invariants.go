package core

import (
	"fmt"
	"math"

	"github.com/tickraft/raft/tracker"
)

// CheckInvariants checks the whole state of the node and returns the first
// broken invariant. Tests, property runs and the simulator (tools/sim)
// call it, through RawNode.CheckInvariants, after every input they give a
// node; a non-nil answer is a bug in the library.
func (r *Raft) CheckInvariants() error {
	if err := r.raftLog.checkInvariants(); err != nil {
		return fmt.Errorf("invariant: log: %w", err)
	}
	switch {
	case r.state == StateLeader && r.lead != r.id:
		return fmt.Errorf("invariant: leader %d names %d as leader", r.id, r.lead)
	case r.state == StateCandidate && r.vote != r.id:
		return fmt.Errorf("invariant: candidate %d voted for %d", r.id, r.vote)
	}
	if err := r.trk.CheckInvariants(); err != nil {
		return fmt.Errorf("invariant: tracker: %w", err)
	}
	if err := r.checkFetchInvariants(); err != nil {
		return err
	}
	if r.state == StateLeader {
		return r.checkLeaderInvariants()
	}
	return nil
}

// checkFetchInvariants: a snapshot transfer's counts agree with its
// chunks' states, and its requests stay within their bounds.
func (r *Raft) checkFetchInvariants() error {
	f := r.fetch
	if f == nil {
		return nil
	}
	var counts [4]uint64
	for _, st := range f.state {
		counts[st]++
	}
	perSource := map[uint64]int{}
	for _, a := range f.asked {
		perSource[a.source]++
	}
	switch {
	case counts[chunkAsked] != uint64(len(f.asked)) || counts[chunkSaving] != uint64(f.saving) || counts[chunkSaved] != f.saved:
		return fmt.Errorf("invariant: fetch counts asked=%d saving=%d saved=%d, chunk states %v", len(f.asked), f.saving, f.saved, counts)
	case f.inflight() > r.chunks.maxInflight:
		return fmt.Errorf("invariant: fetch has %d chunks in flight, bound %d", f.inflight(), r.chunks.maxInflight)
	}
	for _, s := range f.sources {
		if s.asked != perSource[s.id] || s.asked > r.chunks.perSource {
			return fmt.Errorf("invariant: source %d counts %d requests, %d outstanding, bound %d", s.id, s.asked, perSource[s.id], r.chunks.perSource)
		}
	}
	return nil
}

// checkLeaderInvariants: no follower has acknowledged beyond the leader's
// log, and the uncommitted-size accounting stays within its bound.
func (r *Raft) checkLeaderInvariants() error {
	var err error
	last := r.raftLog.lastIndex()
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		switch {
		case err != nil:
		case pr.Match > last:
			err = fmt.Errorf("invariant: %d acknowledged %d beyond the leader's last index %d", id, pr.Match, last)
		case pr.Inflights == nil:
			err = fmt.Errorf("invariant: the leader has no window of appends for %d", id)
		}
	})
	if err != nil {
		return err
	}
	return r.checkUncommittedTail()
}

// checkUncommittedTail: the leader's uncommitted counts are exactly the
// entries of its term not yet handed out to apply, and their payload.
func (r *Raft) checkUncommittedTail() error {
	from, last := r.raftLog.applying+1, r.raftLog.lastIndex()
	if from > last {
		if r.uncommittedEntries != 0 || r.uncommittedSize != 0 {
			return fmt.Errorf("invariant: empty tail counted as %d entries, %d bytes", r.uncommittedEntries, r.uncommittedSize)
		}
		return nil
	}
	ents, err := r.raftLog.slice(from, last+1, math.MaxUint64)
	if err != nil {
		return nil // compacted or unavailable: nothing to compare
	}
	n, size := 0, uint64(0)
	for i := range ents {
		if ents[i].Term == r.term {
			n++
			size += uint64(len(ents[i].Data))
		}
	}
	if n != r.uncommittedEntries || size != r.uncommittedSize {
		return fmt.Errorf("invariant: uncommitted tail holds %d entries, %d bytes of term %d, counted %d entries, %d bytes",
			n, size, r.term, r.uncommittedEntries, r.uncommittedSize)
	}
	return nil
}
