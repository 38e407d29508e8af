package sim

import (
	"fmt"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// node is one simulated server: its RawNode (nil while down), its disk,
// its volatile state machine, and the application loop around them.
type node struct {
	id uint64
	rn *raft.RawNode
	// loop is the application loop around rn (tools/raftloop), host the
	// simulator's side of it; both nil while down.
	loop *raftloop.Loop
	host *loopHost
	disk
	kv kvState
	// conf is the configuration in force in the state machine: the
	// latest snapshot's, changed by every conf change applied since.
	conf raftpb.ConfState
	// inbox holds the messages delivered and not yet stepped; reports
	// what the transport learned of messages sent, not yet reported.
	inbox   []raftpb.Message
	reports []report
	// deferred counts the ticks that fell while the node was busy.
	deferred int
	// busy is set in the synchronous loop while a Ready's write is on
	// its way to the disk: the loop waits for it.
	busy bool
	// applies is the apply worker's queue (asynchronous mode).
	applies []applyJob
	// reads are the released reads waiting for the applied index.
	reads []readWait
	// incarnation counts the node's starts.
	incarnation int
	// phase offsets the node's ticks within a tick of virtual time.
	phase int
	// retired is set on a node shut down because it is not needed by
	// the configuration (calm phases only).
	retired bool
	// lostLog is set while a node restarts over a log that lost a suffix
	// (loss.go): it boots in recovering mode. recovering is set from the
	// loss until the node is seen out of recovering mode: a restart
	// meanwhile boots in recovering mode again, as an application that
	// remembers the loss would.
	lostLog, recovering bool
	// lossTerm is the term the node's hard state held when it lost its
	// log (zero: no loss being judged): recovery ends, by the rule, once
	// its disk holds an entry of a newer term.
	lossTerm uint64
	// lostOverwrite is the first entry of the older tail a lost
	// overwrite brought back (loss.go), while the node's disk still
	// holds it: until its leader repairs the log, no other node loses
	// anything. Zero: none.
	lostOverwrite entryAt
	// seen is the status last observed in the History, at seenWrites
	// changes of the disk.
	seen       raft.BasicStatus
	seenOK     bool
	seenWrites uint64
	// watched is the status at the last step, for the per-step checks.
	watched   raft.BasicStatus
	watchedOK bool
	// lead, readsOracle and applyingBytes are what the oracles observed
	// of the node (see oracle.go and oracle_reads.go): its leadership,
	// its read queues, and the committed payload handed out to apply and
	// not yet applied.
	lead          *leaderWatch
	readsOracle   readsWatch
	applyingBytes uint64
	// pausedUntil is the step at which a paused process resumes (zero:
	// not paused); missedTicks counts the ticks it missed, held the
	// messages that arrived meanwhile (see pause.go).
	pausedUntil uint64
	missedTicks int
	held        []raftpb.Message
	// snapJobs is the snapshot worker's queue, chunks the chunks saved on
	// disk, assembledAt the index of the last snapshot assembled from
	// them (see chunks.go).
	snapJobs    []snapJob
	chunks      map[chunkKey][]byte
	assembledAt uint64
	// kept are the snapshots the node keeps on disk to serve chunks of,
	// newest last (keptSnapshots of them): the application keeps its
	// previous snapshots a while, so that a transfer in flight ends even
	// when the node snapshots faster than a transfer takes.
	kept []raftpb.SnapshotMetadata
	// owed counts the ticks a host skipped while the node slept, suspect
	// the ticks its leader has been unreachable (see quiesce.go).
	owed, suspect int
}

// up reports whether the node is running.
func (n *node) up() bool { return n.rn != nil }

// applyJob is the time a MsgStorageApply, queued in the loop's apply
// worker, completes.
type applyJob struct {
	at uint64
}

// report is what a transport tells the node of a message it sent: a
// snapshot that arrived or failed, or a peer it could not reach.
type report struct {
	to           uint64
	snap, failed bool
}

// readWait is a read released by the node, waiting until the state
// machine has applied its index.
type readWait struct {
	ctx   string
	index uint64
}

// boot creates every node from storage that holds the boot configuration:
// voters 1..Nodes, the spares outside it.
func (s *Sim) boot() {
	voters := make([]uint64, s.opts.Nodes)
	for i := range voters {
		voters[i] = uint64(i + 1)
	}
	cs := raftpb.ConfState{Voters: voters}
	s.safety.boot = cs
	for id := uint64(1); id <= uint64(s.opts.Nodes+s.opts.Spares); id++ {
		n := &node{id: id, kv: newKV(), conf: cs, phase: s.nodeRNG.pick(s.opts.StepsPerTick)}
		n.st = raft.NewMemoryStorage()
		n.st.SetConfState(cs)
		s.nodes = append(s.nodes, n)
		s.start(n, 0)
	}
}

// config returns the Config of n's next start.
func (s *Sim) config(n *node, applied uint64) *raft.Config {
	o := &s.opts
	return &raft.Config{
		ID: n.id, Storage: n.st, Applied: applied, Seed: s.nodeRNG.Uint64(),
		ElectionTick: o.ElectionTick, HeartbeatTick: 1,
		DisablePreVote: o.DisablePreVote, DisableCheckQuorum: o.DisableCheckQuorum,
		LeaseReads: o.LeaseReads, AsyncStorageWrites: o.Async,
		MaxSizePerMsg: o.Bounds.MaxSizePerMsg, MaxInflightMsgs: o.Bounds.MaxInflightMsgs,
		MaxInflightBytes: o.Bounds.MaxInflightBytes, MaxUncommittedEntriesSize: o.Bounds.MaxUncommittedEntriesSize,
		MaxCommittedSizePerReady: o.Bounds.MaxCommittedSizePerReady, MaxPendingReads: o.Bounds.MaxPendingReads,
		SnapshotChunkSize: o.SnapshotChunkSize, SnapshotInterval: o.SnapshotInterval,
		Quiesce: o.Quiesce,
		// The simulated application's loop is checked as it runs (a
		// mutation of mutation_test.go that breaks it then panics).
		CheckContract: true,
		Recovering:    n.lostLog,
		// Well above the simulated fsync spikes (StallTicks), short
		// enough that a long stall's verdict fits in a chaos phase.
		StorageStallTicks: o.StorageStallTicks,
	}
}

// start creates n's RawNode from its storage, its state machine applied
// up to applied.
func (s *Sim) start(n *node, applied uint64) {
	if err := s.startLoop(n, s.config(n, applied)); err != nil {
		s.failf(ClassRefusal, "node %d cannot start: %v", n.id, err)
		return
	}
	n.incarnation++
	n.seenOK, n.watchedOK, n.busy, n.deferred = false, false, false, 0
	s.checkInvariants(n, "NewRawNode")
}

// crash stops n: its RawNode, inbox, queued writes (the oldest one torn
// after keep records) and applies, and its state machine are lost.
func (s *Sim) crash(n *node, keep int) {
	kept, of, err := n.disk.crash(keep)
	if err != nil {
		s.failf(ClassRefusal, "node %d: torn write: %v", n.id, err)
	}
	if of > 0 {
		s.stats.TornWrites++
	}
	s.log.add(s.now, evCrash, n.id, uint64(kept), uint64(of))
	if s.log.tracing() {
		s.log.printf(s.now, "crash %d (oldest write torn: %d of %d records kept)", n.id, kept, of)
	}
	n.rn, n.inbox, n.reports, n.applies, n.reads, n.busy = nil, nil, nil, nil, nil, false
	n.loop, n.host = nil, nil
	n.lead, n.readsOracle, n.applyingBytes = nil, readsWatch{}, 0
	n.pausedUntil, n.missedTicks, n.held = 0, 0, nil
	n.snapJobs, n.owed, n.suspect = nil, 0, 0
	s.clients.nodeDown(n)
}

// restart starts a crashed node again from what its disk holds: its state
// machine from the snapshot, the rest from the log as it applies again.
func (s *Sim) restart(n *node) {
	switch {
	case s.opts.Faults.LoseOverwrite > 0 && s.phase.chaos && s.lossRNG.chance(s.opts.Faults.LoseOverwrite) &&
		!s.anyRecovering() && !s.anyLostOverwrite() && s.loseOverwrite(n):
	case s.phase.chaos && s.lossRNG.chance(s.opts.Faults.LoseLog) && !s.anyRecovering() && !s.anyLostOverwrite() &&
		survivesOneLoss(n.conf):
		s.loseLogSuffix(n)
	}
	n.lostLog = n.lostLog || n.recovering
	hs, _, _ := n.st.InitialState()
	snap, _ := n.st.Snapshot()
	if err := n.kv.restore(snap.Metadata.Index, snap.Data); err != nil {
		s.failf(ClassRefusal, "node %d: its own snapshot: %v", n.id, err)
		return
	}
	n.conf = snap.Metadata.ConfState
	if snap.Metadata.Index == 0 {
		n.conf = s.safety.boot
	}
	if n.lostLog {
		// The application knowingly restarts below the commit index it
		// had persisted: what it lost is gone from this node.
		last, _ := n.st.LastIndex()
		hs.Commit = min(hs.Commit, max(last, snap.Metadata.Index))
	}
	s.hist.Restart(n.id, hs, snap.Metadata.Index)
	s.log.add(s.now, evRestart, n.id, hs.Term, hs.Commit, snap.Metadata.Index)
	if s.log.tracing() {
		s.log.printf(s.now, "restart %d from %v, snapshot at %d", n.id, hs, snap.Metadata.Index)
	}
	s.stats.Restarts++
	s.start(n, snap.Metadata.Index)
	n.lostLog = false
}

// tickNode ticks n, or counts the tick for later while n's loop waits on
// its disk.
func (s *Sim) tickNode(n *node) {
	if n.paused() {
		n.missedTicks++
		return
	}
	if n.busy {
		n.deferred++
		return
	}
	if s.skipQuiescedTick(n) {
		return
	}
	n.rn.Tick()
	s.log.add(s.now, evTick, n.id)
	s.checkInvariants(n, "Tick")
}

// process runs n's application loop until it has nothing left to do now:
// complete the writes and applies that are due, catch up on the ticks it
// missed, step the messages delivered, and handle its Readys.
func (s *Sim) process(n *node) {
	for guard := 0; guard < 1000 && n.up() && s.failure == nil; guard++ {
		if s.completeDue(n) {
			continue
		}
		if n.busy {
			return
		}
		if len(n.reports) > 0 || len(n.inbox) > 0 || n.deferred > 0 {
			s.payOwed(n)
		}
		for ; n.deferred > 0; n.deferred-- {
			n.rn.Tick()
			s.log.add(s.now, evTick, n.id)
			s.checkInvariants(n, "Tick")
		}
		if len(n.reports) > 0 {
			s.stepReport(n, n.reports[0])
			n.reports = n.reports[1:]
			continue
		}
		if len(n.inbox) > 0 {
			m := n.inbox[0]
			n.inbox = n.inbox[1:]
			s.stepNode(n, m)
			continue
		}
		if !n.rn.HasReady() {
			s.checkReads(n)
			s.observeQuiet(n)
			return
		}
		if s.opts.Async {
			s.handleReadyAsync(n)
		} else {
			s.handleReady(n)
		}
	}
}

// stepReport tells n what its transport learned.
func (s *Sim) stepReport(n *node, r report) {
	if r.snap {
		n.rn.ReportSnapshot(r.to, r.failed)
	} else {
		n.rn.ReportUnreachable(r.to)
	}
	n.restartStreams(r.to)
	s.checkInvariants(n, "a transport's report")
	s.log.add(s.now, evReport, n.id, r.to, boolBit(r.snap), boolBit(r.failed))
	if s.log.tracing() {
		s.log.printf(s.now, "report %d: %s", n.id, describeReport(r))
	}
}

// describeReport names a transport's report in the trace.
func describeReport(r report) string {
	switch {
	case r.snap && r.failed:
		return fmt.Sprintf("snapshot to %d failed", r.to)
	case r.snap:
		return fmt.Sprintf("snapshot to %d arrived", r.to)
	}
	return fmt.Sprintf("%d unreachable", r.to)
}

// completeDue completes the oldest write (and, asynchronously, apply)
// of n that is due, and reports whether there was one.
func (s *Sim) completeDue(n *node) bool {
	if w := n.disk.due(s.now); w != nil {
		if s.opts.Async {
			s.completeAppend(n)
		} else {
			s.completeReady(n, w)
		}
		return true
	}
	if len(n.applies) > 0 && n.applies[0].at <= s.now {
		n.applies = n.applies[1:]
		s.completeApply(n)
		return true
	}
	return s.completeSnapJob(n)
}

// handleReady handles a Ready of the synchronous loop: the loop saves
// its write and sends Messages at once; the write is queued on the disk,
// and once it is durable (completeReady) the loop sends
// MessagesAfterPersist, applies and Advances. The loop waits for the disk
// meanwhile; a Ready with nothing to sync completes at once.
func (s *Sim) handleReady(n *node) {
	p, err := n.loop.BeginReady()
	if err != nil {
		s.loopFailed(n, err)
		return
	}
	s.readyDone(n)
	rd := p.Ready()
	if s.mutation == mutateAckEarly {
		s.send(rd.MessagesAfterPersist)
		rd.MessagesAfterPersist = nil
	}
	w := n.host.saved
	n.host.saved = nil
	if w == nil {
		w = &diskWrite{} // the loop saves nothing for a Ready with nothing to write
	}
	w.ready = p
	latency := 0
	if rd.MustSync {
		latency = s.diskRNG.between(0, s.opts.DiskLatency)
	}
	n.disk.enqueue(s.now, latency, w)
	n.busy = true
}

// completeReady finishes the Ready whose write w became durable.
func (s *Sim) completeReady(n *node, w *diskWrite) {
	n.busy = false
	if err := n.disk.persist(w, w.records()); err != nil {
		s.failf(ClassRefusal, "node %d: %v", n.id, err)
		return
	}
	s.logDurable(n, w)
	if err := n.loop.FinishReady(w.ready); err != nil {
		s.loopFailed(n, err)
		return
	}
	s.checkInvariants(n, "Advance")
	s.observe(n)
}

// loopFailed fails the run on an error of n's loop, unless the run has
// already failed (the loop then stopped on errFailed).
func (s *Sim) loopFailed(n *node, err error) {
	if s.failure == nil {
		s.failf(ClassRefusal, "node %d: %v", n.id, err)
	}
}

// logDurable records that w became durable on n.
func (s *Sim) logDurable(n *node, w *diskWrite) {
	var first, last uint64
	if k := len(w.entries); k > 0 {
		first, last = w.entries[0].Index, w.entries[k-1].Index
	}
	s.log.add(s.now, evDurable, n.id, first, last, w.hard.Term, w.hard.Vote, w.hard.Commit)
	if s.log.tracing() {
		s.log.printf(s.now, "durable %d: %s", n.id, describeWrite(w))
	}
}

// onReady takes what every Ready carries whatever the mode: the change
// of role, and the released reads.
func (s *Sim) onReady(n *node, rd *raft.Ready) {
	s.log.add(s.now, evReady, n.id, uint64(len(rd.Entries)), uint64(len(rd.CommittedEntries)),
		uint64(len(rd.Messages)), uint64(len(rd.ReadStates)))
	if s.log.tracing() {
		s.log.printf(s.now, "ready %d:%s", n.id, describeReady(rd))
	}
	if rd.SoftState != nil {
		s.onSoftState(n, *rd.SoftState)
	}
	s.watchRole(n)
	for _, rs := range rd.ReadStates {
		s.clients.released(n, rs)
	}
	s.sawReadStates(n, rd.ReadStates)
}

// watchRole starts watching n as a leader when a Ready finds it leading a
// term it was not watched in, and stops when it no longer leads.
func (s *Sim) watchRole(n *node) {
	st := n.rn.BasicStatus()
	switch {
	case st.RaftState != raft.StateLeader:
		n.lead = nil
	case n.lead == nil || n.lead.term != st.Term:
		n.watchLeader(st.Term)
	}
}
