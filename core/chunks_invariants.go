package core

import "fmt"

// The chunked snapshot transfer's invariants, checked with the node's
// (CheckInvariants, which tests and the simulator call after every input,
// and every RawNode method calls on its way out under the
// tickraft_invariants build tag, which also turns on the O(chunks) scan).

// checkChunkInvariants checks the receiver and the source, when they
// exist.
func (r *Raft) checkChunkInvariants() error {
	if r.chunkFetch() != nil {
		if err := r.chunkFetch().checkInvariants(); err != nil {
			return err
		}
	}
	if r.chunkServing() != nil {
		return r.chunkServing().checkInvariants()
	}
	return nil
}

// checkInvariants: a transfer's requests stay within their bounds (in
// all, and per source), every request names a source of the transfer, and
// a transfer with every chunk saved has ended. It costs O(sources x
// requests), both small; the scan of every chunk's state against the
// counts, O(chunks), is an assertion of the tickraft_invariants tag.
func (rc *chunkReceiver) checkInvariants() error {
	f := rc.cur
	if f == nil {
		return nil
	}
	switch {
	case f.inflight() > rc.bounds.maxInflight:
		return fmt.Errorf("invariant: fetch has %d chunks in flight, bound %d", f.inflight(), rc.bounds.maxInflight)
	case f.saved >= f.count():
		return fmt.Errorf("invariant: a transfer of %d chunks, all saved, is still in progress", f.count())
	}
	for _, a := range f.asked {
		if f.source(a.source) == nil {
			return fmt.Errorf("invariant: chunk %d asked of %d, not a source of the transfer", a.chunk, a.source)
		}
	}
	for _, s := range f.sources {
		outstanding := 0
		for _, a := range f.asked {
			if a.source == s.id {
				outstanding++
			}
		}
		if s.asked != outstanding || s.asked > rc.bounds.perSource {
			return fmt.Errorf("invariant: source %d counts %d requests, %d outstanding, bound %d", s.id, s.asked, outstanding, rc.bounds.perSource)
		}
	}
	if assertInvariants {
		return f.checkChunkStates()
	}
	return nil
}

// checkChunkStates: the counts of chunks asked, being saved and saved
// agree with the chunks' states.
func (f *snapFetch) checkChunkStates() error {
	var counts [4]uint64
	for _, st := range f.state {
		counts[st]++
	}
	if counts[chunkAsked] != uint64(len(f.asked)) || counts[chunkSaving] != uint64(f.saving) || counts[chunkSaved] != f.saved {
		return fmt.Errorf("invariant: fetch counts asked=%d saving=%d saved=%d, chunk states %v", len(f.asked), f.saving, f.saved, counts)
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
