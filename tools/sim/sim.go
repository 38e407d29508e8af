package sim

import (
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

// Sim is one run of a simulated cluster. It is not safe for concurrent
// use; separate Sims share nothing and may run in parallel.
type Sim struct {
	opts Options
	// now is the current step of virtual time.
	now   uint64
	nodes []*node
	net   *network
	// The streams of randomness (see rng.go).
	diskRNG, faultRNG, nodeRNG rng
	// quiet is the host of a run with quiescence (quiesce.go).
	quiet quiesceHost
	// lossRNG draws the logs lost at restarts (loss.go), apart from the
	// faults' stream so that the shrinker's skips leave it be.
	lossRNG rng
	hist    *checker.History
	// checkedEvents is the History's event count when it last passed
	// every checker.
	checkedEvents uint64
	safety        safetyState
	clients       *clients
	phase         phaseState
	log           eventLog
	stats         Stats
	// faultN is the ordinal of the last fault drawn (see injectFaults);
	// injected lists those injected.
	faultN   uint64
	injected []uint64
	failure  *Failure
	// oracle and transfers are the independent observations of the
	// oracles (oracle.go, transfer.go).
	oracle    oracles
	transfers []transfer
	// snapAt holds the data of every snapshot created at an interval
	// index (chunked transfer, see chunks.go).
	snapAt map[uint64][]byte
	// longStall is the long disk stall of a leader under judgement, or
	// nil (see longstall.go).
	longStall *longStall
	// mutation breaks the application on purpose, for the tests that
	// show the checks catch it; zero in every real run.
	mutation mutation
	// byzantine is set by the fuzz target that feeds a node arbitrary
	// messages: what a forged message makes the cluster do is no failure
	// (safety assumes correct peers), only a panic is, or an error that
	// is not one of the library's typed errors.
	byzantine bool
}

// mutation is a deliberate bug of the simulated application.
type mutation uint8

const (
	// mutateServeEarly serves reads without waiting for the read index
	// to be applied.
	mutateServeEarly mutation = 1 + iota
	// mutateAckEarly sends MessagesAfterPersist (votes, append
	// acknowledgements) before the write is durable.
	mutateAckEarly
	// mutateLoseTail persists only the first entry of each write.
	mutateLoseTail
)

// New returns a run of o, ready to start: the nodes are booted, nothing
// has happened yet.
func New(o Options) (*Sim, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	o.Skip = slices.Clone(o.Skip)
	slices.Sort(o.Skip)
	s := &Sim{
		opts:     o,
		net:      newNetwork(newRNG(o.Seed, streamNetwork), o.LatencyMin, o.LatencyMax, o.Jitter, o.ReorderTicks*o.StepsPerTick),
		diskRNG:  newRNG(o.Seed, streamDisk),
		faultRNG: newRNG(o.Seed, streamFaults),
		nodeRNG:  newRNG(o.Seed, streamNodes),
		lossRNG:  newRNG(o.Seed, streamLoss),
		quiet:    newQuiesceHost(o.Seed),
		hist:     checker.NewHistory(),
		log:      newEventLog(o.Trace, o.StepsPerTick),
	}
	s.safety.init()
	s.clients = newClients(s, newRNG(o.Seed, streamClients))
	s.boot()
	return s, nil
}

// Options returns the settings of the run, defaults filled in.
func (s *Sim) Options() Options { return s.opts }

// Now returns the current step of virtual time.
func (s *Sim) Now() uint64 { return s.now }

// Tick returns the current tick of virtual time.
func (s *Sim) Tick() uint64 { return s.now / uint64(s.opts.StepsPerTick) }

// Stats returns what the run did so far.
func (s *Sim) Stats() Stats { return s.stats }

// Run runs o to the end, or to its first failure, and returns the result.
func Run(o Options) (Result, error) {
	s, err := New(o)
	if err != nil {
		return Result{}, err
	}
	return s.Run(), nil
}

// Run runs the simulation: Options.Steps steps of alternating chaos and
// calm, then a final calm phase in which the cluster must converge, then
// every checker over the whole run.
func (s *Sim) Run() Result {
	for s.failure == nil && s.now < uint64(s.opts.Steps) {
		s.guard(s.step)
	}
	return s.finish()
}

// finish runs the final calm phase and every checker over the whole run,
// unless the run failed already, and returns the result.
func (s *Sim) finish() Result {
	if s.failure == nil {
		s.guard(s.converge)
	}
	if s.failure == nil {
		s.guard(s.checkEnd)
	}
	return s.result()
}

// guard runs f, turning a panic into the run's failure.
func (s *Sim) guard(f func()) {
	defer func() {
		if r := recover(); r != nil {
			s.fail(ClassPanic, fmt.Errorf("panic: %v\n%s", r, debug.Stack()))
		}
	}()
	f()
}

// fail records the run's first failure.
func (s *Sim) fail(class Class, err error) {
	if s.failure != nil || (s.byzantine && class != ClassPanic && class != ClassUntyped) {
		return
	}
	s.failure = &Failure{Step: s.now, Class: class, Err: err}
	s.log.add(s.now, evFailure, 0)
	s.log.addBytes([]byte(class))
	if s.log.tracing() {
		s.log.printf(s.now, "FAIL %s: %v", class, err)
	}
}

// failf records the run's first failure with a formatted error.
func (s *Sim) failf(class Class, format string, args ...any) {
	s.fail(class, fmt.Errorf(format, args...))
}

// step runs one step of virtual time: the phase and its faults and
// client operations on a tick boundary, then writes that became durable,
// messages that arrived, the ticks of the nodes, and everything the nodes
// do in answer; then the checks.
func (s *Sim) step() {
	s.now++
	if s.now%uint64(s.opts.StepsPerTick) == 0 {
		s.onTick()
	}
	s.resumeDue(false)
	s.deliver()
	for _, n := range s.nodes {
		if n.up() && (s.now+uint64(n.phase))%uint64(s.opts.StepsPerTick) == 0 {
			s.tickNode(n)
		}
	}
	for _, n := range s.nodes {
		if n.up() && !n.paused() {
			s.process(n)
		}
	}
	s.clients.serveAll()
	s.checkStep()
}

// onTick runs what happens once per tick: the phase changes, the faults
// of a chaos phase, the clients' new operations, compactions.
func (s *Sim) onTick() {
	s.phase.tick(s)
	s.judgeLongStall()
	if s.phase.chaos {
		s.injectFaults()
	}
	s.quiesceTick()
	s.clients.tick()
	s.compactSome()
	s.transfersTimedOut()
}

// deliver moves the messages due now into their recipients' inboxes, or
// loses them if the recipient is down or the link cut.
func (s *Sim) deliver() {
	for {
		e, ok := s.net.next(s.now)
		if !ok {
			return
		}
		to := s.node(e.to)
		if to == nil || !to.up() || !s.net.linked(e.from, e.to) {
			s.lose(e)
			continue
		}
		var m raftpb.Message
		if err := m.Unmarshal(e.data); err != nil {
			s.failf(ClassRefusal, "the codec cannot decode what it encoded (%v from %d to %d): %v", e.typ, e.from, e.to, err)
			return
		}
		s.stats.Delivered++
		s.log.add(s.now, evDeliver, e.to, e.seq)
		if s.log.tracing() {
			s.log.printf(s.now, "deliver %v%s", m, describeHeld(to))
		}
		if to.paused() {
			to.held = append(to.held, m)
			continue
		}
		to.inbox = append(to.inbox, m)
	}
}

// lose is what becomes of a message that cannot arrive. A transport
// learns that it could not reach the peer: the sender is told that the
// peer is unreachable, or that a snapshot failed.
func (s *Sim) lose(e envelope) {
	s.log.add(s.now, evLost, e.to, e.seq)
	if s.log.tracing() {
		s.log.printf(s.now, "lost %d->%d %v (down or cut)", e.from, e.to, e.typ)
	}
	switch e.typ {
	case raftpb.MsgSnap:
		s.reportSnapshot(e.from, report{to: e.to, snap: true, failed: true})
	case raftpb.MsgApp:
		s.report(e.from, report{to: e.to})
	}
}

// report queues a transport's report for the running node id.
func (s *Sim) report(id uint64, r report) {
	if n := s.node(id); n != nil && n.up() {
		n.reports = append(n.reports, r)
	}
}

// reportSnapshot queues the transport's report of a snapshot, unless the
// run's transport never reports snapshots (Options.NoSnapshotReports): a
// lost MsgSnap is then counted, and only the library's resend
// (Config.SnapshotRetryTicks) recovers it.
func (s *Sim) reportSnapshot(id uint64, r report) {
	if !s.opts.NoSnapshotReports {
		s.report(id, r)
	} else if r.failed {
		s.stats.SnapshotsLostUnreported++
	}
}

// send puts the messages a node emitted on the network.
func (s *Sim) send(msgs []raftpb.Message) {
	faults := Faults{}
	if s.phase.chaos && s.longStall == nil {
		faults = s.opts.Faults
	}
	for _, m := range msgs {
		s.stats.Messages++
		if from := s.node(m.From); from != nil {
			s.sawSent(from, m)
		}
		s.checkAckDurable(m)
		s.sawVoteRequestDuringStall(m)
		res := s.net.send(s.now, m, faults)
		s.log.add(s.now, evSend, m.From, uint64(m.Type), m.To, m.Term, m.Index, uint64(len(m.Entries)))
		switch {
		case res.dropped && m.Type == raftpb.MsgSnap:
			// A snapshot's stream breaks: the transport reports it.
			s.stats.Faults[FaultDrop]++
			s.reportSnapshot(m.From, report{to: m.To, snap: true, failed: true})
		case res.dropped:
			s.stats.Faults[FaultDrop]++
		case res.duplicated:
			s.stats.Faults[FaultDuplicate]++
		}
		if res.reordered {
			s.stats.Faults[FaultReorder]++
		}
		if s.log.tracing() {
			s.log.printf(s.now, "send %v%s", m, describeSend(res))
		}
	}
}

// describeHeld notes in the trace that a message reached a paused node.
func describeHeld(n *node) string {
	if n.paused() {
		return " (held: the node is paused)"
	}
	return ""
}

// describeSend notes the faults that hit a message in the trace.
func describeSend(r sendResult) string {
	switch {
	case r.dropped:
		return " (dropped)"
	case r.duplicated && r.reordered:
		return " (duplicated, one copy held back)"
	case r.duplicated:
		return " (duplicated)"
	case r.reordered:
		return " (held back)"
	}
	return ""
}

// node returns the node with id, or nil.
func (s *Sim) node(id uint64) *node {
	if id == 0 || id > uint64(len(s.nodes)) {
		return nil
	}
	return s.nodes[id-1]
}
