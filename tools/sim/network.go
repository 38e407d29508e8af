package sim

import (
	"container/heap"

	"github.com/tickraft/raft/raftpb"
)

// envelope is one message in flight: encoded to bytes when it is sent, as
// a real transport would, so that what arrives is a value that shares
// nothing with the sender, and decoded when it is delivered.
type envelope struct {
	// at is the step at which the message arrives; seq orders messages
	// arriving at the same step by when they were sent.
	at, seq  uint64
	from, to uint64
	typ      raftpb.MessageType
	data     []byte
}

// flight is the queue of messages in flight, a heap ordered by (at, seq).
type flight []envelope

// Len, Less, Swap, Push and Pop implement heap.Interface.
func (f flight) Len() int { return len(f) }

// Less orders by arrival, then by sending.
func (f flight) Less(i, j int) bool {
	if f[i].at != f[j].at {
		return f[i].at < f[j].at
	}
	return f[i].seq < f[j].seq
}

// Swap swaps two messages.
func (f flight) Swap(i, j int) { f[i], f[j] = f[j], f[i] }

// Push appends a message.
func (f *flight) Push(x any) { *f = append(*f, x.(envelope)) }

// Pop removes the last message.
func (f *flight) Pop() any {
	old := *f
	e := old[len(old)-1]
	*f = old[:len(old)-1]
	return e
}

// network carries messages between nodes: every link has its own base
// latency, every message a jitter on top of it; a message may be lost,
// duplicated or held back (reordered) when the faults say so, and a cut
// link loses what arrives while it is cut.
type network struct {
	q    flight
	seq  uint64
	base [maxNodes + 1][maxNodes + 1]int
	cut  [maxNodes + 1][maxNodes + 1]bool
	rng  rng
	// jitter is the largest extra latency of a message and reorder the
	// longest delay of a reordered one, in steps.
	jitter, reorder int
}

// newNetwork draws the base latency of every link in [lo, hi] steps.
func newNetwork(r rng, lo, hi, jitter, reorder int) *network {
	n := &network{rng: r, jitter: jitter, reorder: reorder}
	for a := range n.base {
		for b := range n.base[a] {
			n.base[a][b] = r.between(lo, hi)
		}
	}
	return n
}

// sendResult says what became of a message sent.
type sendResult struct {
	dropped, duplicated, reordered bool
}

// send puts m in flight at step now, applying the message faults f.
func (n *network) send(now uint64, m raftpb.Message, f Faults) sendResult {
	var res sendResult
	drop, dup, reorder := n.rng.chance(f.Drop), n.rng.chance(f.Duplicate), n.rng.chance(f.Reorder)
	if drop {
		res.dropped = true
		return res
	}
	data := m.Marshal()
	copies := 1
	if dup {
		copies, res.duplicated = 2, true
	}
	for i := 0; i < copies; i++ {
		lat := n.base[m.From%(maxNodes+1)][m.To%(maxNodes+1)] + n.rng.between(0, n.jitter)
		if reorder && i == 0 {
			lat += n.rng.between(1, n.reorder)
			res.reordered = true
		}
		n.seq++
		heap.Push(&n.q, envelope{at: now + uint64(lat), seq: n.seq, from: m.From, to: m.To, typ: m.Type, data: data})
	}
	return res
}

// next returns the next message due at or before now.
func (n *network) next(now uint64) (envelope, bool) {
	if len(n.q) == 0 || n.q[0].at > now {
		return envelope{}, false
	}
	return heap.Pop(&n.q).(envelope), true
}

// push puts e back in flight, keeping its place among messages of its
// arrival step.
func (n *network) push(e envelope) { heap.Push(&n.q, e) }

// linked reports whether a message from a reaches b.
func (n *network) linked(a, b uint64) bool { return !n.cut[a][b] }

// heal removes every cut.
func (n *network) heal() { n.cut = [maxNodes + 1][maxNodes + 1]bool{} }

// whole reports whether no link is cut.
func (n *network) whole() bool { return n.cut == [maxNodes + 1][maxNodes + 1]bool{} }

// split cuts every link between a node whose bit is set in mask and one
// whose bit is not, both ways: nodes 1..size.
func (n *network) split(mask uint64, size int) {
	for a := 1; a <= size; a++ {
		for b := 1; b <= size; b++ {
			if (mask>>a)&1 != (mask>>b)&1 {
				n.cut[a][b] = true
			}
		}
	}
}

// inFlight returns the number of messages in flight.
func (n *network) inFlight() int { return len(n.q) }
