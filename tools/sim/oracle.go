package sim

import (
	"cmp"

	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
)

// The oracles of the back-pressure bounds judge a leader by what the
// simulator saw it do: the messages it put on the network, the messages
// the network delivered to it, and the Readys it handed out. None of them
// reads the library's own counters (Status, Progress.Inflights), which the
// per-tick checker.CheckBounds reads; a bug that stops counting trips these
// and not that one.
//
// In flight to a follower, per leader and term. A stream of appends to a
// follower restarts at every event after which the library promises to
// resend from a point of its own choosing: a rejecting MsgAppResp the
// network delivered to the leader, a snapshot sent (MsgSnap or
// MsgSnapOffer), a transport's report about the follower (unreachable,
// snapshot done or failed) and a conf change the leader applied. After a
// restart the leader probes, one append at a time; the first accepting
// MsgAppResp delivered that is not older than the acknowledgements before
// it moves it to replicating (tracker: StateProbe to StateReplicate). The
// simulator sees a leader's messages only when its Ready hands them out,
// after every input since the last one: the Ready that follows that answer
// may still hold probes made before it, so the stream counts as
// replicating from the leader's next Ready on.
//
//   - Bytes: the payload of the distinct entries (by index) carried by the
//     stream's appends above the highest index an accepting MsgAppResp
//     delivered to the leader acknowledged. Bound (Config.MaxInflightBytes):
//     MaxInflightBytes plus the largest entry, since an append that reaches
//     the bound is admitted whole with its first entry. Counted by entry,
//     not by message, so a probe resent is not counted twice; the entries
//     sent before a restart are forgotten, since the leader's promise
//     restarts with its window.
//   - Messages: the stream's appends with entries, sent while replicating,
//     whose last index is above the acknowledged one. Bound
//     (Config.MaxInflightMsgs, "in the replicate state"): MaxInflightMsgs.
//
// Uncommitted tail, per leader and term: the payload of the entries of its
// term that its Readys handed out to be appended, above the commit index
// its Readys announced (HardState.Commit). Bound
// (Config.MaxUncommittedEntriesSize): the bound or one proposal, whichever
// is larger (one batch is accepted on an empty tail), plus one automatic
// leave of a joint configuration, which the leader appends itself and never
// refuses (its empty entry of a new term carries nothing). The library's tail
// ends at the entries handed out to apply, never beyond the announced
// commit, so this count is never above the library's.

// entryBytes is an entry's index and payload size.
type entryBytes struct {
	index, bytes uint64
}

// leaderWatch is what the oracles know of a node while it leads a term.
type leaderWatch struct {
	term uint64
	// appended are the entries of term its Readys handed out to append,
	// in index order; announced is the highest commit index its Readys
	// carried.
	appended  []entryBytes
	announced uint64
	// readyFirst is the first index of its term the Ready being handed
	// out appended (zero if none).
	readyFirst uint64
	followers  map[uint64]*streamWatch
}

// streamWatch is the stream of appends from a leader to one follower.
type streamWatch struct {
	// ack is the highest index an accepting MsgAppResp delivered to the
	// leader acknowledged, in the leader's term.
	ack uint64
	// replicating is set at the leader's first Ready after the first
	// accepting answer after a restart, which sets answered.
	replicating, answered bool
	// ents are the entries sent since the restart above ack, by index;
	// bytes their payload; msgs the last indexes of the appends sent
	// while replicating, above ack.
	ents  map[uint64]uint64
	bytes uint64
	msgs  map[uint64]bool
}

// restart forgets the stream's appends: the leader starts over.
func (w *streamWatch) restart() {
	w.replicating, w.answered = false, false
	w.ents, w.msgs, w.bytes = nil, nil, 0
}

// acknowledge records an accepting MsgAppResp at index delivered to the
// leader.
func (w *streamWatch) acknowledge(index uint64) {
	if index < w.ack {
		return // older than an acknowledgement already delivered
	}
	w.answered = true
	w.ack = index
	for i, b := range w.ents {
		if i <= index {
			delete(w.ents, i)
			w.bytes -= b
		}
	}
	for i := range w.msgs {
		if i <= index {
			delete(w.msgs, i)
		}
	}
}

// sent records an append of ents.
func (w *streamWatch) sent(ents []raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	if w.ents == nil {
		w.ents, w.msgs = map[uint64]uint64{}, map[uint64]bool{}
	}
	for i := range ents {
		e := &ents[i]
		if _, ok := w.ents[e.Index]; !ok && e.Index > w.ack {
			w.ents[e.Index] = uint64(len(e.Data))
			w.bytes += uint64(len(e.Data))
		}
	}
	if last := ents[len(ents)-1].Index; w.replicating && last > w.ack {
		w.msgs[last] = true
	}
}

// oracles holds the independent observations of every node.
type oracles struct {
	// largest is the payload of the largest entry any Ready handed out.
	largest uint64
}

// watchOf returns n's leaderWatch for term, or nil if n does not lead it
// as far as the simulator saw.
func (n *node) watchOf(term uint64) *leaderWatch {
	if n.lead == nil || n.lead.term != term {
		return nil
	}
	return n.lead
}

// stream returns the stream from the watched leader to id.
func (l *leaderWatch) stream(id uint64) *streamWatch {
	w := l.followers[id]
	if w == nil {
		w = &streamWatch{}
		l.followers[id] = w
	}
	return w
}

// watchLeader starts watching n as the leader of term.
func (n *node) watchLeader(term uint64) {
	n.lead = &leaderWatch{term: term, followers: map[uint64]*streamWatch{}}
}

// sawAppended records the entries and commit index a Ready of n handed out
// (Ready.Entries and HardState, or the MsgStorageAppend's), and checks the
// uncommitted tail.
func (s *Sim) sawAppended(n *node, ents []raftpb.Entry, commit uint64) {
	for i := range ents {
		s.oracle.largest = max(s.oracle.largest, uint64(len(ents[i].Data)))
	}
	l := n.lead
	if l == nil {
		return
	}
	l.announced = max(l.announced, commit)
	for i := range ents {
		e := &ents[i]
		if e.Term != l.term {
			continue
		}
		if k := len(l.appended); k > 0 && l.appended[k-1].index >= e.Index {
			s.failf(ClassOracle, "leader %d of term %d appended %d/%d after index %d of its own term", n.id, l.term, e.Term, e.Index, l.appended[k-1].index)
			return
		}
		l.appended = append(l.appended, entryBytes{e.Index, uint64(len(e.Data))})
		if l.readyFirst == 0 {
			l.readyFirst = e.Index
		}
	}
	var tail uint64
	for i := len(l.appended) - 1; i >= 0 && l.appended[i].index > l.announced; i-- {
		tail += l.appended[i].bytes
	}
	if i := firstAbove(l.appended, l.announced); i > 0 {
		l.appended = l.appended[i-1:] // keep the last one below: the log's last index
	}
	bound := cmp.Or(s.opts.Bounds.MaxUncommittedEntriesSize, core.DefaultMaxUncommittedEntriesSize)
	one, leave := max(s.clients.largest, s.oracle.largest), uint64(len(leaveJointData))
	if tail > max(bound, one)+leave {
		s.failf(ClassOracle, "leader %d of term %d handed out %d bytes of its own entries above the commit index %d it announced, bound %d (or one entry of %d) + a leave of %d",
			n.id, l.term, tail, l.announced, bound, one, leave)
	}
}

// firstAbove returns the position of the first entry above index.
func firstAbove(ents []entryBytes, index uint64) int {
	for i := range ents {
		if ents[i].index > index {
			return i
		}
	}
	return len(ents)
}

// lastIndex returns the last index the watched leader appended in its
// term, or 0 if it appended nothing yet.
func (l *leaderWatch) lastIndex() uint64 {
	if k := len(l.appended); k > 0 {
		return l.appended[k-1].index
	}
	return 0
}

// lastIndexBefore returns the last index the leader held before the
// inputs since its last Ready: its Readys show what it appended, not when
// within that interval, and a message of this Ready may have been made
// before the entries of this Ready were appended.
func (l *leaderWatch) lastIndexBefore() uint64 {
	if l.readyFirst > 0 {
		return l.readyFirst - 1
	}
	return l.lastIndex()
}

// sawSent judges a message n put on the network against the stream
// oracles: appends in flight, snapshots that restart a stream, and the
// end of a leadership transfer.
func (s *Sim) sawSent(n *node, m raftpb.Message) {
	l := n.watchOf(m.Term)
	switch {
	case m.Type == raftpb.MsgReadIndexResp:
		s.readAnswered(n, m)
	case l == nil:
	case m.Type == raftpb.MsgApp:
		w := l.stream(m.To)
		w.sent(m.Entries)
		s.checkInflight(n, l, m.To, w)
	case m.Type == raftpb.MsgSnap || m.Type == raftpb.MsgSnapOffer:
		l.stream(m.To).restart()
	case m.Type == raftpb.MsgTimeoutNow:
		s.transferSent(n, l, m.To)
	}
}

// checkInflight checks the stream w from leader n to follower to against
// MaxInflightBytes and MaxInflightMsgs.
func (s *Sim) checkInflight(n *node, l *leaderWatch, to uint64, w *streamWatch) {
	s.stats.PeakWireInflightBytes = max(s.stats.PeakWireInflightBytes, w.bytes)
	bytes := cmp.Or(s.opts.Bounds.MaxInflightBytes, core.DefaultMaxInflightBytes)
	msgs := cmp.Or(s.opts.Bounds.MaxInflightMsgs, core.DefaultMaxInflightMsgs)
	switch {
	case w.bytes > bytes+s.oracle.largest:
		s.failf(ClassOracle, "leader %d of term %d has sent %d bytes of entries to %d above its acknowledged index %d, bound %d + one entry of up to %d",
			n.id, l.term, w.bytes, to, w.ack, bytes, s.oracle.largest)
	case len(w.msgs) > msgs:
		s.failf(ClassOracle, "leader %d of term %d has %d appends in flight to %d above its acknowledged index %d, bound %d",
			n.id, l.term, len(w.msgs), to, w.ack, msgs)
	}
}

// sawDelivered takes a message the network delivered to n and n stepped:
// the answers to a leader's appends, reads forwarded to it, transfers
// asked of it. wasLeader says whether n led m's term before the step.
func (s *Sim) sawDelivered(n *node, m raftpb.Message, err error, leadTerm uint64) {
	switch m.Type {
	case raftpb.MsgAppResp:
		l := n.watchOf(m.Term)
		if l == nil {
			return
		}
		if w := l.stream(m.From); m.Reject {
			w.restart()
		} else {
			w.acknowledge(m.Index)
		}
	case raftpb.MsgReadIndex:
		switch {
		case err != nil:
		case leadTerm != 0:
			s.readQueued(n, m.Entries[0].Data)
		default:
			s.readForwarded(n, m.Entries[0].Data)
		}
	case raftpb.MsgTransferLeader:
		if err == nil && leadTerm != 0 {
			s.transferAsked(n, leadTerm, m.From)
		}
	}
}

// readyDone notes that a Ready of the watched leader was handed out: the
// streams answered since the last one are replicating.
func (l *leaderWatch) readyDone() {
	l.readyFirst = 0
	for _, w := range l.followers {
		w.replicating = w.replicating || w.answered
	}
}

// restartStreams restarts n's streams to every follower (a conf change
// applied) or to one (a transport's report).
func (n *node) restartStreams(to uint64) {
	if n.lead == nil {
		return
	}
	for id, w := range n.lead.followers {
		if to == 0 || id == to {
			w.restart()
		}
	}
}

// leaveJointData is the payload of the entry that leaves a joint
// configuration, as a leader appends it itself.
var leaveJointData = (&raftpb.ConfChangeV2{}).Marshal()
