package core

import "github.com/tickraft/raft/tracker"

// The leader's windows of appends in flight, lent by a GroupCache.
//
// A leader holds a window (tracker.Inflights) for every follower, but a
// window holds something only while appends to that follower are in
// flight in StateReplicate: in an idle group, never. So the nodes given a
// GroupCache hold, for a follower with nothing in flight, the cache's
// empty window (windowPool.empty), which nobody writes: an empty window
// is never full, and freeing or resetting an empty window writes nothing.
// Before an append is recorded in it, the leader takes a window of its
// own from the cache (ownWindow), and once an acknowledgement or a
// rejection empties it, gives it back (returnEmptyWindow). A busy leader
// thus allocates no window per append, and an idle group holds none. A
// node without a cache holds a window of its own for every follower, as
// it always did.

// maxSpareWindows bounds the emptied windows a pool keeps for the next
// append: what it cannot keep is left to the collector.
const maxSpareWindows = 32

// windowPool is what a GroupCache keeps for the windows of one pair of
// bounds: the empty window its nodes share, and emptied windows of their
// own given back.
type windowPool struct {
	maxMsgs  int
	maxBytes uint64
	// empty is the shared empty window; it is never written.
	empty *tracker.Inflights
	// spare are emptied windows given back, for the next append.
	spare []*tracker.Inflights
}

// take returns an empty window of the pool's bounds for one node alone.
func (p *windowPool) take() *tracker.Inflights {
	if n := len(p.spare); n > 0 {
		w := p.spare[n-1]
		p.spare[n-1] = nil
		p.spare = p.spare[:n-1]
		return w
	}
	return tracker.NewInflights(p.maxMsgs, p.maxBytes)
}

// put takes back an emptied window, keeping it if the pool has room.
func (p *windowPool) put(w *tracker.Inflights) {
	if len(p.spare) < maxSpareWindows {
		p.spare = append(p.spare, w)
	}
}

// newWindow returns the window a leader gives a follower it starts to
// track: the cache's shared empty one, or one of its own without a cache.
func (r *Raft) newWindow() *tracker.Inflights {
	if p := r.settings.windows; p != nil {
		return p.empty
	}
	return tracker.NewInflights(r.settings.maxInflight, r.settings.maxInflightBytes)
}

// ownWindow gives pr a window of its own, from the cache, before an append
// of entries (n of them) is recorded in it: in StateReplicate, the only
// state whose appends the window counts.
func (r *Raft) ownWindow(pr *tracker.Progress, n int) {
	if p := r.settings.windows; p != nil && n > 0 && pr.State == tracker.StateReplicate && pr.Inflights == p.empty {
		pr.Inflights = p.take()
	}
}

// returnEmptyWindow gives pr's window back to the cache once it is empty,
// and lets pr hold the shared empty window instead.
func (r *Raft) returnEmptyWindow(pr *tracker.Progress) {
	if p := r.settings.windows; p != nil && pr.Inflights != p.empty && pr.Inflights != nil && pr.Inflights.Count() == 0 {
		p.put(pr.Inflights)
		pr.Inflights = p.empty
	}
}
