package sim

import (
	"slices"

	"github.com/tickraft/raft/raftpb"
)

// A long stall stops the current leader's disk completing writes for
// longer than the node's Config.StorageStallTicks, then lets it resume.
// While one is judged the chaos phase injects nothing else and the
// network neither drops, duplicates nor holds back a message, so that the
// other voters, running and connected, can always elect one of them: the
// stall is the only reason the cluster could hang.
//
// In the asynchronous mode the leader keeps ticking and heartbeating while
// its append worker is stuck; the library's rule (core/storage_stall.go)
// makes it hand leadership to a caught-up follower or step down once a
// write has waited StorageStallTicks. In the synchronous mode the loop
// blocks on its write, ticks and heartbeats included (node.go: the ticks
// are deferred while busy), so the followers elect a new leader by
// themselves.
//
// A split vote (two candidates of one term, each voting for itself) is a
// matter of chance that randomized timeouts make rarer but never rule out
// (§5.2): with two voters left of three, two timeouts within a message's
// flight of each other split the vote, which the simulator met six rounds
// running (seed 22000009). The oracle counts the split terms it sees on
// the network and allows two election timeouts more for each, up to
// maxExcusedSplits.
//
// The oracle, in both modes: within longStallBound ticks of the moment a
// write waits on the frozen disk (asynchronous mode: the first write
// carrying entries or a snapshot queued before or during the stall;
// synchronous mode: the stall's start, since the loop blocks on its next
// Ready within a heartbeat), some node applies an entry of a term above
// the one the stalled node led. An entry of a newer term applied while
// the stalled node's disk is still frozen was committed by another
// leader (the stalled node cannot append, so cannot lead a term with its
// own entry committed): a new leader serves writes.

// longStall is a long disk stall of a leader, under judgement.
type longStall struct {
	node, term uint64
	// from is the tick the stall started, clock the tick the judged span
	// started (a write waits; zero: not yet).
	from, clock uint64
	// candidates are the nodes seen on the network asking for votes
	// (MsgVote) since the stall, by term; splits counts the terms in which
	// two or more asked: split votes, which no bound can exclude.
	candidates map[uint64][]uint64
	splits     int
}

// longStallBound returns the ticks a new leader may take, from the moment
// a write waits on the stalled leader's disk: StorageStallTicks for the
// leader to see its disk stall, then eight election timeouts: one for a
// handover it starts to end (a transfer the target does not complete is
// abandoned after an election timeout), two for the followers' randomized
// timeout ([ElectionTick, 2*ElectionTick)) should it step down or, in the
// synchronous mode, fall silent, and the rest for elections split between
// the two followers left (found by the simulator: seed 16000053 needed
// three rounds). A calm phase allows sixteen election timeouts for a
// leader; this is half that, and still fits in every chaos phase of the
// default mix with the wait before it.
func (o *Options) longStallBound() int { return o.StorageStallTicks + 8*o.ElectionTick }

// longStallWait is the longest the stall waits for a write in the
// asynchronous mode before it lifts, unjudged.
func (o *Options) longStallWait() int { return 4 * o.ElectionTick }

// stallLeader freezes the disk of the leader a quorum follows, when the
// other voters of its configuration (not joint, at least three voters)
// are running and connected and none recovers from a lost log.
func (s *Sim) stallLeader(_, _ int) {
	if s.longStall != nil {
		return
	}
	lead := s.agreedLeader()
	if lead == nil || !s.canElectWithout(lead) {
		return
	}
	o := &s.opts
	if left := s.chaosTicksLeft(); left < o.longStallWait()+o.longStallBound() {
		return // calm would heal the disk before the verdict
	}
	term := lead.rn.BasicStatus().Term
	ls := &longStall{node: lead.id, term: term, from: s.Tick()}
	freeze := o.longStallWait()
	if !o.Async || lead.disk.holdsWaitingWrite() {
		ls.clock = ls.from
		freeze = o.longStallBound() + o.ElectionTick
	}
	s.longStall = ls
	lead.disk.frozenUntil = s.now + uint64(freeze*o.StepsPerTick)
	s.faultEvent(FaultLongStall, lead.id, "leader %d of term %d: its disk completes nothing until step %d", lead.id, term, lead.disk.frozenUntil)
}

// canElectWithout reports whether the voters of lead's configuration but
// lead are a quorum of it, all running, unpaused and connected, none
// recovering.
func (s *Sim) canElectWithout(lead *node) bool {
	voters := lead.conf.Voters
	if len(lead.conf.VotersOutgoing) > 0 || len(voters) < 3 || s.anyRecovering() || !s.net.whole() {
		return false
	}
	for _, id := range voters {
		n := s.node(id)
		if n == nil || !n.up() || n.paused() || !isMember(n.conf, id) {
			return false
		}
	}
	return true
}

// chaosTicksLeft returns the ticks left in the current chaos phase.
func (s *Sim) chaosTicksLeft() int {
	cycle := uint64(s.opts.ChaosTicks + s.opts.CalmTicks)
	into := (s.Tick() - 1) % cycle
	return s.opts.ChaosTicks - int(into)
}

// holdsWaitingWrite reports whether a queued write carries entries or a
// snapshot: what the node waits on its storage for.
func (d *disk) holdsWaitingWrite() bool {
	for _, w := range d.queue {
		if len(w.entries) > 0 || w.snap != nil {
			return true
		}
	}
	return false
}

// stalledWriteQueued starts the judged span when the stalled leader, in
// the asynchronous mode, hands its frozen disk a write it must wait for,
// and freezes the disk until past the verdict.
func (s *Sim) stalledWriteQueued(n *node, w *diskWrite) {
	ls := s.longStall
	if ls == nil || ls.node != n.id || ls.clock != 0 || (len(w.entries) == 0 && w.snap == nil) {
		return
	}
	ls.clock = s.Tick()
	o := &s.opts
	n.disk.frozenUntil = max(n.disk.frozenUntil, s.now+uint64((o.longStallBound()+o.ElectionTick)*o.StepsPerTick))
}

// judgeLongStall, once per tick, lifts a stall no write waited on and
// fails the run if the bound passed without a new leader's entry applied.
func (s *Sim) judgeLongStall() {
	ls := s.longStall
	if ls == nil {
		return
	}
	t, o := s.Tick(), &s.opts
	if ls.clock == 0 {
		if t >= ls.from+uint64(o.longStallWait()) {
			s.longStall = nil
			s.stats.LongStallsIdle++
		}
		return
	}
	if s.stalledNodeNeeded(ls.node) {
		// A conf change in flight when the stall began (stallLeader
		// judged the configuration applied then) is now applied: its
		// quorums need the stalled node, so no leader can be elected
		// without its disk, and the verdict would judge the
		// configuration, not the library. The stall is lifted.
		s.longStall = nil
		s.stats.LongStallsExcused++
		if n := s.node(ls.node); n != nil {
			n.disk.frozenUntil = min(n.disk.frozenUntil, s.now)
		}
		return
	}
	bound := o.longStallBound() + min(ls.splits, maxExcusedSplits)*2*o.ElectionTick
	if t > ls.clock+uint64(bound) {
		s.failf(ClassLiveness, "leader %d of term %d: its disk stalled at tick %d, a write waited from tick %d, and no node applied an entry of a later term within %d ticks (StorageStallTicks %d + 8 election timeouts of %d, + 2 for each of %d split votes)",
			ls.node, ls.term, ls.from, ls.clock, bound, o.StorageStallTicks, o.ElectionTick, ls.splits)
	}
}

// stalledNodeNeeded reports whether the configuration applied by the
// running node furthest ahead (which the next leader's log holds) has no
// quorum, of either half when joint, without the stalled node id: a conf
// change applied since the stall began (found by the simulator: seed
// 75200369 stalled a leader whose joint change making a voter a learner
// left it in every quorum of the incoming half).
func (s *Sim) stalledNodeNeeded(id uint64) bool {
	var latest *node
	for _, n := range s.nodes {
		if n.up() && n.id != id && (latest == nil || n.kv.applied > latest.kv.applied) {
			latest = n
		}
	}
	return latest != nil && !(quorumWithout(latest.conf.Voters, id) && quorumWithout(latest.conf.VotersOutgoing, id))
}

// quorumWithout reports whether the voters other than id are a majority
// of voters (an empty half counts as agreeing).
func quorumWithout(voters []uint64, id uint64) bool {
	others := 0
	for _, v := range voters {
		if v != id {
			others++
		}
	}
	return len(voters) == 0 || others > len(voters)/2
}

// maxExcusedSplits caps the split votes that extend the bound: chance
// splits a few rounds running, but a library whose every election splits
// (timeouts not randomized) must still fail.
const maxExcusedSplits = 4

// sawVoteRequestDuringStall counts split votes: a second node asking for
// votes in a term in which another already asked.
func (s *Sim) sawVoteRequestDuringStall(m raftpb.Message) {
	ls := s.longStall
	if ls == nil || m.Type != raftpb.MsgVote || m.From == ls.node {
		return // the stalled leader's own campaign excuses nothing
	}
	asked := ls.candidates[m.Term]
	if slices.Contains(asked, m.From) {
		return
	}
	if ls.candidates == nil {
		ls.candidates = map[uint64][]uint64{}
	}
	ls.candidates[m.Term] = append(asked, m.From)
	if len(asked) == 1 {
		ls.splits++
	}
}

// sawAppliedDuringStall ends the judgement when a node applies an entry
// of a term above the stalled leader's.
func (s *Sim) sawAppliedDuringStall(term uint64) {
	ls := s.longStall
	if ls == nil || ls.clock == 0 || term <= ls.term {
		return
	}
	s.longStall = nil
	took := s.Tick() - ls.clock
	if s.opts.Async {
		s.stats.LongStallsAsync++
	} else {
		s.stats.LongStallsSync++
	}
	s.stats.SlowestStallHandoverTicks = max(s.stats.SlowestStallHandoverTicks, took)
	if s.log.tracing() {
		s.log.printf(s.now, "long stall of %d judged: an entry of term %d applied %d ticks after a write waited", ls.node, term, took)
	}
}

// healLongStall ends a stall when a calm phase heals the disks.
func (s *Sim) healLongStall() {
	if s.longStall != nil {
		s.longStall = nil
		s.stats.LongStallsCut++
	}
}
