package sim

import (
	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

// phaseState alternates chaos (faults injected) and calm (no faults, the
// network whole, every node the configuration needs running) phases, and
// measures the liveness of each calm phase: a window of checker's
// liveness check.
type phaseState struct {
	started, chaos bool
	// final is set for the last calm phase, which does not end.
	final bool
	// nudge lets the probe write once more in the final phase, nudged
	// says it was let, lagging names the nodes behind at that moment.
	nudge, nudged bool
	lagging       string
	windows       []checker.CalmWindow
	// cur is the window of the calm phase in progress.
	cur *checker.CalmWindow
}

// tick moves to the phase of the current tick and, in a calm phase,
// keeps the cluster whole and checks its progress.
func (p *phaseState) tick(s *Sim) {
	t := s.Tick()
	cycle := uint64(s.opts.ChaosTicks + s.opts.CalmTicks)
	chaos := !p.final && (t-1)%cycle < uint64(s.opts.ChaosTicks)
	if !p.started || chaos != p.chaos {
		p.started = true
		if chaos {
			p.enterChaos(s)
		} else {
			p.enterCalm(s)
		}
	}
	if !p.chaos {
		p.keepCalm(s)
	}
}

// enterChaos ends the calm phase's window.
func (p *phaseState) enterChaos(s *Sim) {
	p.chaos = true
	p.closeWindow(s)
	s.log.add(s.now, evPhase, 0, 1)
	if s.log.tracing() {
		s.log.printf(s.now, "phase chaos")
	}
	s.checkHistory()
}

// closeWindow ends the current calm window, if any.
func (p *phaseState) closeWindow(s *Sim) {
	if p.cur == nil {
		return
	}
	p.cur.To = s.Tick()
	if p.cur.To-p.cur.From >= uint64(s.opts.LivenessTicks) {
		s.stats.LivenessWindows++
	}
	if p.cur.To-p.cur.From >= uint64(s.opts.CalmTicks-1) {
		s.checkRecovered("a calm phase")
	}
	p.windows = append(p.windows, *p.cur)
	p.cur = nil
}

// enterCalm heals the network and the disks and starts a window.
func (p *phaseState) enterCalm(s *Sim) {
	p.chaos = false
	s.net.heal()
	s.resumeDue(true)
	for _, n := range s.nodes {
		n.disk.stallUntil, n.disk.frozenUntil = 0, 0
	}
	s.healLongStall()
	p.cur = &checker.CalmWindow{From: s.Tick()}
	s.log.add(s.now, evPhase, 0, 0)
	if s.log.tracing() {
		s.log.printf(s.now, "phase calm: heal every link and disk")
	}
	s.checkHistory()
	if err := s.clients.check(); err != nil {
		s.fail(classOf(err), err)
	}
}

// keepCalm restarts the nodes the configuration needs, shuts down the
// others, notes when a leader is elected, and fails the run once the
// liveness budget has passed without a leader or a new commit.
func (p *phaseState) keepCalm(s *Sim) {
	t := s.Tick()
	needed := s.needed()
	for _, n := range s.nodes {
		switch {
		case needed[n.id] && !n.up():
			n.retired = false
			s.restart(n)
		case !needed[n.id] && n.up():
			s.crash(n, 0)
			n.retired = true
			s.stats.Retired++
			s.log.add(s.now, evRetire, n.id)
			if s.log.tracing() {
				s.log.printf(s.now, "retire %d: the configuration does not need it", n.id)
			}
		}
	}
	w := p.cur
	if w == nil {
		return
	}
	if !w.Elected && s.agreedLeader() != nil {
		w.Elected, w.ElectedAt = true, t
		s.stats.SlowestElectionTicks = max(s.stats.SlowestElectionTicks, t-w.From)
	}
	if budget := uint64(s.opts.LivenessTicks); t >= w.From+budget {
		now := *w
		now.To = t
		switch err := checker.CheckLiveness([]checker.CalmWindow{now}, budget); {
		case err != nil && s.lossBlocksQuorum():
			p.cur = nil // unavailable after a loss, as it must be: not a window to judge
		case err != nil:
			s.fail(ClassLiveness, err)
		}
	}
}

// acknowledged notes that a write invoked at invokeTick committed.
func (p *phaseState) acknowledged(s *Sim, invokeTick uint64) {
	if w := p.cur; w != nil && !w.Committed && invokeTick >= w.From {
		w.Committed, w.CommittedAt = true, s.Tick()
	}
}

// latestConf returns the configuration applied at the highest index by
// any node: the newest the cluster has committed and some node applied.
func (s *Sim) latestConf() raftpb.ConfState {
	best, at := s.safety.boot, uint64(0)
	for _, n := range s.nodes {
		if n.kv.applied > at {
			best, at = n.conf, n.kv.applied
		}
	}
	return best
}

// needed returns the nodes a calm cluster must run: the members of the
// latest configuration, and the members of the configurations in force on
// them (a member that has not applied a removal still counts the removed
// node in its quorum).
func (s *Sim) needed() map[uint64]bool {
	latest := s.latestConf()
	out := map[uint64]bool{}
	for _, n := range s.nodes {
		if isMember(latest, n.id) {
			out[n.id] = true
		}
	}
	for _, n := range s.nodes {
		if !isMember(latest, n.id) {
			continue
		}
		for _, m := range s.nodes {
			if isMember(n.conf, m.id) {
				out[m.id] = true
			}
		}
	}
	return out
}

// agreedLeader returns a running leader that a quorum of its own
// configuration's voters (both halves of a joint one) follows in its
// term, or nil.
func (s *Sim) agreedLeader() *node {
	for _, n := range s.nodes {
		if !n.up() {
			continue
		}
		st := n.rn.BasicStatus()
		if st.RaftState != raft.StateLeader {
			continue
		}
		if s.quorumFollows(n.conf.Voters, n.id, st.Term) && s.quorumFollows(n.conf.VotersOutgoing, n.id, st.Term) {
			return n
		}
	}
	return nil
}

// quorumFollows reports whether a majority of voters (or an empty set)
// runs and follows lead in term.
func (s *Sim) quorumFollows(voters []uint64, lead, term uint64) bool {
	if len(voters) == 0 {
		return true
	}
	k := 0
	for _, id := range voters {
		n := s.node(id)
		if n == nil || !n.up() {
			continue
		}
		if st := n.rn.BasicStatus(); st.Lead == lead && st.Term == term {
			k++
		}
	}
	return k > len(voters)/2
}
