package raft

// The library's bounds (every queue bounded by count and bytes, see
// ARCHITECTURE.md), judged by an oracle that reads
// only what the schedule cluster itself carried and handed out: the
// messages its network took from each node, the Readys (and, in the
// asynchronous mode, the worker messages) each node handed out, and the
// storage the harness holds. It never reads Status, Progress or any
// other counter of the library, so a library that stops counting what it
// bounds cannot agree with itself past it.
//
// The bounds, each as the library promises it (core/config.go):
//
//   - In-flight bytes to a follower. A stream is what one leader sent one
//     follower in one term. Its bytes in flight are the payload
//     (len(Entry.Data)) of the entries its MsgApps carried, above the
//     highest index an MsgAppResp the network delivered to the leader
//     acknowledged. Each index counts once: a probe repeats from the same
//     index, and a window the leader emptied is sent again from the
//     follower's match, so an entry carried twice occupies the follower's
//     stream once. The stream starts over when the network delivers a
//     rejection (the leader falls back to Match+1 and empties its
//     window), when the leader sends the follower a snapshot (MsgSnap or
//     MsgSnapOffer: the snapshot supersedes the log it was sending), and
//     when the leader applies a configuration without the follower (its
//     progress is gone). Bound: MaxInflightBytes plus the largest entry,
//     since the message that reaches the bound is admitted whole and a
//     message always carries one entry.
//   - In-flight messages to a follower: the non-empty MsgApps of a stream
//     whose last index is above the acknowledged index, counted by the
//     index they start at. The library's window holds at most
//     MaxInflightMsgs appends; a probe (StateProbe, at most one per
//     heartbeat answer, each starting at the same index) may be in flight
//     beside a window that a later acknowledgement opened. Bound:
//     MaxInflightMsgs + 1.
//   - Uncommitted tail: the payload of the entries of its own term that a
//     leader handed out to persist, above the highest commit index it
//     handed out. The library counts its tail until entries are handed
//     out to apply, which is never before they commit, so this is at most
//     its own count. A proposal is accepted only if it fits the bound, or
//     on an empty tail (no entry at all), where any one proposal is
//     accepted; the leader's own entries are never refused: its empty
//     entry carries nothing, and at most one leave of a joint
//     configuration is pending. Bound: the larger of
//     MaxUncommittedEntriesSize and the largest entry (every proposal of
//     the schedules is one entry), plus one leave.
//   - Bytes handed out to apply: the payload of the committed entries
//     handed out and not yet applied (in the synchronous loop, those of
//     one Ready: Advance applied the others). A batch is cut to what is
//     left of MaxCommittedSizePerReady but carries at least one entry, and
//     none is handed out while the budget is used up. Bound: after a batch
//     the outstanding payload is at most MaxCommittedSizePerReady, unless
//     the batch is that one entry and what was outstanding before it was
//     below the bound.
//
// The reads' bounds (pending and local reads against MaxPendingReads) are
// judged by the register of properties_reads_test.go, which issues them;
// a MsgTimeoutNow is judged here against the target's storage (see
// checkTimeoutNow).

import (
	"cmp"
	"maps"
	"slices"

	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
)

// leaveBytes is the payload of the leave of a joint configuration a
// leader appends on its own.
var leaveBytes = uint64(len((&raftpb.ConfChangeV2{}).Marshal()))

// oracleLimits are the resolved bounds every node of a cluster runs with.
type oracleLimits struct {
	maxInflightMsgs  int
	maxInflightBytes uint64
	maxUncommitted   uint64
	maxApplying      uint64
	maxPendingReads  int
}

// limitsOf resolves the bounds of cfg, zero fields taking the defaults.
func limitsOf(cfg *Config) oracleLimits {
	return oracleLimits{
		maxInflightMsgs:  cmp.Or(cfg.MaxInflightMsgs, core.DefaultMaxInflightMsgs),
		maxInflightBytes: cmp.Or(cfg.MaxInflightBytes, core.DefaultMaxInflightBytes),
		maxUncommitted:   cmp.Or(cfg.MaxUncommittedEntriesSize, core.DefaultMaxUncommittedEntriesSize),
		maxApplying:      cmp.Or(cfg.MaxCommittedSizePerReady, core.DefaultMaxCommittedSizePerReady),
		maxPendingReads:  cmp.Or(cfg.MaxPendingReads, core.DefaultMaxPendingReads),
	}
}

// streamKey names the stream of appends one leader sends one follower in
// one term.
type streamKey struct{ leader, term, follower uint64 }

// appStream is what the network carried of one stream.
type appStream struct {
	// acked is the highest index an acknowledgement delivered to the
	// leader carried, in this term.
	acked uint64
	// sent maps each index carried since the stream started over, and
	// above acked, to its payload.
	sent map[uint64]uint64
	// starts maps the first index of each non-empty MsgApp carried since
	// the stream started over to the highest last index sent from it.
	starts map[uint64]uint64
	// restartAt is set when the stream starts over at the leader's next
	// Ready; removedAt when the follower's progress was dropped too.
	restartAt, removedAt bool
}

// restart forgets what was sent: the leader no longer counts it.
func (s *appStream) restart() {
	clear(s.sent)
	clear(s.starts)
}

// ack records an acknowledgement of index i.
func (s *appStream) ack(i uint64) {
	if i <= s.acked {
		return
	}
	s.acked = i
	maps.DeleteFunc(s.sent, func(k, _ uint64) bool { return k <= i })
	maps.DeleteFunc(s.starts, func(_, last uint64) bool { return last <= i })
}

// bytes returns the payload in flight.
func (s *appStream) bytes() uint64 {
	var n uint64
	for _, b := range s.sent {
		n += b
	}
	return n
}

// nodeLog is the oracle's view of one node's incarnation: its log as it
// handed it out to persist, the commit index it handed out, and what it
// handed out to apply.
type nodeLog struct {
	// first is the index of tail[0]; tail holds the term and payload of
	// every entry handed out above the commit index.
	first uint64
	tail  []entryMeta
	// commit is the highest commit index handed out; lastIndex and
	// lastTerm name the last entry of the log handed out.
	commit, lastIndex, lastTerm uint64
	// applying is the payload handed out to apply and not yet applied.
	applying uint64
}

// entryMeta is what the oracle keeps of an entry.
type entryMeta struct{ term, size uint64 }

// last returns the index of the last entry held above the commit index,
// or the commit index.
func (l *nodeLog) last() uint64 { return l.first + uint64(len(l.tail)) - 1 }

// append records entries handed out to persist: they replace the log from
// their first index on.
func (l *nodeLog) append(ents []raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	end := ents[len(ents)-1]
	l.lastIndex, l.lastTerm = end.Index, end.Term
	from := ents[0].Index
	if from < l.first {
		// Below the commit index: entries that cannot change.
		ents = ents[min(uint64(len(ents)), l.first-from):]
		from = l.first
	}
	if from > l.last()+1 {
		from = l.last() + 1 // cannot happen: the log has no holes
	}
	l.tail = l.tail[:from-l.first]
	for _, e := range ents {
		l.tail = append(l.tail, entryMeta{e.Term, uint64(len(e.Data))})
	}
}

// commitTo records a commit index handed out.
func (l *nodeLog) commitTo(i uint64) {
	if i <= l.commit {
		return
	}
	l.commit = i
	if drop := min(i+1-l.first, uint64(len(l.tail))); drop > 0 {
		l.tail = l.tail[drop:]
		l.first += drop
	}
}

// restore records a snapshot handed out: the log restarts after it.
func (l *nodeLog) restore(index, term uint64) {
	l.first, l.tail = index+1, nil
	l.lastIndex, l.lastTerm = index, term
	l.commit = max(l.commit, index)
}

// tailOf returns the payload of the entries of term above the commit
// index: a leader's uncommitted tail.
func (l *nodeLog) tailOf(term uint64) uint64 {
	var n uint64
	for _, e := range l.tail {
		if e.term == term {
			n += e.size
		}
	}
	return n
}

// boundsOracle judges the bounds of a scheduleCluster from what it carried.
type boundsOracle struct {
	c       *scheduleCluster
	lim     oracleLimits
	streams map[streamKey]*appStream
	logs    map[uint64]*nodeLog
	// largest is the payload of the largest entry seen so far.
	largest uint64
	// peak is the highest use of each bound seen.
	peak oraclePeaks
}

// oraclePeaks is the highest use of each bound the oracle saw.
type oraclePeaks struct {
	InflightBytes, Uncommitted, Applying uint64
	InflightMsgs                         int
}

// add takes the highest of s and o.
func (s *oraclePeaks) add(o oraclePeaks) {
	s.InflightBytes = max(s.InflightBytes, o.InflightBytes)
	s.Uncommitted = max(s.Uncommitted, o.Uncommitted)
	s.Applying = max(s.Applying, o.Applying)
	s.InflightMsgs = max(s.InflightMsgs, o.InflightMsgs)
}

func newBoundsOracle(c *scheduleCluster) *boundsOracle {
	return &boundsOracle{c: c, streams: map[streamKey]*appStream{}, logs: map[uint64]*nodeLog{}}
}

// started records a new incarnation of nd, whose log the oracle learns
// from its storage.
func (o *boundsOracle) started(nd *scheduleNode, cfg *Config) {
	o.lim = limitsOf(cfg)
	hs, _, _ := nd.st.InitialState()
	first, _ := nd.st.FirstIndex()
	snap, _ := nd.st.Snapshot()
	l := &nodeLog{first: first, commit: first - 1, lastIndex: snap.Metadata.Index, lastTerm: snap.Metadata.Term}
	ents := storedLog(nd.st)
	for _, e := range ents {
		o.largest = max(o.largest, uint64(len(e.Data)))
	}
	l.append(ents)
	l.commitTo(hs.Commit)
	o.logs[nd.id] = l
}

// stream returns the stream k, created empty.
func (o *boundsOracle) stream(k streamKey) *appStream {
	s := o.streams[k]
	if s == nil {
		s = &appStream{sent: map[uint64]uint64{}, starts: map[uint64]uint64{}}
		o.streams[k] = s
	}
	return s
}

// sent judges a message a node put on the network.
func (o *boundsOracle) sent(m raftpb.Message) {
	switch m.Type {
	case raftpb.MsgApp:
		o.sentApp(m)
	case raftpb.MsgSnap, raftpb.MsgSnapOffer:
		o.stream(streamKey{m.From, m.Term, m.To}).restart()
	case raftpb.MsgTimeoutNow:
		o.checkTimeoutNow(m)
	}
}

// sentApp adds an append to its stream and checks the stream's bounds.
func (o *boundsOracle) sentApp(m raftpb.Message) {
	n := len(m.Entries)
	if n == 0 {
		return
	}
	s := o.stream(streamKey{m.From, m.Term, m.To})
	first, last := m.Entries[0].Index, m.Entries[n-1].Index
	if last <= s.acked {
		return
	}
	for _, e := range m.Entries {
		o.largest = max(o.largest, uint64(len(e.Data)))
		if e.Index > s.acked {
			s.sent[e.Index] = uint64(len(e.Data))
		}
	}
	s.starts[first] = max(s.starts[first], last)
	if s.restartAt {
		return // the stream starts over once this Ready is out (see readyOut)
	}
	b := s.bytes()
	o.peak.InflightBytes = max(o.peak.InflightBytes, b)
	o.peak.InflightMsgs = max(o.peak.InflightMsgs, len(s.starts))
	if b > o.lim.maxInflightBytes+o.largest {
		o.c.fail("oracle: leader %d has %d payload bytes in flight to %d in term %d (above index %d), bound MaxInflightBytes %d + the largest entry %d",
			m.From, b, m.To, m.Term, s.acked, o.lim.maxInflightBytes, o.largest)
	}
	if k := len(s.starts); k > o.lim.maxInflightMsgs+1 {
		o.c.fail("oracle: leader %d has %d appends in flight to %d in term %d (above index %d, starting at %v), bound MaxInflightMsgs %d + one probe",
			m.From, k, m.To, m.Term, s.acked, slices.Sorted(maps.Keys(s.starts)), o.lim.maxInflightMsgs)
	}
}

// delivered records a message the network delivered: an append's answer
// moves its stream on.
func (o *boundsOracle) delivered(m raftpb.Message) {
	if m.Type != raftpb.MsgAppResp {
		return
	}
	s := o.stream(streamKey{m.To, m.Term, m.From})
	if m.Reject {
		s.restartAt = true
		return
	}
	s.ack(m.Index)
}

// removed records that leader applied a configuration without follower:
// its streams to it start over, with nothing acknowledged.
func (o *boundsOracle) removed(leader, follower uint64) {
	for k, s := range o.streams {
		if k.leader == leader && k.follower == follower {
			s.restartAt, s.removedAt = true, true
		}
	}
}

// readyOut records that nd handed out a Ready and its messages were
// sent. A stream starts over here, not when the rejection was delivered
// or the configuration applied: the Ready may still carry appends the
// leader made before, which the harness sees only now. Forgetting them
// too errs on the lenient side.
func (o *boundsOracle) readyOut(nd *scheduleNode) {
	for k, s := range o.streams {
		if k.leader != nd.id || !s.restartAt {
			continue
		}
		s.restart()
		if s.removedAt {
			s.acked = 0
		}
		s.restartAt, s.removedAt = false, false
	}
}

// handedOut records what nd handed out to persist (entries, a commit
// index, a snapshot) and checks a leader's uncommitted tail. It is called
// after the Ready's messages went out, so that a MsgTimeoutNow among them
// is judged against the log nd had before the Ready.
func (o *boundsOracle) handedOut(nd *scheduleNode, ents []raftpb.Entry, commit uint64, snap *raftpb.Snapshot) {
	l := o.logs[nd.id]
	if snap != nil && !snap.IsEmpty() {
		l.restore(snap.Metadata.Index, snap.Metadata.Term)
	}
	for _, e := range ents {
		o.largest = max(o.largest, uint64(len(e.Data)))
	}
	l.append(ents)
	l.commitTo(commit)
	st := nd.rn.BasicStatus()
	if st.RaftState != StateLeader {
		return
	}
	tail := l.tailOf(st.Term)
	o.peak.Uncommitted = max(o.peak.Uncommitted, tail)
	if tail > max(o.lim.maxUncommitted, o.largest)+leaveBytes {
		o.c.fail("oracle: leader %d handed out %d payload bytes of term %d above its commit index %d, bound max(MaxUncommittedEntriesSize %d, the largest entry %d) + a leave of %d",
			nd.id, tail, st.Term, l.commit, o.lim.maxUncommitted, o.largest, leaveBytes)
	}
}

// handedToApply records a batch of committed entries nd handed out to
// apply and checks the bound of MaxCommittedSizePerReady.
func (o *boundsOracle) handedToApply(nd *scheduleNode, ents []raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	l := o.logs[nd.id]
	before := l.applying
	for _, e := range ents {
		l.applying += uint64(len(e.Data))
	}
	o.peak.Applying = max(o.peak.Applying, l.applying)
	single := len(ents) == 1 && before < o.lim.maxApplying
	if l.applying > o.lim.maxApplying && !single {
		o.c.fail("oracle: node %d handed out %d entries [%d, %d] to apply: %d payload bytes outstanding (%d before the batch), bound MaxCommittedSizePerReady %d",
			nd.id, len(ents), ents[0].Index, ents[len(ents)-1].Index, l.applying, before, o.lim.maxApplying)
	}
}

// applied records that nd applied a batch it handed out.
func (o *boundsOracle) applied(nd *scheduleNode, ents []raftpb.Entry) {
	l := o.logs[nd.id]
	for _, e := range ents {
		l.applying -= min(uint64(len(e.Data)), l.applying)
	}
}

// checkTimeoutNow judges a MsgTimeoutNow: a leader completes a transfer
// (thesis §3.10) only toward a target that holds the leader's last index.
// The leader's last index is at least that of the log it handed out
// before the Ready carrying the message, all of its own term; the target
// holds it if its storage has that entry with that term, or a snapshot
// past it. A target whose stored term is above the leader's may have had
// its log rewritten by a later leader since it acknowledged, and is not
// judged.
func (o *boundsOracle) checkTimeoutNow(m raftpb.Message) {
	o.c.transferCompleted(m)
	l := o.logs[m.From]
	if l == nil || l.lastTerm != m.Term {
		return // nothing of the leader's own term handed out: cannot be
	}
	last := l.lastIndex
	target := o.c.nodes[m.To-1]
	hs, _, err := target.st.InitialState()
	if err != nil || hs.Term > m.Term {
		return
	}
	snap, _ := target.st.Snapshot()
	if snap.Metadata.Index >= last {
		return
	}
	if t, err := target.st.Term(last); err != nil || t != m.Term {
		stored, _ := target.st.LastIndex()
		o.c.fail("oracle: leader %d completed a transfer to %d in term %d (MsgTimeoutNow) though %d does not hold its last index %d/%d (stored log ends at %d, term there %d, %v)",
			m.From, m.To, m.Term, m.To, m.Term, last, stored, t, err)
	}
}
