package core

import "github.com/tickraft/raft/raftpb"

// leaderState is what only a leader has: allocated when a node becomes
// leader, nil on every other node, so that "only the leader holds X" is a
// fact of the type rather than a rule to remember. Only this file assigns
// its fields.
type leaderState struct {
	// transferee is the node leadership is being handed to, or None.
	transferee uint64
	// pendingConfIndex is the index of the last conf change the leader
	// appended; another may not be proposed until it is applied.
	pendingConfIndex uint64
	// snapSentAt is the tick each follower was last sent a whole snapshot
	// or offered one (Config.SnapshotRetryTicks).
	snapSentAt map[uint64]uint64
	// matchRoseAt is, for each follower whose short-log report lowered
	// its Match in this term, the leader tick at which its Match last
	// rose (or the report's tick): a later report answering a heartbeat
	// sent before it is older than that and is ignored (a duplicate, or a
	// report the follower's repair has since answered). Nil until a
	// report lowers a Match, so that the acknowledgements of steady
	// replication touch no map.
	matchRoseAt map[uint64]uint64
	// termStart is the index of the first entry of the leader's term (the
	// empty entry it appends on election): every entry from there on is
	// of its term, every entry before of an earlier one, so the
	// uncommitted tail's count is checked without reading the log.
	termStart uint64
	// ctxSlab is the array the contexts of the next heartbeat broadcasts
	// are carved from (heartbeatContext).
	ctxSlab []byte
	// uncommitted is the budget of the leader's uncommitted tail
	// (uncommitted.go).
	uncommitted uncommittedTail
	// heartbeat is the leader's heartbeat timer (election_clock.go).
	heartbeat heartbeatTimer
	// leaseRevoked is set once this leader has sent MsgTimeoutNow in its
	// term: its target's election may bypass the followers' stickiness
	// whenever the message arrives, so no lease holds again in the term.
	// It sits beside the 4-byte timer, in what would be padding.
	leaseRevoked bool
	// stallHandoverTried is set once this leader, its storage stalled,
	// has handed its leadership to a follower (checkStorageStall): if the
	// handover ends without a new leader, it steps down instead of trying
	// again (the follower it picks again may never stand: one recovering
	// from a lost log, say). Also in the padding.
	stallHandoverTried bool
	// quiesce is the leader's part in the sleep of its group: its
	// request in flight, its next try and the fence of its lease after a
	// wake (quiesce.go).
	quiesce quiesceLead
}

// heartbeatContextsPerSlab is how many heartbeat broadcasts share one
// allocation of their contexts.
const heartbeatContextsPerSlab = 4

// newLeaderState is the state of a leader whose log ends at last: a conf
// change in its uncommitted tail may be pending, so none may be proposed
// until everything up to last is applied (thesis §4.1). Its term's
// entries start after last; s bounds its uncommitted tail; its leadership
// begins at leader tick now.
func newLeaderState(last uint64, s *settings, now uint64) *leaderState {
	return &leaderState{pendingConfIndex: last, termStart: last + 1,
		uncommitted: newUncommittedTail(s.maxUncommittedSize, s.maxUncommittedEntries),
		quiesce:     newQuiesceLead(now, s.electionTimeout)}
}

// heartbeatContext returns the encoding of c for one broadcast, carved
// from a slab shared with the next few broadcasts, so that a broadcast
// allocates nothing most of the time. Each carved slice is its own bytes,
// never written again once returned (a message's payload is the
// application's), with its capacity cut.
func (l *leaderState) heartbeatContext(c raftpb.HeartbeatContext) []byte {
	if cap(l.ctxSlab)-len(l.ctxSlab) < raftpb.HeartbeatContextSize {
		l.ctxSlab = make([]byte, 0, heartbeatContextsPerSlab*raftpb.HeartbeatContextSize)
	}
	from := len(l.ctxSlab)
	l.ctxSlab = c.AppendTo(l.ctxSlab)
	return l.ctxSlab[from:len(l.ctxSlab):len(l.ctxSlab)]
}

// startTransfer records a handover to target.
func (l *leaderState) startTransfer(target uint64) { l.transferee = target }

// tryStallHandover reports whether a leader whose storage stalled may
// hand its leadership over: once per leadership.
func (l *leaderState) tryStallHandover() bool {
	if l.stallHandoverTried {
		return false
	}
	l.stallHandoverTried = true
	return true
}

// endTransfer records that no handover is under way.
func (l *leaderState) endTransfer() { l.transferee = None }

// revokeLease records that MsgTimeoutNow was sent in this term.
func (l *leaderState) revokeLease() { l.leaseRevoked = true }

// confPending records a conf change appended at index.
func (l *leaderState) confPending(index uint64) { l.pendingConfIndex = index }

// snapshotSent records that a whole snapshot or an offer went to to at
// tick.
func (l *leaderState) snapshotSent(to, tick uint64) {
	if l.snapSentAt == nil {
		l.snapSentAt = map[uint64]uint64{}
	}
	l.snapSentAt[to] = tick
}

// watchRepair starts recording when follower id's Match rises, from
// tick, after its short-log report lowered it.
func (l *leaderState) watchRepair(id, tick uint64) {
	if l.matchRoseAt == nil {
		l.matchRoseAt = map[uint64]uint64{}
	}
	l.matchRoseAt[id] = tick
}

// matchRose records that follower id's Match rose at tick, if its repair
// is watched.
func (l *leaderState) matchRose(id, tick uint64) {
	if l.matchRoseAt == nil {
		return
	}
	if _, ok := l.matchRoseAt[id]; ok {
		l.matchRoseAt[id] = tick
	}
}

// transferee returns the node leadership is being handed to, or None on
// a node that is not leader.
func (r *Raft) transferee() uint64 {
	if r.leader == nil {
		return None
	}
	return r.leader.transferee
}
