package raft

import (
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
	"pgregory.net/rapid"
)

// scheduleCluster is a cluster driven one schedule step at a time by the
// property tests: a synchronous application per node (each Ready is
// persisted to MemoryStorage, sent, applied and advanced in one go, unless
// a crash cuts it short), a network that holds every message in flight
// and hands them out in any order, at most once, twice or never, and a
// partition. It feeds a checker.History with everything it sees.
//
// The state machine of a node is a digest chain over the entries it
// applied (see digestState); it is durable only through the snapshots in
// the node's storage, so a restarted node re-applies the committed entries
// after its snapshot.
type scheduleCluster struct {
	t      *rapid.T
	cfg    scheduleConfig
	checks scheduleChecks
	opts   scheduleOptions
	// boot is the configuration every node's storage starts with: the
	// first cfg.Size nodes are its voters, the spares are outside it.
	boot  raftpb.ConfState
	nodes []*scheduleNode
	// net holds the messages in flight, in the order they were sent.
	net []raftpb.Message
	// groups gives each node (by index) its side of the partition; nil
	// when the network is whole.
	groups  []int
	history *checker.History
	// oracle judges the bounds from what the cluster carried (see
	// schedule_oracle_test.go); transfers are the leadership transfers
	// accepted or completed, by leader, term and target.
	oracle    *boundsOracle
	transfers map[transferKey]*transferRecord
	// checkedEvents is the number of History events when it last passed
	// every checker.
	checkedEvents uint64
	// trace describes every step taken, for the failure report.
	trace []string
	stats scheduleStats
	// running is the step being run, failing set once the run fails.
	running string
	failing bool
}

// scheduleStats counts what a run did, so that a test can show that its
// schedules reach the paths it claims to test.
type scheduleStats struct {
	Steps, Proposals, Accepted, Acknowledged  int
	Crashes, CrashesInReady, SnapshotsApplied int
	// Of the membership schedules: conf changes proposed and accepted by
	// a leader, applied (counted per node) and refused on apply, and
	// leadership transfers asked for and accepted.
	ConfProposals, ConfAccepted            int
	ConfChangesApplied, ConfChangesRefused int
	Transfers, TransfersAccepted           int
	// Of the transfers a leader accepted or completed: those completed
	// (MsgTimeoutNow sent), those whose target then led a later term,
	// and those that ended without that (the target refused, lost the
	// election or never caught up): liveness, reported, not failed.
	TransfersCompleted, TransfersElected, TransfersLeaderless int
	// RefusedRequests counts requests a correct peer sent that their
	// recipient refused with a documented error (see refusedRequest).
	RefusedRequests int
}

// add adds o to s.
func (s *scheduleStats) add(o scheduleStats) {
	s.Steps += o.Steps
	s.Proposals += o.Proposals
	s.Accepted += o.Accepted
	s.Acknowledged += o.Acknowledged
	s.Crashes += o.Crashes
	s.CrashesInReady += o.CrashesInReady
	s.SnapshotsApplied += o.SnapshotsApplied
	s.ConfProposals += o.ConfProposals
	s.ConfAccepted += o.ConfAccepted
	s.ConfChangesApplied += o.ConfChangesApplied
	s.ConfChangesRefused += o.ConfChangesRefused
	s.Transfers += o.Transfers
	s.TransfersAccepted += o.TransfersAccepted
	s.TransfersCompleted += o.TransfersCompleted
	s.TransfersElected += o.TransfersElected
	s.TransfersLeaderless += o.TransfersLeaderless
	s.RefusedRequests += o.RefusedRequests
}

// scheduleChecks selects what the cluster checks after every step.
type scheduleChecks uint8

const (
	// checkSafety feeds and checks the checker.History and checks that
	// commit and applied indexes never go back on a running node.
	checkSafety scheduleChecks = 1 << iota
	// checkInvariants runs RawNode.CheckInvariants after every input to
	// a node.
	checkInvariants
)

// scheduleOptions extends the schedules of a test; the zero value is the
// plain schedule of properties_test.go.
type scheduleOptions struct {
	// Spares is the number of nodes beyond cfg.Size, outside the boot
	// configuration: running, with empty logs, until a conf change adds
	// them.
	Spares int
	// Configure, if set, changes every node's Config before it starts.
	Configure func(*Config)
	// Actions, if set, returns more kinds of steps for rapid's Repeat,
	// by name, beside "step".
	Actions func(*scheduleCluster) map[string]func(*rapid.T)
	// OnApply, if set, is called for every entry a node applies, after
	// the cluster applied it (and ApplyConfChange took a conf change).
	OnApply func(nd *scheduleNode, e raftpb.Entry)
	// OnReady, if set, is called with every Ready a node hands out, after
	// the cluster handled it (or, in a crash, handled part of it).
	OnReady func(nd *scheduleNode, rd *Ready)
	// OnDeliver, if set, is called for every message the network
	// delivered, after to stepped it: leader says whether to was leader
	// before, err is what Step returned.
	OnDeliver func(to *scheduleNode, m raftpb.Message, leader bool, err error)
	// OnAcknowledge, if set, is called for every proposal acknowledged
	// to its client.
	OnAcknowledge func(e raftpb.Entry)
	// MayTickAlone, if set, says whether a step may tick nd alone; when
	// not, the step ticks every running node instead.
	MayTickAlone func(nd *scheduleNode) bool
	// OnCheck, if set, runs after the checks of every step.
	OnCheck func()
	// Async, if set, handles the storage work of nodes that run with
	// Config.AsyncStorageWrites (see properties_async_test.go).
	Async asyncDriver
	// Chunks, if set, plays the snapshot worker of nodes that run with
	// Config.SnapshotChunkSize (see properties_chunks_test.go).
	Chunks *chunkWorkers
}

// asyncDriver is the part of the cluster that runs the storage workers of
// the asynchronous storage mode.
type asyncDriver interface {
	// handleReady takes nd's Ready, sends what goes to the network and
	// queues the worker messages; it returns the trace's summary.
	handleReady(nd *scheduleNode) string
	// crash loses every queued write and apply of nd.
	crash(nd *scheduleNode)
	// quiet reports whether nd has no write queued: its storage then
	// holds everything it handed out to persist.
	quiet(nd *scheduleNode) bool
	// drain completes every queued write and apply of nd, in order, and
	// reports whether there was any.
	drain(nd *scheduleNode) bool
}

// confAt is the configuration a node applied at an index.
type confAt struct {
	index uint64
	cs    raftpb.ConfState
}

// scheduleConfig is what a run draws before its first step.
type scheduleConfig struct {
	Size                 int
	PreVote, CheckQuorum bool
	ElectionTick         int
	MaxSizePerMsg        uint64
	MaxInflightMsgs      int
	// MaxCommittedSizePerReady is small in some runs, so that batches
	// to apply are cut (0: the default).
	MaxCommittedSizePerReady uint64
	Seed                     uint64
	Stormy                   bool
}

// scheduleNode is one member: its RawNode (nil while crashed), its durable
// storage and its volatile state machine.
type scheduleNode struct {
	// ledTerm is the term this node was last seen becoming leader of, so
	// that checkLeaderIsVoter checks each leadership once, at its start.
	ledTerm uint64
	id      uint64
	rn      *RawNode
	st      *MemoryStorage
	sm      digestState
	// pending maps the index of each proposal this incarnation accepted
	// as leader to the entry Propose described, until it is applied.
	pending map[uint64]raftpb.Entry
	// watched is the status at the last step of this incarnation; seen
	// the status last recorded in the History; writes counts the changes
	// to st, seenWrites its value at that record.
	watched, seen      BasicStatus
	watchedOK, seenOK  bool
	writes, seenWrites uint64
	// confs are the configurations the node applied since its state
	// machine's snapshot (the first is the snapshot's, or the boot one);
	// the last is the one in force on the node.
	confs []confAt
	// ticks counts the ticks of the node's clock, across restarts (a
	// node restarts with the clock of the most advanced running node).
	ticks uint64
	// retired is set on a node the liveness phase shut down because it
	// is no longer a member.
	retired bool
}

// conf returns the configuration in force on nd.
func (nd *scheduleNode) conf() raftpb.ConfState { return nd.confs[len(nd.confs)-1].cs }

// confAtIndex returns the configuration nd had applied at index i, which
// must not be below its state machine's snapshot.
func (nd *scheduleNode) confAtIndex(i uint64) raftpb.ConfState {
	k := len(nd.confs) - 1
	for k > 0 && nd.confs[k].index > i {
		k--
	}
	return nd.confs[k].cs
}

// newScheduleClusterWith boots cfg.Size voters and opts.Spares spare
// nodes from fresh storage that holds the boot configuration.
func newScheduleClusterWith(t *rapid.T, cfg scheduleConfig, checks scheduleChecks, opts scheduleOptions) *scheduleCluster {
	c := &scheduleCluster{t: t, cfg: cfg, checks: checks, opts: opts, history: checker.NewHistory(),
		transfers: map[transferKey]*transferRecord{}}
	c.oracle = newBoundsOracle(c)
	cs := raftpb.ConfState{Voters: c.voters()}
	c.boot = cs
	for id := uint64(1); id <= uint64(cfg.Size+opts.Spares); id++ {
		nd := &scheduleNode{id: id, st: NewMemoryStorage(), sm: newDigestState()}
		nd.st.SetConfState(cs)
		nd.confs = []confAt{{0, cs}}
		c.nodes = append(c.nodes, nd)
		c.start(nd, 0)
	}
	return c
}

// voters returns the IDs of every member.
func (c *scheduleCluster) voters() []uint64 {
	ids := make([]uint64, c.cfg.Size)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	return ids
}

// start creates the RawNode of nd from its storage, applied up to applied.
func (c *scheduleCluster) start(nd *scheduleNode, applied uint64) {
	seed := c.cfg.Seed<<3 | nd.id
	config := &Config{
		ID: nd.id, Storage: nd.st, Applied: applied, Seed: seed,
		ElectionTick: c.cfg.ElectionTick, HeartbeatTick: 1,
		MaxSizePerMsg: c.cfg.MaxSizePerMsg, MaxInflightMsgs: c.cfg.MaxInflightMsgs,
		MaxCommittedSizePerReady: c.cfg.MaxCommittedSizePerReady,
		DisablePreVote:           !c.cfg.PreVote, DisableCheckQuorum: !c.cfg.CheckQuorum,
		CheckContract: true, // the harness's loop is checked as it runs
	}
	if c.opts.Configure != nil {
		c.opts.Configure(config)
	}
	rn, err := NewRawNode(config)
	if err != nil {
		c.fail("node %d cannot start: %v", nd.id, err)
	}
	nd.rn, nd.pending = rn, map[uint64]raftpb.Entry{}
	c.oracle.started(nd, config)
	nd.watchedOK, nd.seenOK = false, false
	c.afterInput(nd, "start")
}

// fail ends the run with a report that ends with the steps taken.
func (c *scheduleCluster) fail(format string, args ...any) {
	c.t.Helper()
	c.failing = true
	var b strings.Builder
	fmt.Fprintf(&b, format, args...)
	fmt.Fprintf(&b, "\nconfig: %+v\nschedule (%d steps):\n", c.cfg, len(c.trace))
	for i, s := range c.trace {
		fmt.Fprintf(&b, "  %3d %s\n", i+1, s)
	}
	if c.running != "" {
		fmt.Fprintf(&b, "  %3d %s (failed while running it)\n", len(c.trace)+1, c.running)
	}
	c.t.Fatal(b.String())
}

// guard runs f, turning a panic of the library into a failure that
// reports the schedule. (A panic of the failure itself goes on.)
func (c *scheduleCluster) guard(f func()) {
	defer func() {
		if r := recover(); r != nil {
			if c.failing {
				panic(r)
			}
			c.fail("panic: %v\n%s", r, debug.Stack())
		}
	}()
	f()
}

// logf records one step in the trace.
func (c *scheduleCluster) logf(format string, args ...any) {
	c.trace = append(c.trace, fmt.Sprintf(format, args...))
}

// afterInput checks the invariants of nd after an input, when asked to.
func (c *scheduleCluster) afterInput(nd *scheduleNode, input string) {
	if c.checks&checkInvariants == 0 || nd.rn == nil {
		return
	}
	if err := nd.rn.CheckInvariants(); err != nil {
		c.fail("node %d after %s: %v", nd.id, input, err)
	}
}

// tick ticks nd once.
func (c *scheduleCluster) tick(nd *scheduleNode) {
	nd.rn.Tick()
	nd.ticks++
	c.afterInput(nd, "Tick")
}

// up returns the running nodes, in ID order.
func (c *scheduleCluster) up() []*scheduleNode {
	var out []*scheduleNode
	for _, nd := range c.nodes {
		if nd.rn != nil {
			out = append(out, nd)
		}
	}
	return out
}

// down returns the crashed nodes, in ID order.
func (c *scheduleCluster) down() []*scheduleNode {
	var out []*scheduleNode
	for _, nd := range c.nodes {
		if nd.rn == nil {
			out = append(out, nd)
		}
	}
	return out
}

// handleReady handles one Ready of nd the way the contract says:
// persist, send, apply, Advance.
func (c *scheduleCluster) handleReady(nd *scheduleNode) string {
	if c.opts.Async != nil {
		return c.opts.Async.handleReady(nd)
	}
	rd := nd.rn.Ready()
	c.afterInput(nd, "Ready")
	rd.Snapshot = c.opts.Chunks.assemble(nd, rd.Snapshot)
	c.persist(nd, &rd, len(rd.Entries)+2)
	c.checkPeersOnly(nd, &rd)
	c.send(rd.LocalMessages)
	c.send(rd.Messages)
	c.send(rd.MessagesAfterPersist)
	c.oracle.readyOut(nd)
	c.oracle.handedOut(nd, rd.Entries, rd.HardState.Commit, &rd.Snapshot)
	c.oracle.handedToApply(nd, rd.CommittedEntries)
	c.apply(nd, &rd)
	if c.opts.OnReady != nil {
		// The node reuses the message and entry arrays once Advance is
		// called: what OnReady reads of them after it is a copy.
		rd.Messages, rd.MessagesAfterPersist = slices.Clone(rd.Messages), slices.Clone(rd.MessagesAfterPersist)
		rd.Entries, rd.CommittedEntries = slices.Clone(rd.Entries), slices.Clone(rd.CommittedEntries)
	}
	c.oracle.applied(nd, rd.CommittedEntries) // before Advance, which may take their array back
	nd.rn.Advance()
	c.afterInput(nd, "Advance")
	if c.opts.OnReady != nil {
		c.opts.OnReady(nd, &rd)
	}
	if c.checks&checkSafety != 0 {
		c.record(nd)
	}
	// The snapshot worker runs after the record: a chunk it saves may
	// complete a snapshot, which the node then holds unpersisted, and
	// the record reads the log from storage.
	c.opts.Chunks.drain(nd)
	return describeReady(&rd)
}

// describeReady summarizes a Ready for the trace.
func describeReady(rd *Ready) string {
	var b strings.Builder
	if !rd.HardState.IsEmpty() {
		fmt.Fprintf(&b, " hard={%v}", rd.HardState)
	}
	if !rd.Snapshot.IsEmpty() {
		fmt.Fprintf(&b, " snapshot=%d/%d", rd.Snapshot.Metadata.Term, rd.Snapshot.Metadata.Index)
	}
	if n := len(rd.Entries); n > 0 {
		fmt.Fprintf(&b, " entries=%d/%d..%d/%d", rd.Entries[0].Term, rd.Entries[0].Index, rd.Entries[n-1].Term, rd.Entries[n-1].Index)
	}
	if n := len(rd.CommittedEntries); n > 0 {
		fmt.Fprintf(&b, " apply=%d..%d", rd.CommittedEntries[0].Index, rd.CommittedEntries[n-1].Index)
	}
	fmt.Fprintf(&b, " msgs=%d+%d", len(rd.Messages), len(rd.MessagesAfterPersist))
	return b.String()
}

// persist writes the first records of rd's write to nd's storage, in the
// order a crash could cut it: the snapshot (record 0, even when empty),
// the entries one by one, the hard state. records = len(rd.Entries)+2 is
// the whole write.
func (c *scheduleCluster) persist(nd *scheduleNode, rd *Ready, records int) {
	if records > 0 && !rd.Snapshot.IsEmpty() {
		if err := nd.st.ApplySnapshot(rd.Snapshot); err != nil {
			c.fail("node %d cannot persist snapshot %d/%d: %v", nd.id, rd.Snapshot.Metadata.Term, rd.Snapshot.Metadata.Index, err)
		}
		nd.writes++
	}
	if k := min(records-1, len(rd.Entries)); k > 0 {
		if err := nd.st.Append(rd.Entries[:k]); err != nil {
			c.fail("node %d cannot persist entries from %d: %v", nd.id, rd.Entries[0].Index, err)
		}
		nd.writes++
	}
	if records == len(rd.Entries)+2 && !rd.HardState.IsEmpty() {
		if err := nd.st.SetHardState(rd.HardState); err != nil {
			c.fail("node %d cannot persist %v: %v", nd.id, rd.HardState, err)
		}
		nd.writes++
	}
}

// checkPeersOnly fails the run when a Ready of the synchronous loop hands
// out a message for a local worker among the messages for peers: the
// loop of doc.go sends those to the network as they are.
func (c *scheduleCluster) checkPeersOnly(nd *scheduleNode, rd *Ready) {
	for _, m := range append(rd.Messages[:len(rd.Messages):len(rd.Messages)], rd.MessagesAfterPersist...) {
		if m.To == LocalSnapshotThread || m.To == LocalAppendThread || m.To == LocalApplyThread {
			c.fail("node %d handed out %v for a local worker among its messages for peers", nd.id, m)
		}
	}
}

// send puts msgs in flight, where the oracle sees them. The partition
// is applied on delivery. Messages to a node's snapshot worker go to its
// queue instead.
func (c *scheduleCluster) send(msgs []raftpb.Message) {
	for _, m := range msgs {
		if m.To == LocalSnapshotThread {
			c.opts.Chunks.queue(m)
			continue
		}
		c.oracle.sent(m)
		c.net = append(c.net, keepMessage(m))
	}
}

// check runs the checks the cluster was asked for after a step: the
// invariants of every running node, or the monotonicity of its commit and
// applied indexes, an observation of it when its log is known (see
// record), and every checker of the History.
func (c *scheduleCluster) check() {
	for _, nd := range c.up() {
		c.afterInput(nd, "the step")
		if c.checks&checkSafety != 0 {
			c.watch(nd)
			c.checkLeaderIsVoter(nd)
			if !nd.rn.HasReady() && (c.opts.Async == nil || c.opts.Async.quiet(nd)) {
				c.record(nd)
			}
		}
	}
	if c.opts.OnCheck != nil {
		c.opts.OnCheck()
	}
	if c.checks&checkSafety == 0 || c.history.Events() == c.checkedEvents {
		return // the History is unchanged since it last passed
	}
	c.checkedEvents = c.history.Events()
	if err := checker.Check(c.history); err != nil {
		c.fail("%v", err)
	}
}

// checkLeaderIsVoter checks that a node becomes leader only of a
// configuration it votes in (incoming or outgoing): a node removed,
// demoted or never added never wins an election. A leader that applies its
// own removal keeps leading for a while, refusing proposals, while it
// hands over; that is checked when it became leader, not after.
func (c *scheduleCluster) checkLeaderIsVoter(nd *scheduleNode) {
	st := nd.rn.BasicStatus()
	if st.RaftState != StateLeader {
		nd.ledTerm = 0
		return
	}
	if nd.ledTerm == st.Term {
		return // checked when it became leader of this term
	}
	nd.ledTerm = st.Term
	c.transferElected(nd.id, st.Term)
	cs := nd.conf()
	if !slices.Contains(cs.Voters, nd.id) && !slices.Contains(cs.VotersOutgoing, nd.id) {
		c.fail("node %d leads term %d in a configuration it does not vote in: %v", nd.id, st.Term, cs)
	}
}

// watch checks that nd's commit and applied indexes did not go back since
// the last step, in this incarnation.
func (c *scheduleCluster) watch(nd *scheduleNode) {
	st := nd.rn.BasicStatus()
	if nd.watchedOK && (st.Commit < nd.watched.Commit || st.Applied < nd.watched.Applied) {
		c.fail("node %d went back from commit %d applied %d to commit %d applied %d without a restart",
			nd.id, nd.watched.Commit, nd.watched.Applied, st.Commit, st.Applied)
	}
	nd.watched, nd.watchedOK = st, true
}

// record observes nd in the History: its status and its log. The driver
// sees a node's log only in its storage, which is the whole log when the
// node has no Ready (nothing it holds is unpersisted) and right after its
// Ready was handled (then at most the empty entry of a leadership the
// Advance completed is missing, which no checker needs); record is called
// only then. An unchanged node is not recorded again, nor one whose
// storage was compacted to no entries at all: the History would read
// that log as one that lacks the compacted entries.
func (c *scheduleCluster) record(nd *scheduleNode) {
	st := nd.rn.BasicStatus()
	if nd.seenOK && st == nd.seen && nd.writes == nd.seenWrites {
		return
	}
	log := storedLog(nd.st)
	if first, _ := nd.st.FirstIndex(); len(log) == 0 && first > 1 {
		return
	}
	nd.seen, nd.seenOK, nd.seenWrites = st, true, nd.writes
	err := c.history.Observe(checker.Observation{
		ID: nd.id, Soft: st.SoftState, Hard: st.HardState, Applied: st.Applied, Log: log,
	})
	if err != nil {
		c.fail("node %d: %v", nd.id, err)
	}
}

// storedLog returns every entry in st.
func storedLog(st *MemoryStorage) []raftpb.Entry {
	first, _ := st.FirstIndex()
	last, _ := st.LastIndex()
	if first > last {
		return nil
	}
	var ents []raftpb.Entry
	for lo := first; lo <= last; {
		es, err := st.Entries(lo, last+1, math.MaxUint64) // may stop short: ask again
		if err != nil {
			panic(fmt.Sprintf("MemoryStorage cannot read its own entries [%d, %d]: %v", lo, last, err))
		}
		ents = append(ents, es...)
		lo += uint64(len(es))
	}
	return ents
}
