package core

import (
	"fmt"

	"github.com/tickraft/raft/confchange"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/readonly"
	"github.com/tickraft/raft/tracker"
)

// None is the ID of no node: no leader known, no vote cast.
const None uint64 = 0

// StateType is a node's role.
type StateType uint8

// The roles.
const (
	StateFollower StateType = iota
	StateCandidate
	StateLeader
	StatePreCandidate
)

var stateNames = [...]string{"StateFollower", "StateCandidate", "StateLeader", "StatePreCandidate"}

// String returns the role's name.
func (s StateType) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("StateType(%d)", uint8(s))
}

// SoftState is the volatile part of a node's state that the application
// may want to watch: who leads, and this node's role.
type SoftState struct {
	Lead      uint64
	RaftState StateType
}

// Raft is one member of a Raft group: the protocol state machine. It is
// driven by Tick, Step and the proposal methods and produces its work
// through Ready. It is not safe for concurrent use.
type Raft struct {
	// The fields come in the order an idle tick reads them, what every
	// tick, step and Ready of an idle node touches first, in as few cache
	// lines as the allocation allows: a process with many groups touches
	// each node's lines once per tick, and the first touch of a line is
	// what an idle tick mostly pays for (BENCHMARKS.md, "the sixth idle
	// pass"). What only elections, appends or snapshots use goes last.

	// The one-byte fields, together so that they share a word: a process
	// with many groups holds a Raft per member.
	state StateType
	// appendsPending is set when the leader has new entries or a new commit
	// index to send; they go out, batched, when the next Ready is built.
	appendsPending bool
	// voter is set while this node is a voter of its configuration (kept by
	// switchToConfig), so that the election clock asks no map per tick.
	voter bool
	// recovering is set on a node booted with Config.Recovering until an
	// entry or snapshot of a term above recoveringTerm (its boot term) is
	// durable: it votes for no one and does not stand (recovering.go).
	recovering bool
	// restarted is set on a node that booted from a persisted term: it
	// may have followed a leader just before (see restartQuiet).
	restarted bool
	// quiesce is the sleep of an idle group (Config.Quiesce, quiesce.go);
	// a leader's requests are in its leaderState.
	quiesce quiescence
	// settings are what the node derived from its Config (settings.go),
	// shared with the nodes configured alike that share its GroupCache.
	settings *settings
	// cold is what few nodes use (raftCold), nil until one of its parts
	// is first needed.
	cold *raftCold
	// leader is what only a leader holds (the transfer under way, the
	// pending conf change, the revoked lease, the snapshots sent, its
	// heartbeat timer and its part in quiescence), nil on every other
	// node (leader.go).
	leader *leaderState
	id     uint64
	term   uint64
	lead   uint64
	vote   uint64

	clock electionClock
	// ticks counts every tick of this node; leaderTick only the ticks of
	// its leaderships (the clock of its heartbeat rounds and lease).
	ticks      uint64
	leaderTick uint64
	// storage watches this node's own writes for a stall
	// (Config.StorageStallTicks, storage_stall.go).
	storage storageWatch
	// readOnly is the leader's read rounds (nil until the node first
	// leads, then kept, so that its round numbers go on rising across its
	// terms).
	readOnly *readonly.ReadOnly
	// out is the messages queued for the next Ready (outbox.go).
	out outbox

	// ready is what the Readys handed out since the last Advance (ready.go).
	ready readyState
	trk   tracker.ProgressTracker
	// raftLog is the node's log, held in the node (not behind a pointer)
	// so that the two take one allocation; what an idle node does not
	// read is at its end, and so at the end of the node.
	raftLog raftLog
}

// raftCold is the part of a node that few nodes use, or use rarely:
// behind one pointer in Raft, allocated when a part is first needed, so
// that an idle group's nodes hold one word for all of it (a process with
// many groups holds a Raft per member).
type raftCold struct {
	// fetch is this node's side of the chunked snapshot transfer as a
	// receiver (chunks.go), nil when the transfer is off.
	fetch *chunkReceiver
	// local are the synchronous loop's messages to the snapshot worker,
	// handed out in Ready.LocalMessages (outbox.go): few, and never kept
	// for reuse.
	local []raftpb.Message
	// reads is the queues of reads (reads.go), nil until the node's
	// first read.
	reads *readQueues
	// serving is this node's side of the chunked snapshot transfer as a
	// source (chunks.go), nil until it serves.
	serving *chunkSource
	// contract is the checked mode's memory of what was handed out
	// (Config.CheckContract, checked.go), nil when the mode is off.
	contract *contractCheck
	// snapApply is, in the asynchronous mode, the snapshots on their way
	// to the apply worker (storage_acks.go), nil when there are none.
	snapApply *snapshotApply
	// recoveringTerm is the boot term of a recovering node.
	recoveringTerm uint64
}

// coldState returns the node's cold part, allocating it on first use.
func (r *Raft) coldState() *raftCold {
	if r.cold == nil {
		r.cold = &raftCold{}
	}
	return r.cold
}

// queuedReads returns the node's queues of reads, or nil if it never had
// a read (readQueues' methods take a nil receiver for empty queues).
func (r *Raft) queuedReads() *readQueues {
	if r.cold == nil {
		return nil
	}
	return r.cold.reads
}

// chunkFetch returns the node's chunk receiver, or nil when the chunked
// transfer is off.
func (r *Raft) chunkFetch() *chunkReceiver {
	if r.cold == nil {
		return nil
	}
	return r.cold.fetch
}

// chunkServing returns the node's chunk source, or nil if it never
// served.
func (r *Raft) chunkServing() *chunkSource {
	if r.cold == nil {
		return nil
	}
	return r.cold.serving
}

// checkedContract returns the checked mode's record, or nil when the mode
// is off.
func (r *Raft) checkedContract() *contractCheck {
	if r.cold == nil {
		return nil
	}
	return r.cold.contract
}

// snapshotsToApply returns the snapshots on their way to the apply
// worker, or nil when there are none.
func (r *Raft) snapshotsToApply() *snapshotApply {
	if r.cold == nil {
		return nil
	}
	return r.cold.snapApply
}

// recoveringBootTerm returns the boot term of a recovering node (0 for
// any other).
func (r *Raft) recoveringBootTerm() uint64 {
	if r.cold == nil {
		return 0
	}
	return r.cold.recoveringTerm
}

// NewRaft builds a node from its Config and the state found in its
// Storage. A node of a new cluster boots from Storage holding the initial
// ConfState; a restarting node recovers its term, vote, log and
// configuration.
func NewRaft(c *Config) (*Raft, error) {
	r := new(Raft)
	if err := r.Init(c); err != nil {
		return nil, err
	}
	return r, nil
}

// Init builds into r, a zero Raft the caller holds, the node NewRaft
// would return: the root package's RawNode holds its Raft inline, so
// that a node takes one allocation. After an error r must not be used.
func (r *Raft) Init(c *Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	cfg := c.withDefaults()
	set := newSettings(&cfg)
	*r = Raft{
		id:         cfg.ID,
		clock:      newElectionClock(cfg.Seed),
		settings:   set,
		leaderTick: 1,
		quiesce:    quiescence{on: cfg.Quiesce},
	}
	// The tracker stays zero until restoreConfig installs the configuration.
	if err := r.raftLog.init(cfg.Storage, &set.apply); err != nil {
		return err
	}
	if cfg.ReuseEntryArrays {
		r.raftLog.unstable.takeBackArrays() // the application promised Advance ends every use of what the Readys handed out
	}
	hs, cs, err := cfg.Storage.InitialState()
	if err != nil {
		return err
	}
	if r.settings.chunks.size > 0 {
		r.coldState().fetch = newChunkReceiver(r.settings.chunks, r.id)
	}
	if cc := newContractCheck(cfg.CheckContract); cc != nil {
		r.coldState().contract = cc
	}
	if err := r.restoreConfig(cs); err != nil {
		return err
	}
	if err := r.checkLostLog(hs, cfg.Recovering || hs.RecoveringTerm > 0); err != nil {
		return err
	}
	r.loadHardState(hs)
	r.restarted = hs.Term > 0
	switch {
	case cfg.Recovering:
		r.startRecovering()
	case hs.RecoveringTerm > 0:
		r.resumeRecovering(hs.RecoveringTerm)
	}
	if cfg.Applied > 0 {
		if cfg.Applied > r.raftLog.committed {
			return &ConfigError{"Applied", fmt.Sprintf("(%d) is beyond the committed index %d", cfg.Applied, r.raftLog.committed)}
		}
		r.raftLog.appliedTo(cfg.Applied, 0)
		if err := r.reapplyConfChanges(cfg.Applied); err != nil {
			return err
		}
	}
	r.becomeFollower(r.term, None)
	r.ready.init(r)
	if cfg.Recovering {
		r.ready.owePersistedChange(hs)
	}
	r.log(LevelInfo, "started", Attr{"commit", r.raftLog.committed}, Attr{"applied", r.raftLog.applied},
		Attr{"last_index", r.raftLog.lastIndex()}, Attr{"last_term", r.raftLog.lastEntryID().term})
	return nil
}

// restoreConfig installs the configuration cs (from storage or a snapshot).
func (r *Raft) restoreConfig(cs raftpb.ConfState) error {
	cfg, prs, err := confchange.Restore(confchange.Changer{
		Tracker:          r.trk,
		LastIndex:        r.raftLog.lastIndex(),
		MaxInflight:      r.settings.maxInflight,
		MaxInflightBytes: r.settings.maxInflightBytes,
	}, cs)
	if err != nil {
		return fmt.Errorf("raft: restoring configuration %v: %w", cs, err)
	}
	r.switchToConfig(cfg, prs)
	return nil
}

// loadHardState installs a persisted HardState. A Ready's HardState is
// durable only together with or after its Entries and Snapshot, so a
// commit index beyond the log means lost entries: NewRaft refuses it
// (checkLostLog) unless the node recovers, and then it is clamped into
// the log (the surviving prefix was committed). A commit index below a
// snapshot written without its hard state is raised to the snapshot's
// index, committed by definition.
func (r *Raft) loadHardState(hs raftpb.HardState) {
	commit := min(max(hs.Commit, r.raftLog.committed), r.raftLog.lastIndex())
	if commit != hs.Commit {
		r.log(LevelWarn, "persisted commit is outside the log; corrected", Attr{"persisted_commit", hs.Commit},
			Attr{"first_commit", r.raftLog.committed}, Attr{"last_index", r.raftLog.lastIndex()}, Attr{"commit", commit})
	}
	r.raftLog.committed = commit
	r.term = hs.Term
	r.vote = hs.Vote
	if last := r.raftLog.lastEntryID().term; last > r.term {
		// The entries of a later term were persisted but not the hard
		// state that went with them. No vote of that term ever left this
		// node (votes leave only once durable), so taking the term with
		// no vote is safe, and a node's term is never below its log's.
		r.log(LevelWarn, "persisted term is below its last entry's term; corrected", Attr{"last_term", last})
		r.term, r.vote = last, None
	}
}

func (r *Raft) softState() SoftState { return SoftState{Lead: r.lead, RaftState: r.state} }

func (r *Raft) hardState() raftpb.HardState {
	hs := raftpb.HardState{Term: r.term, Vote: r.vote, Commit: r.raftLog.committed}
	if r.recovering {
		hs.RecoveringTerm = r.recoveringBootTerm()
	}
	return hs
}

// reset prepares the node for a new term: timers, votes and progress.
func (r *Raft) reset(term uint64) {
	r.leader = nil
	if r.term != term {
		r.term = term
		r.vote = None
	}
	r.lead = None
	r.clock.reset(r.settings.electionTimeout)
	r.trk.ResetVotes()
	// Only a leader tracks its peers' replication (becomeLeader gives it
	// a fresh Progress for each): a follower or candidate holds its
	// configuration alone.
	r.trk.DropProgress()
	r.abortReads()
	r.appendsPending = false
	r.quiesce.reset()
}

// openWindows gives every member's Progress but its own a window of
// appends in flight. Only a leader sends appends, so only a leader holds
// windows, and none for itself (a node that does not lead holds no
// Progress at all).
func (r *Raft) openWindows() {
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		if id == r.id {
			pr.Inflights = nil
			return
		}
		if pr.Inflights == nil {
			pr.Inflights = r.newWindow()
		} else {
			r.returnEmptyWindow(pr) // a conf change copies every window
		}
	})
}

// SetRandomizedElectionTimeout replaces the election timeout the node
// drew from its generator with ticks, until the node next draws one (when
// its term or role changes). It exists for test harnesses that script an
// election to the tick, as etcd raft's interaction tests do; an
// application never needs it. ticks below 1 are taken as 1.
func (r *Raft) SetRandomizedElectionTimeout(ticks int) {
	r.clock.setRandomized(ticks)
}

func (r *Raft) becomeFollower(term, lead uint64) {
	r.reset(term)
	r.lead = lead
	r.state = StateFollower
	r.log(LevelInfo, "became follower", Attr{"leader", lead})
}

func (r *Raft) becomePreCandidate() {
	if r.state == StateLeader {
		panic("invariant: a leader cannot become a pre-candidate")
	}
	// A pre-candidate keeps its term and vote (thesis §9.6): it only asks.
	r.trk.ResetVotes()
	r.lead = None
	r.state = StatePreCandidate
	r.log(LevelInfo, "became pre-candidate")
}

func (r *Raft) becomeCandidate() {
	if r.state == StateLeader {
		panic("invariant: a leader cannot become a candidate")
	}
	r.reset(r.term + 1)
	r.vote = r.id
	r.state = StateCandidate
	r.log(LevelInfo, "became candidate")
}

func (r *Raft) becomeLeader() {
	if r.state == StateFollower {
		panic("invariant: a follower cannot become leader without an election")
	}
	r.reset(r.term)
	r.lead = r.id
	r.state = StateLeader
	if r.readOnly == nil {
		r.readOnly = readonly.New(r.settings.maxPendingReads)
	}
	// A fresh Progress for every member: nothing known to match, probing
	// from just past the leader's log.
	r.trk.ResetProgress(r.raftLog.lastIndex() + 1)
	r.openWindows()
	// The leader's own progress: replicate from what it holds.
	pr := r.trk.Progress(r.id)
	if pr == nil || pr.IsLearner {
		panic("invariant: only a voter of its configuration becomes leader")
	}
	pr.Match = r.raftLog.stableLastIndex()
	pr.BecomeReplicate()
	pr.RecentActive = true
	// Conf changes in the uncommitted tail may be pending: be conservative
	// and wait for everything up to the last index to be applied.
	r.leader = newLeaderState(r.raftLog.lastIndex(), r.settings, r.leaderTick)
	// §5.4.2: a new leader commits entries of earlier terms only by
	// committing one of its own, so it appends an empty entry at once.
	r.appendEntry(raftpb.Entry{Data: nil})
	r.log(LevelInfo, "became leader")
}

// switchToConfig installs a configuration and its progress map, and
// learns from it whether this node is a learner.
func (r *Raft) switchToConfig(cfg tracker.Config, prs tracker.ProgressMap) raftpb.ConfState {
	// The nodes of a GroupCache share one copy of each configuration.
	shared := r.settings.cache.config(cfg)
	if r.state == StateLeader {
		r.trk.SetSharedConfig(shared, prs)
		r.openWindows()
	} else {
		r.trk.SetSharedConfig(shared, nil) // only a leader tracks Progress
	}
	cs := r.trk.ConfState()
	voter := r.trk.Voters.Contains(r.id)
	r.voter = voter
	if !voter && r.state == StateLeader && r.settings.stepDownOnRemoval {
		// The leader was removed or demoted: it steps down so that the
		// group elects a leader that counts itself. Voters that have not
		// learned that the change is committed learn it from the vote
		// rejections of nodes that have (learnCommitFromRejection).
		r.becomeFollower(r.term, None)
		return cs
	}
	if !voter && (r.state == StateCandidate || r.state == StatePreCandidate) {
		// No longer a voter: the candidacy is void.
		r.becomeFollower(r.term, None)
		return cs
	}
	if t := r.transferee(); t != None && (r.trk.Progress(t) == nil || r.trk.Progress(t).IsLearner) {
		r.abortLeaderTransfer("the target is no longer a voter")
	}
	if r.state != StateLeader || len(cs.Voters) == 0 {
		return cs
	}
	// The commit index may move forward under a new quorum, and new
	// members need probing: the next Ready sends what each lacks.
	r.maybeCommit()
	r.appendsPending = true
	return cs
}

// promotable reports whether the node may become leader: nothing in
// standingError holds it back. For a voter, standingError looks nothing
// up, so the tick of every follower may ask.
func (r *Raft) promotable() bool { return r.standingError() == nil }
