package readonly

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tickraft/raft/tracker"
)

// ErrTooManyPendingReads is returned when the queue of reads is full.
var ErrTooManyPendingReads = errors.New("raft: too many pending reads")

// Request is a read waiting on the leader.
type Request struct {
	// Ctx is the application's context, returned with the ReadState.
	Ctx []byte
	// From is the node that asked: the leader itself, or a follower that
	// forwarded the read.
	From uint64
	// Index is the read index: the commit index when its round started.
	Index uint64
	// round is the round that answers it; 0 until a round starts.
	round uint64
}

// peerAck is the latest round a peer answered and the leader's tick when
// the heartbeat it answered was sent.
type peerAck struct {
	peer  uint64
	round uint64
	tick  uint64
}

// ReadOnly holds the leader's pending reads, rounds and lease evidence.
// The zero value is not ready: use New. A nil *ReadOnly, which a node that
// has never led holds, is empty: Len, NeedsRound and CurrentRound report
// nothing pending and no round, Drain and Reset do nothing; its other
// methods are a leader's and must not be called on it.
type ReadOnly struct {
	maxPending int
	pending    []Request
	nextRound  uint64
	// acks holds one entry per peer that answered in this term, in the
	// order of their first answers: a group has a handful of members, so
	// a scan beats a map and an idle leader keeps one small array.
	acks []peerAck
}

// New returns an empty ReadOnly holding at most maxPending reads.
func New(maxPending int) *ReadOnly {
	return &ReadOnly{maxPending: maxPending, nextRound: 1}
}

// MaxPending returns the bound on pending reads given to New.
func (ro *ReadOnly) MaxPending() int { return ro.maxPending }

// Len returns the number of pending reads.
func (ro *ReadOnly) Len() int {
	if ro == nil {
		return 0
	}
	return len(ro.pending)
}

// Add queues a read. It refuses the read with ErrTooManyPendingReads when
// the queue is full, and changes nothing then.
func (ro *ReadOnly) Add(req Request) error {
	if len(ro.pending) >= ro.maxPending {
		return fmt.Errorf("%w: %d waiting", ErrTooManyPendingReads, len(ro.pending))
	}
	ro.pending = append(ro.pending, req)
	return nil
}

// NeedsRound reports whether some read waits for a round not yet started.
// Such reads are always at the tail: Add appends, StartRound assigns them
// all, Release removes from the front.
func (ro *ReadOnly) NeedsRound() bool {
	if ro == nil {
		return false
	}
	n := len(ro.pending)
	return n > 0 && ro.pending[n-1].round == 0
}

// StartRound assigns every read not yet in a round to a new round, with
// read index commit (the commit index when the round starts, at least the
// one when the read arrived), and returns the round's number, to carry in
// the heartbeats of the round.
func (ro *ReadOnly) StartRound(commit uint64) uint64 {
	r := ro.nextRound
	ro.nextRound++
	for i := range ro.pending {
		if ro.pending[i].round == 0 {
			ro.pending[i].round = r
			ro.pending[i].Index = commit
		}
	}
	return r
}

// CurrentRound returns the number of the latest round started (0 if none).
func (ro *ReadOnly) CurrentRound() uint64 {
	if ro == nil {
		return 0
	}
	return ro.nextRound - 1
}

// Ack records that peer answered a heartbeat of round round, sent at the
// leader's tick tick. Stale answers never lower what is recorded.
func (ro *ReadOnly) Ack(peer, round, tick uint64) {
	if a := find(ro.acks, peer); a != nil {
		a.round = max(a.round, round)
		a.tick = max(a.tick, tick)
		return
	}
	ro.acks = append(ro.acks, peerAck{peer: peer, round: round, tick: tick})
}

// ExpectPeers makes room for the acknowledgements of n members (the
// leader among them), so that the first answers of a term grow no array
// step by step: a process with many groups holds a leader's array per
// group.
func (ro *ReadOnly) ExpectPeers(n int) {
	if n > len(ro.acks) {
		ro.acks = slices.Grow(ro.acks, n-len(ro.acks))
	}
}

// Release removes the reads whose round a quorum of voters has confirmed
// and hands each, in order, to answer, which must not call back into ro.
// The leader counts itself by acking its own rounds.
func (ro *ReadOnly) Release(voters tracker.JointConfig, answer func(Request)) {
	if len(ro.pending) == 0 || ro.pending[0].round == 0 {
		return // nothing waits on a round: no quorum to compute
	}
	confirmed := voters.CommittedIndex(roundIndexer(ro.acks))
	n := 0
	for n < len(ro.pending) && ro.pending[n].round != 0 && ro.pending[n].round <= confirmed {
		answer(ro.pending[n])
		n++
	}
	if n > 0 {
		rest := copy(ro.pending, ro.pending[n:])
		clear(ro.pending[rest:]) // drop the released contexts
		ro.pending = ro.pending[:rest]
	}
}

// QuorumTick returns the latest leader tick at which a quorum of voters is
// known to have recognised this leader: the send tick of heartbeats they
// answered. The lease runs from there.
func (ro *ReadOnly) QuorumTick(voters tracker.JointConfig) uint64 {
	return voters.CommittedIndex(tickIndexer(ro.acks))
}

// QuorumRound returns the latest round a quorum of voters is known to
// have answered (an answer to a later round counts for every earlier
// one): every round up to it confirmed this leader after it started.
func (ro *ReadOnly) QuorumRound(voters tracker.JointConfig) uint64 {
	return voters.CommittedIndex(roundIndexer(ro.acks))
}

// Drain removes and returns every pending read (the leader stepped down).
func (ro *ReadOnly) Drain() []Request {
	if ro == nil {
		return nil
	}
	out := ro.pending
	ro.pending = nil
	return out
}

// Reset forgets every read and acknowledgement: a new term begins.
func (ro *ReadOnly) Reset() {
	if ro == nil {
		return
	}
	ro.pending = nil
	ro.acks = ro.acks[:0]
}

// find returns the acknowledgements of peer, or nil.
func find(acks []peerAck, peer uint64) *peerAck {
	for i := range acks {
		if acks[i].peer == peer {
			return &acks[i]
		}
	}
	return nil
}

// roundIndexer reads the latest round each peer answered.
type roundIndexer []peerAck

func (s roundIndexer) AckedIndex(id uint64) (uint64, bool) {
	if a := find(s, id); a != nil {
		return a.round, true
	}
	return 0, false
}

// tickIndexer reads the send tick of the latest heartbeat each peer
// answered.
type tickIndexer []peerAck

func (s tickIndexer) AckedIndex(id uint64) (uint64, bool) {
	if a := find(s, id); a != nil {
		return a.tick, true
	}
	return 0, false
}
