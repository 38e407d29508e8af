package sim

import (
	"fmt"
	"strings"
)

// converge runs the final calm phase: the cluster must elect a leader,
// commit a write invoked in the phase, and bring every node it needs to
// the leader's commit index with the same state machine, within the
// liveness budget.
func (s *Sim) converge() {
	p := &s.phase
	p.final, p.started, p.chaos = true, true, false
	p.closeWindow(s)
	p.enterCalm(s) // a window of its own: a write of this phase must commit
	// Beyond a leader and a commit, every needed node must catch up.
	deadline := s.Tick() + 2*uint64(s.opts.LivenessTicks)
	for s.failure == nil {
		s.step()
		if s.converged() {
			if p.nudged {
				s.failf(ClassLiveness, "the cluster converged only after a new write: idle for %d ticks, the leader did not bring %s up to date",
					s.opts.LivenessTicks/2, p.lagging)
				return
			}
			p.closeWindow(s)
			return
		}
		s.nudge()
		if s.Tick() > deadline && s.lossBlocksQuorum() {
			// Fewer voters than a quorum lost nothing: unavailable, as it
			// must be, never divergent (the safety checks ran throughout).
			s.stats.UnavailableAfterLoss++
			p.cur = nil // not a window to judge
			return
		}
		if s.Tick() > deadline {
			s.failf(ClassLiveness, "the final calm phase did not converge within %d ticks:\n%s", 2*s.opts.LivenessTicks, s.describeNodes())
		}
	}
}

// nudge lets the probe client write once more when the clients have been
// quiet for half the liveness budget and the cluster has not converged:
// if it then does, the leader was not catching up an idle follower.
func (s *Sim) nudge() {
	p := &s.phase
	w := p.cur
	if p.nudged || w == nil || !w.Committed || s.Tick() < w.CommittedAt+uint64(s.opts.LivenessTicks/2) {
		return
	}
	p.nudged, p.nudge = true, true
	lead := s.agreedLeader()
	if lead == nil {
		p.lagging = "the followers (no leader now)"
		return
	}
	commit := lead.rn.BasicStatus().Commit
	needed := s.needed()
	var lag []string
	for _, n := range s.nodes {
		if needed[n.id] && n.up() && n.kv.applied < commit {
			lag = append(lag, fmt.Sprintf("node %d (applied %d, leader %d at commit %d)", n.id, n.kv.applied, lead.id, commit))
		}
	}
	p.lagging = strings.Join(lag, ", ")
}

// converged reports whether a leader is agreed, a write of the final
// phase committed, and every needed node applied up to the leader's commit
// index to the same state.
func (s *Sim) converged() bool {
	w := s.phase.cur
	lead := s.agreedLeader()
	if w == nil || !w.Committed || lead == nil {
		return false
	}
	commit := lead.rn.BasicStatus().Commit
	want := lead.kv.digest()
	needed := s.needed()
	for _, n := range s.nodes {
		// A node that lost its log must also be an ordinary member again
		// (see checkRecovered).
		if needed[n.id] && (!n.up() || n.kv.applied != commit || s.notRecovered(n) != "") {
			return false
		}
	}
	for _, n := range s.nodes {
		if needed[n.id] && n.kv.digest() != want {
			s.failf(ClassLiveness, "node %d applied up to %d to another state than leader %d:\n%s", n.id, commit, lead.id, s.describeNodes())
			return false
		}
	}
	return true
}

// describeNodes lists every node's status for a failure report.
func (s *Sim) describeNodes() string {
	var b strings.Builder
	for _, n := range s.nodes {
		if !n.up() {
			fmt.Fprintf(&b, "  node %d: down (retired=%t) conf=(%v)\n", n.id, n.retired, n.conf)
			continue
		}
		st := n.rn.BasicStatus()
		first, _ := n.st.FirstIndex()
		last, _ := n.st.LastIndex()
		fmt.Fprintf(&b, "  node %d: %v lead=%d %v applied=%d (state machine %d) log=[%d, %d] conf=(%v) writes queued=%d\n",
			n.id, st.RaftState, st.Lead, st.HardState, st.Applied, n.kv.applied, first, last, n.conf, len(n.disk.queue))
	}
	fmt.Fprintf(&b, "  in flight: %d messages", s.net.inFlight())
	return b.String()
}
