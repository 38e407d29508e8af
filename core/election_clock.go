package core

import "math"

// electionClock is a node's pair of timers, counted in its ticks (§5.2):
// the election timer, which a follower or candidate lets run out to
// campaign and a leader runs for CheckQuorum and the transfer deadline,
// and the leader's heartbeat timer. The election timeout a follower waits
// is drawn anew from [electionTimeout, 2*electionTimeout) by the node's
// own generator, so that split votes are rare. The timeouts themselves
// never change and are the node's settings (electionTimeout,
// heartbeatTimeout), passed in where a rule needs one. Only this file
// assigns its fields.
type electionClock struct {
	electionElapsed  int
	heartbeatElapsed int
	// randomized is the election timeout drawn for the current term and
	// role.
	randomized int
	rng        prng
}

// newElectionClock returns the clock of a node's Config.
func newElectionClock(seed uint64) electionClock {
	return electionClock{rng: prng{state: seed}}
}

// advance adds n ticks to both timers, saturating far beyond any timeout
// so that a long pause cannot overflow them.
func (c *electionClock) advance(n int) {
	c.electionElapsed = advanceElapsed(c.electionElapsed, n)
	c.heartbeatElapsed = advanceElapsed(c.heartbeatElapsed, n)
}

// advanceElection adds n ticks to the election timer only: a follower or
// candidate has no heartbeat to send.
func (c *electionClock) advanceElection(n int) {
	c.electionElapsed = advanceElapsed(c.electionElapsed, n)
}

// advanceElapsed adds n ticks to a timer, saturating.
func advanceElapsed(elapsed, n int) int {
	const ceiling = math.MaxInt32
	if n >= ceiling-elapsed {
		return ceiling
	}
	return elapsed + n
}

// restartElection starts the election timer over: the leader was heard
// from, a vote was granted, a transfer began, or a timeout was acted on.
func (c *electionClock) restartElection() { c.electionElapsed = 0 }

// resumeElection sets the election timer back to elapsed ticks, keeping
// the timeout just drawn: a new term that must not restart the wait.
func (c *electionClock) resumeElection(elapsed int) { c.electionElapsed = elapsed }

// restartHeartbeat starts the heartbeat timer over.
func (c *electionClock) restartHeartbeat() { c.heartbeatElapsed = 0 }

// reset starts both timers over and draws a new election timeout from
// electionTimeout: a new term or role begins.
func (c *electionClock) reset(electionTimeout int) {
	c.electionElapsed, c.heartbeatElapsed = 0, 0
	c.redraw(electionTimeout)
}

// redraw draws the election timeout from [electionTimeout,
// 2*electionTimeout).
func (c *electionClock) redraw(electionTimeout int) {
	c.randomized = electionTimeout + c.rng.intn(electionTimeout)
}

// setRandomized replaces the drawn election timeout with ticks (at least
// 1), until the next draw.
func (c *electionClock) setRandomized(ticks int) { c.randomized = max(ticks, 1) }

// pastElectionTimeout reports whether the drawn election timeout ran out.
func (c *electionClock) pastElectionTimeout() bool { return c.electionElapsed >= c.randomized }

// electionTimeoutPassed reports whether a whole (undrawn) election timeout
// passed: the leader's CheckQuorum and transfer deadline.
func (c *electionClock) electionTimeoutPassed(electionTimeout int) bool {
	return c.electionElapsed >= electionTimeout
}

// heartbeatDue reports whether the leader's heartbeat interval passed.
func (c *electionClock) heartbeatDue(heartbeatTimeout int) bool {
	return c.heartbeatElapsed >= heartbeatTimeout
}
