package core

import "math"

// electionClock is a node's election timer, counted in its ticks (§5.2),
// which a follower or candidate lets run out to campaign and a leader runs
// for CheckQuorum and the transfer deadline; the leader's heartbeat timer
// (heartbeatTimer) is the leader's own (leaderState). The election
// timeout a follower waits is drawn anew from [electionTimeout,
// 2*electionTimeout) by the node's own generator, so that split votes are
// rare. The timeouts themselves never change and are the node's settings
// (electionTimeout, heartbeatTimeout), passed in where a rule needs one.
// Only this file assigns its fields, and the heartbeat timer's.
//
// The counters are 32 bits wide (a process with many groups holds a clock
// per member): a timer saturates at math.MaxInt32 ticks, and a drawn
// timeout beyond that is held as math.MaxUint32, which no saturated timer
// reaches, so that such a timeout still never runs out, as before.
type electionClock struct {
	electionElapsed int32
	// randomized is the election timeout drawn for the current term and
	// role.
	randomized uint32
	rng        prng
}

// heartbeatTimer is the leader's heartbeat timer, counted in its ticks: a
// leader sends heartbeats every heartbeatTimeout. It lives in the
// leader's state, since no other node has heartbeats to send, and starts
// at zero with each leadership.
type heartbeatTimer struct {
	elapsed int32
}

// newElectionClock returns the clock of a node's Config.
func newElectionClock(seed uint64) electionClock {
	return electionClock{rng: prng{state: seed}}
}

// advance adds n ticks to the heartbeat timer, saturating far beyond any
// timeout so that a long pause cannot overflow it.
func (h *heartbeatTimer) advance(n int) { h.elapsed = advanceElapsed(h.elapsed, n) }

// restart starts the heartbeat timer over.
func (h *heartbeatTimer) restart() { h.elapsed = 0 }

// due reports whether the leader's heartbeat interval passed.
func (h *heartbeatTimer) due(heartbeatTimeout int) bool { return int(h.elapsed) >= heartbeatTimeout }

// advanceElection adds n ticks to the election timer, saturating far
// beyond any timeout so that a long pause cannot overflow it.
func (c *electionClock) advanceElection(n int) {
	c.electionElapsed = advanceElapsed(c.electionElapsed, n)
}

// advanceElapsed adds n ticks to a timer, saturating at math.MaxInt32.
func advanceElapsed(elapsed int32, n int) int32 {
	const ceiling = math.MaxInt32
	if n >= ceiling-int(elapsed) {
		return ceiling
	}
	return elapsed + int32(n)
}

// elapsed returns the ticks the election timer counted.
func (c *electionClock) elapsed() int { return int(c.electionElapsed) }

// restartElection starts the election timer over: the leader was heard
// from, a vote was granted, a transfer began, or a timeout was acted on.
func (c *electionClock) restartElection() { c.electionElapsed = 0 }

// resumeElection sets the election timer back to elapsed ticks, keeping
// the timeout just drawn: a new term that must not restart the wait.
func (c *electionClock) resumeElection(elapsed int) { c.electionElapsed = int32(elapsed) }

// reset starts the election timer over and draws a new election timeout
// from electionTimeout: a new term or role begins.
func (c *electionClock) reset(electionTimeout int) {
	c.electionElapsed = 0
	c.redraw(electionTimeout)
}

// redraw draws the election timeout from [electionTimeout,
// 2*electionTimeout).
func (c *electionClock) redraw(electionTimeout int) {
	c.randomized = timeoutTicks(electionTimeout + c.rng.intn(electionTimeout))
}

// setRandomized replaces the drawn election timeout with ticks (at least
// 1), until the next draw.
func (c *electionClock) setRandomized(ticks int) { c.randomized = timeoutTicks(max(ticks, 1)) }

// timeoutTicks is a drawn timeout as the clock holds it: one beyond what a
// saturated timer counts is held as math.MaxUint32, which it never reaches.
func timeoutTicks(ticks int) uint32 {
	if ticks > math.MaxInt32 {
		return math.MaxUint32
	}
	return uint32(ticks)
}

// pastElectionTimeout reports whether the drawn election timeout ran out.
func (c *electionClock) pastElectionTimeout() bool {
	return uint32(c.electionElapsed) >= c.randomized
}

// electionTimeoutPassed reports whether a whole (undrawn) election timeout
// passed: the leader's CheckQuorum and transfer deadline.
func (c *electionClock) electionTimeoutPassed(electionTimeout int) bool {
	return int(c.electionElapsed) >= electionTimeout
}
