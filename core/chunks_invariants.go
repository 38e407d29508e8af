package core

import "fmt"

// The chunked snapshot transfer's invariants, checked with the node's
// (CheckInvariants, and so after every RawNode method under the
// tickraft_invariants build tag).

// checkChunkInvariants checks the receiver and the source, when they
// exist.
func (r *Raft) checkChunkInvariants() error {
	if r.fetch != nil {
		if err := r.fetch.checkInvariants(); err != nil {
			return err
		}
	}
	if r.serving != nil {
		return r.serving.checkInvariants()
	}
	return nil
}

// checkInvariants: a transfer's counts agree with its chunks' states, its
// requests stay within their bounds (in all, and per source), and every
// request names a source of the transfer.
func (rc *chunkReceiver) checkInvariants() error {
	f := rc.cur
	if f == nil {
		return nil
	}
	var counts [4]uint64
	for _, st := range f.state {
		counts[st]++
	}
	perSource := map[uint64]int{}
	for _, a := range f.asked {
		if f.source(a.source) == nil {
			return fmt.Errorf("invariant: chunk %d asked of %d, not a source of the transfer", a.chunk, a.source)
		}
		perSource[a.source]++
	}
	switch {
	case counts[chunkAsked] != uint64(len(f.asked)) || counts[chunkSaving] != uint64(f.saving) || counts[chunkSaved] != f.saved:
		return fmt.Errorf("invariant: fetch counts asked=%d saving=%d saved=%d, chunk states %v", len(f.asked), f.saving, f.saved, counts)
	case f.inflight() > rc.bounds.maxInflight:
		return fmt.Errorf("invariant: fetch has %d chunks in flight, bound %d", f.inflight(), rc.bounds.maxInflight)
	case f.saved >= f.count():
		return fmt.Errorf("invariant: a transfer of %d chunks, all saved, is still in progress", f.count())
	}
	for _, s := range f.sources {
		if s.asked != perSource[s.id] || s.asked > rc.bounds.perSource {
			return fmt.Errorf("invariant: source %d counts %d requests, %d outstanding, bound %d", s.id, s.asked, perSource[s.id], rc.bounds.perSource)
		}
	}
	return nil
}

// checkInvariants: a source serves at most maxReceivers receivers, each
// once.
func (s *chunkSource) checkInvariants() error {
	if len(s.receivers) > s.maxReceivers {
		return fmt.Errorf("invariant: a source serves %d receivers, bound %d", len(s.receivers), s.maxReceivers)
	}
	for i := range s.receivers {
		for j := i + 1; j < len(s.receivers); j++ {
			if s.receivers[i].id == s.receivers[j].id {
				return fmt.Errorf("invariant: a source counts receiver %d twice", s.receivers[i].id)
			}
		}
	}
	return nil
}
