package sim

import (
	"errors"
	"fmt"

	"github.com/tickraft/raft/core"
)

// injectFaults draws this tick's faults of a chaos phase. Every draw is
// made whatever the rates and whatever the cluster does, so that the
// faults happen at the same ticks with the same arguments whatever else
// changes. Each draw has an ordinal, fixed by its tick and its place in
// the list below: a fault that happens is not injected if Options.Skip
// lists its ordinal.
func (s *Sim) injectFaults() {
	f, r := s.opts.Faults, s.faultRNG
	type draw struct {
		p  Probability
		do func(pick, arg int)
	}
	draws := []draw{
		{f.Partition, s.partition},
		{f.Heal, func(int, int) { s.heal() }},
		{f.Crash, s.crashSome},
		{f.Restart, s.restartSome},
		{f.DiskStall, s.stallDisk},
		{f.ConfChange, s.proposeConfChange},
		{f.Transfer, s.transferLeader},
		{f.ForgetLeader, s.forgetLeader},
		{f.Campaign, s.campaign},
		{f.Pause, s.pauseSome},
		{f.LongStall, s.stallLeader},
	}
	for i, d := range draws {
		happens, pick, arg := r.chance(d.p), r.IntN(1<<30), r.IntN(1<<30)
		if !happens || s.longStall != nil { // nothing else while a long stall is judged
			continue
		}
		s.faultN = (s.Tick()-1)*uint64(len(draws)) + uint64(i) + 1
		if s.opts.skipped(s.faultN) {
			continue
		}
		s.injected = append(s.injected, s.faultN)
		d.do(pick, arg)
	}
}

// faultEvent records a fault in the event log and the statistics.
func (s *Sim) faultEvent(k FaultKind, node uint64, format string, args ...any) {
	s.stats.Faults[k]++
	s.log.add(s.now, evFault, node, uint64(k), s.faultN)
	if s.log.tracing() {
		s.log.printf(s.now, "fault #%d %s: %s", s.faultN, k, fmt.Sprintf(format, args...))
	}
}

// partition cuts the network: in two groups, one way from one node to
// another, or around one node.
func (s *Sim) partition(pick, arg int) {
	size := len(s.nodes)
	if size < 2 {
		return
	}
	switch pick % 3 {
	case 0:
		mask := uint64(1+arg%(1<<size-2)) << 1 // neither empty nor everyone
		s.net.split(mask, size)
		var a, b []int
		for id := 1; id <= size; id++ {
			if mask>>id&1 == 1 {
				a = append(a, id)
			} else {
				b = append(b, id)
			}
		}
		s.faultEvent(FaultPartition, 0, "%v | %v", a, b)
	case 1:
		from := 1 + arg%size
		to := 1 + (from+arg/size%(size-1))%size
		s.net.cut[from][to] = true
		s.faultEvent(FaultOneWay, uint64(from), "%d -> %d cut", from, to)
	default:
		id := 1 + arg%size
		s.net.split(1<<id, size)
		s.faultEvent(FaultIsolate, uint64(id), "%d cut off", id)
	}
}

// heal removes every cut.
func (s *Sim) heal() {
	if s.net.whole() {
		return
	}
	s.net.heal()
	s.faultEvent(FaultHeal, 0, "every link restored")
}

// crashSome crashes a running node, tearing its oldest write after arg
// records.
func (s *Sim) crashSome(pick, arg int) {
	up := s.running()
	if len(up) == 0 {
		return
	}
	n := up[pick%len(up)]
	s.faultEvent(FaultCrash, n.id, "node %d", n.id)
	s.stats.Crashes++
	s.crash(n, arg)
}

// restartSome restarts a crashed node.
func (s *Sim) restartSome(pick, _ int) {
	var down []*node
	for _, n := range s.nodes {
		if !n.up() {
			down = append(down, n)
		}
	}
	if len(down) == 0 {
		return
	}
	n := down[pick%len(down)]
	s.faultEvent(FaultRestart, n.id, "node %d", n.id)
	n.retired = false
	s.restart(n)
}

// stallDisk makes a node's writes slow for StallTicks ticks.
func (s *Sim) stallDisk(pick, _ int) {
	n := s.nodes[pick%len(s.nodes)]
	d := s.opts.StallTicks * s.opts.StepsPerTick
	n.disk.stallUntil, n.disk.stall = s.now+uint64(d), d
	s.faultEvent(FaultDiskStall, n.id, "node %d: writes take %d more steps until step %d", n.id, d, n.disk.stallUntil)
}

// campaign makes a running node start an election, as an application
// may at any time. Learners, non-members, nodes with a conf change to
// apply, under lease reads followers inside a lease they may have
// granted, nodes recovering from a lost log and nodes whose storage
// stalls refuse with a documented error.
func (s *Sim) campaign(pick, _ int) {
	up := s.callable()
	if len(up) == 0 {
		return
	}
	n := up[pick%len(up)]
	s.payOwed(n)
	err := n.rn.Campaign()
	s.checkInvariants(n, "Campaign")
	s.faultEvent(FaultCampaign, n.id, "node %d: %v", n.id, err)
	if err != nil && !errors.Is(err, core.ErrNotAMember) && !errors.Is(err, core.ErrLearnerCannotCampaign) &&
		!errors.Is(err, core.ErrPendingConfChange) && !errors.Is(err, core.ErrLeasePromised) &&
		!errors.Is(err, core.ErrRecovering) && !errors.Is(err, core.ErrStorageStalled) {
		s.failf(ClassRefusal, "node %d refused to campaign without a documented error: %v", n.id, err)
	}
}

// callable returns the running nodes that can take a call now: not those
// whose synchronous loop, blocked on its disk, has let ticks fall that it
// has not yet delivered. Every tick that has elapsed must reach a node
// before any other input (README's tick contract): a lease read asked of
// a leader whose clock lags would be answered from a lease that real time
// has ended. Its loop takes the call once it has caught up.
func (s *Sim) callable() []*node {
	var out []*node
	for _, n := range s.running() {
		if !n.busy || n.deferred == 0 {
			out = append(out, n)
		}
	}
	return out
}

// running returns the running nodes, in ID order, but the paused ones
// (see pause.go).
func (s *Sim) running() []*node {
	var out []*node
	for _, n := range s.nodes {
		if n.up() && !n.paused() {
			out = append(out, n)
		}
	}
	return out
}
