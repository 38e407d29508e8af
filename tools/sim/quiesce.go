package sim

import (
	"errors"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/core"
)

// Quiescence (Options.Quiesce) runs every node with Config.Quiesce and
// plays the host the library's documentation describes:
//
//   - The clients rest in lulls of two to ten election timeouts, drawn
//     from the run's own stream, so that groups go idle and sleep; the
//     faults and the operator go on, and wake them. No lull while a long
//     stall (longstall.go) is judged: its verdict needs writes.
//   - On half the nodes (by the seed), the host does not tick a node that
//     reports itself quiesced (BasicStatus.Quiesced); it counts the ticks
//     it owes and hands them over with TickN before anything else reaches
//     the node: a message, a report, a client's or the operator's call.
//   - A failure detector: a follower whose leader it cannot reach (down,
//     paused, or a link cut either way) for an election timeout reports
//     it with ReportPeerDown, every tick until it no longer follows that
//     leader. In chaos phases it also reports a reachable leader now and
//     then (a false suspicion), which must be as safe.
//
// Every checker runs as in any run: lease reads are on in some of these
// seeds, and the linearizability checker judges them.
type quiesceHost struct {
	rng rng
	// lullUntil is the tick before which the clients start nothing.
	lullUntil uint64
}

// falseSuspicion is the chance per tick of a chaos phase that the
// failure detector reports a leader that is up.
const falseSuspicion Probability = 0.01

// newQuiesceHost returns the host of a run of seed.
func newQuiesceHost(seed uint64) quiesceHost {
	return quiesceHost{rng: newRNG(seed, streamQuiesce)}
}

// lull reports whether the clients rest at tick.
func (q *quiesceHost) lull(tick uint64) bool { return tick < q.lullUntil }

// quiesceTick runs once per tick of a run with quiescence: it draws the
// lulls and runs the failure detector.
func (s *Sim) quiesceTick() {
	if !s.opts.Quiesce {
		return
	}
	q, e := &s.quiet, s.opts.ElectionTick
	starts, length := q.rng.chance(Probability(1/float64(3*e))), q.rng.between(2*e, 10*e)
	switch tick := s.Tick(); {
	case s.longStall != nil:
		q.lullUntil = 0 // the stall is judged on writes that wait
	case !q.lull(tick) && starts:
		q.lullUntil = tick + uint64(length)
	}
	s.detectFailures()
	happens, pick := q.rng.chance(falseSuspicion), q.rng.IntN(1<<30)
	if up := s.callable(); happens && s.phase.chaos && s.longStall == nil && len(up) > 0 {
		n := up[pick%len(up)]
		if lead := n.rn.BasicStatus().Lead; lead != 0 && lead != n.id {
			s.reportPeerDown(n, lead, "suspected falsely")
		}
	}
}

// detectFailures reports, on every follower that has not reached its
// leader for an election timeout, the leader as down.
func (s *Sim) detectFailures() {
	for _, n := range s.callable() {
		st := n.rn.BasicStatus()
		if st.RaftState != raft.StateFollower || st.Lead == 0 || s.reachable(n.id, st.Lead) {
			n.suspect = 0
			continue
		}
		n.suspect++
		if n.suspect >= s.opts.ElectionTick {
			s.reportPeerDown(n, st.Lead, "unreachable")
		}
	}
}

// reachable reports whether a and b can talk: b runs, unpaused, and no
// link between them is cut.
func (s *Sim) reachable(a, b uint64) bool {
	peer := s.node(b)
	return peer != nil && peer.up() && !peer.paused() && s.net.linked(a, b) && s.net.linked(b, a)
}

// reportPeerDown tells n that peer is suspected down. A refusal must be
// one the library documents: inside the lease window, or a node that
// may not campaign.
func (s *Sim) reportPeerDown(n *node, peer uint64, why string) {
	s.payOwed(n)
	err := n.rn.ReportPeerDown(peer)
	s.checkInvariants(n, "ReportPeerDown")
	s.stats.PeerDownReports++
	kind := evPeerDown
	if s.reachable(n.id, peer) {
		kind = evFalseSuspicion
	}
	s.log.add(s.now, kind, n.id, peer)
	if s.log.tracing() {
		s.log.printf(s.now, "node %d: leader %d %s: %v", n.id, peer, why, err)
	}
	if err != nil && !errors.Is(err, core.ErrLeasePromised) && !errors.Is(err, core.ErrNotAMember) &&
		!errors.Is(err, core.ErrLearnerCannotCampaign) && !errors.Is(err, core.ErrPendingConfChange) &&
		!errors.Is(err, core.ErrRecovering) && !errors.Is(err, core.ErrStorageStalled) {
		s.failf(ClassRefusal, "node %d: ReportPeerDown(%d) without a documented error: %v", n.id, peer, err)
	}
}

// skipsTicks reports whether n's host leaves n unticked while it sleeps.
func (s *Sim) skipsTicks(n *node) bool {
	return s.opts.Quiesce && (s.opts.Seed+n.id)%2 == 0
}

// skipQuiescedTick counts a tick of a sleeping node whose host skips it,
// and reports whether it did.
func (s *Sim) skipQuiescedTick(n *node) bool {
	if !s.opts.Quiesce {
		return false
	}
	if !n.rn.BasicStatus().Quiesced {
		// Woken by what needs no input from the host (its apply worker
		// applying a conf change): the owed ticks go first.
		s.payOwed(n)
		return false
	}
	s.stats.QuiescedTicks++
	if !s.skipsTicks(n) {
		return false
	}
	n.owed++
	return true
}

// payOwed hands n the ticks its host skipped while it slept, before
// anything else reaches it.
func (s *Sim) payOwed(n *node) {
	if n.owed == 0 || !n.up() {
		return
	}
	owed := n.owed
	n.owed = 0
	s.stats.SkippedTicks += owed
	n.rn.TickN(owed)
	s.log.add(s.now, evOwedTicks, n.id, uint64(owed))
	s.checkInvariants(n, "TickN")
}
