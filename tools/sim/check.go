package sim

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

// safetyState holds the incremental checks that run after every step,
// cheap enough for that: the leader of every term seen, and the entry
// first applied at every index. The whole-History checkers of
// tools/checker check the same properties and more, less often.
type safetyState struct {
	boot      raftpb.ConfState
	leaders   map[uint64]uint64
	appliedAt map[uint64]appliedSig
}

// appliedSig is an entry applied at an index, and where.
type appliedSig struct {
	term uint64
	typ  raftpb.EntryType
	data []byte
	node uint64
	step uint64
}

func (c *safetyState) init() {
	c.leaders = map[uint64]uint64{}
	c.appliedAt = map[uint64]appliedSig{}
}

// leader checks that n, which became leader of term, is the only leader
// of that term (Election Safety, §5.2) and a voter of the configuration
// in force on it.
func (c *safetyState) leader(s *Sim, n *node, term uint64) {
	if first, ok := c.leaders[term]; ok && first != n.id {
		s.failf(Class(checker.ElectionSafety), "term %d has two leaders: node %d and node %d", term, first, n.id)
		return
	}
	c.leaders[term] = n.id
	if !slices.Contains(n.conf.Voters, n.id) && !slices.Contains(n.conf.VotersOutgoing, n.id) {
		s.failf(ClassRefusal, "node %d leads term %d in a configuration it does not vote in: %v", n.id, term, n.conf)
	}
}

// applied checks that the entry n applies at its index is the one every
// node applied there (State Machine Safety, §5.4.3).
func (c *safetyState) applied(s *Sim, n *node, e raftpb.Entry) {
	first, ok := c.appliedAt[e.Index]
	if !ok {
		c.appliedAt[e.Index] = appliedSig{term: e.Term, typ: e.Type, data: e.Data, node: n.id, step: s.now}
		return
	}
	if first.term != e.Term || first.typ != e.Type || !bytes.Equal(first.data, e.Data) {
		s.failf(Class(checker.StateMachineSafety), "node %d applied %v at index %d, node %d applied %d/%d %v %q there at step %d",
			n.id, e, e.Index, first.node, first.term, e.Index, first.typ, first.data, first.step)
	}
}

// checkStep runs the checks of every step: the progress of each running
// node, its bounds once per tick, the whole-History checkers every
// FullCheckEvery steps, and the extra checker.
func (s *Sim) checkStep() {
	if s.failure != nil {
		return
	}
	onTick := s.now%uint64(s.opts.StepsPerTick) == 0
	for _, n := range s.nodes {
		if !n.up() {
			continue
		}
		s.watch(n)
		if onTick {
			s.checkBounds(n)
		}
	}
	if every := uint64(s.opts.FullCheckEvery); every > 0 && s.now%every == 0 {
		s.checkHistory()
	}
	if s.opts.Check != nil && s.failure == nil {
		if err := s.opts.Check(s); err != nil {
			s.fail(ClassExtra, err)
		}
	}
}

// watch checks that n's term, commit and applied indexes did not go back
// since the last step, within one incarnation.
func (s *Sim) watch(n *node) {
	st := n.rn.BasicStatus()
	w := n.watched
	if n.watchedOK && (st.Term < w.Term || st.Commit < w.Commit || st.Applied < w.Applied) {
		s.failf(Class(checker.Monotonicity), "node %d went back from term %d commit %d applied %d to term %d commit %d applied %d without a restart",
			n.id, w.Term, w.Commit, w.Applied, st.Term, st.Commit, st.Applied)
	}
	if st.Commit > 0 && st.Applied > st.Commit {
		s.failf(Class(checker.Monotonicity), "node %d applied %d beyond its commit index %d", n.id, st.Applied, st.Commit)
	}
	n.watched, n.watchedOK = st, true
}

// checkBounds checks n's queues against the configured bounds.
func (s *Sim) checkBounds(n *node) {
	st := n.rn.Status()
	if st.RaftState == raft.StateLeader {
		for id, pr := range st.Progress {
			if id != n.id && pr.Inflights != nil {
				s.stats.PeakInflightBytes = max(s.stats.PeakInflightBytes, pr.Inflights.Bytes())
			}
		}
		s.stats.PeakUncommittedBytes = max(s.stats.PeakUncommittedBytes, st.UncommittedBytes)
	}
	b := s.opts.Bounds
	lim := checker.Limits{
		MaxInflightMsgs: b.MaxInflightMsgs, MaxInflightBytes: b.MaxInflightBytes,
		MaxUncommittedEntriesSize: b.MaxUncommittedEntriesSize, MaxCommittedSizePerReady: b.MaxCommittedSizePerReady,
		MaxPendingReads: b.MaxPendingReads, LargestEntry: s.clients.largest, LargestBatch: 1,
	}
	if err := checker.CheckBounds(st, lim); err != nil {
		s.fail(Class(checker.MemoryBounds), err)
	}
}

// checkHistory runs every checker of tools/checker on the History, if it
// changed since it last passed.
func (s *Sim) checkHistory() {
	if s.failure != nil || s.hist.Events() == s.checkedEvents {
		return
	}
	s.checkedEvents = s.hist.Events()
	s.stats.FullChecks++
	if err := checker.Check(s.hist); err != nil {
		s.fail(classOf(err), err)
	}
}

// observe records n in the History: its status and its log, which the
// simulator sees in its storage. That is the whole log only when nothing
// the node holds is waiting for the disk: right after a synchronous
// Ready completes, or when the node is quiet. An unchanged node is not
// recorded again, nor one compacted to no entries at all (the History
// would read that as a log that lost its entries).
func (s *Sim) observe(n *node) {
	st := n.rn.BasicStatus()
	if n.seenOK && st == n.seen && n.disk.writes == n.seenWrites {
		return
	}
	log := storedLog(n.st)
	if first, _ := n.st.FirstIndex(); len(log) == 0 && first > 1 {
		return
	}
	n.seen, n.seenOK, n.seenWrites = st, true, n.disk.writes
	err := s.hist.Observe(checker.Observation{ID: n.id, Soft: st.SoftState, Hard: st.HardState, Applied: st.Applied, Log: log})
	if err != nil {
		s.failf(ClassRefusal, "node %d: %v", n.id, err)
	}
}

// observeQuiet observes n if it has nothing on its way to the disk.
func (s *Sim) observeQuiet(n *node) {
	if !n.busy && n.disk.idle() {
		s.observe(n)
	}
}

// checkEnd runs every checker over the whole run.
func (s *Sim) checkEnd() {
	s.checkHistory()
	if s.failure != nil {
		return
	}
	if err := s.clients.check(); err != nil {
		s.fail(classOf(err), err)
		return
	}
	if err := checker.CheckLiveness(s.phase.windows, uint64(s.opts.LivenessTicks)); err != nil {
		s.fail(ClassLiveness, err)
	}
}

// describeWrite describes a disk write for the trace.
func describeWrite(w *diskWrite) string {
	var b bytes.Buffer
	if w.snap != nil {
		fmt.Fprintf(&b, " snapshot %v", *w.snap)
	}
	if k := len(w.entries); k > 0 {
		fmt.Fprintf(&b, " entries %d/%d..%d/%d", w.entries[0].Term, w.entries[0].Index, w.entries[k-1].Term, w.entries[k-1].Index)
	}
	if !w.hard.IsEmpty() {
		fmt.Fprintf(&b, " hard state %v", w.hard)
	}
	return b.String()
}
