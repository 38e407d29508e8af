package sim

// The process-pause fault (Faults.Pause): a node's whole process stops for
// a while, as under SIGSTOP, a long garbage collection or a descheduled
// virtual machine, for between one tick and three election timeouts, so
// sometimes longer than its election timeout. While paused:
//
//   - it receives no ticks: the simulator, as the embedder, counts the
//     ticks it misses;
//   - it steps nothing: messages that arrive for it are held, not lost,
//     like the data waiting in a stopped process's socket buffers (a link
//     cut when one arrives still loses it); transport reports wait too;
//   - it sends nothing and takes no client or operator call (clients and
//     the operator pick among running, unpaused nodes), its application
//     neither applies, serves reads nor compacts;
//   - its disk writes complete no sooner than it resumes: the loop that
//     acts on a write's completion (sending MessagesAfterPersist, applying,
//     acknowledging to the node) is stopped, and the simulator models the
//     write as the loop's. A crash while paused loses them, as any crash.
//
// On resume the simulator delivers every missed tick (RawNode.TickN) before
// anything else is stepped (DESIGN's contract: a paused process cannot stretch a lease or
// a timer), then the held messages in their order of arrival. A node whose
// synchronous loop was waiting on its disk takes the missed ticks right
// after the write completes, as it does ticks that fall while it waits.

// paused reports whether the node's process is stopped.
func (n *node) paused() bool { return n.pausedUntil > 0 }

// pauseSome pauses a running node for between one tick and three election
// timeouts.
func (s *Sim) pauseSome(pick, arg int) {
	up := s.running()
	if len(up) == 0 {
		return
	}
	n := up[pick%len(up)]
	ticks := 1 + arg%(3*s.opts.ElectionTick)
	n.pausedUntil = s.now + uint64(ticks*s.opts.StepsPerTick)
	if ticks > s.opts.ElectionTick {
		s.stats.LongPauses++
	}
	s.faultEvent(FaultPause, n.id, "node %d stops for %d ticks, until step %d", n.id, ticks, n.pausedUntil)
}

// resumeDue resumes the paused nodes whose pause is over, or every paused
// node when all is true (a calm phase begins).
func (s *Sim) resumeDue(all bool) {
	for _, n := range s.nodes {
		if n.paused() && (all || s.now >= n.pausedUntil) {
			s.resume(n)
		}
	}
}

// resume restarts a paused node's process: every missed tick first, then
// the messages held meanwhile.
func (s *Sim) resume(n *node) {
	missed := n.missedTicks
	n.pausedUntil, n.missedTicks = 0, 0
	s.log.add(s.now, evResume, n.id, uint64(missed), uint64(len(n.held)))
	if s.log.tracing() {
		s.log.printf(s.now, "resume %d: %d missed ticks, then %d held messages", n.id, missed, len(n.held))
	}
	if !n.up() {
		n.held = nil
		return
	}
	switch {
	case n.busy:
		n.deferred += missed
	case missed > 0:
		n.rn.TickN(missed)
		s.log.add(s.now, evTick, n.id, uint64(missed))
		s.checkInvariants(n, "TickN")
	}
	n.inbox = append(n.inbox, n.held...)
	n.held = nil
}
