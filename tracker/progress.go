package tracker

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// StateType is the state of the replication stream to one follower.
type StateType uint8

const (
	// StateProbe sends at most one append per heartbeat interval, waiting
	// for the answer to find where the follower's log matches the
	// leader's (§5.3). It is the zero value and the state of a new peer.
	StateProbe StateType = iota
	// StateReplicate streams appends without waiting, within the
	// [Inflights] window (thesis §10.2.1).
	StateReplicate
	// StateSnapshot waits for a snapshot sent to a follower that needs
	// entries the leader has compacted away (§7).
	StateSnapshot
)

// String returns the name of the state, such as "StateProbe".
func (s StateType) String() string {
	switch s {
	case StateProbe:
		return "StateProbe"
	case StateReplicate:
		return "StateReplicate"
	case StateSnapshot:
		return "StateSnapshot"
	}
	return "StateType(" + strconv.Itoa(int(s)) + ")"
}

// Progress is the leader's view of one follower's log. The invariants its
// methods keep are listed in the package documentation and checked by
// [Progress.CheckInvariants].
type Progress struct {
	// Match is the highest index known to be replicated on the follower.
	Match uint64
	// Next is the index of the next entry to send to the follower.
	Next uint64
	// SentCommit is the highest commit index sent to the follower. The
	// follower may not have applied it: it learns a commit index only as
	// far as its log matches the leader's.
	SentCommit uint64
	// PendingSnapshot is the index of the snapshot being sent while in
	// StateSnapshot, and 0 otherwise.
	PendingSnapshot uint64
	// Inflights is the window of appends in flight in StateReplicate. A
	// node that is not leading keeps no windows, nor does a leader for
	// itself (it sends itself no appends), and a nil window is full.
	Inflights *Inflights

	// The one-byte fields last, together, so that a Progress fits in 48
	// bytes: a process with many groups holds one per member per node.

	// State is the state of the replication stream.
	State StateType
	// RecentActive reports whether the follower was heard from in the
	// current check-quorum interval. The protocol sets and clears it.
	RecentActive bool
	// MsgAppFlowPaused reports, in StateProbe, that a probe is in flight
	// and no other append should be sent until it is answered or a
	// heartbeat interval passes.
	MsgAppFlowPaused bool
	// IsLearner reports whether the follower is a learner: it receives the
	// log but neither votes nor counts towards commitment.
	IsLearner bool
}

// resetState enters state with an empty window and no pause or pending
// snapshot.
func (pr *Progress) resetState(state StateType) {
	pr.State = state
	pr.MsgAppFlowPaused = false
	pr.PendingSnapshot = 0
	pr.Inflights.Reset()
}

// BecomeProbe enters StateProbe. Probing resumes after Match, or, when
// leaving StateSnapshot, after the snapshot if that is further: the
// follower has most likely installed it.
func (pr *Progress) BecomeProbe() {
	next := pr.Match + 1
	if pr.State == StateSnapshot {
		next = max(next, pr.PendingSnapshot+1)
	}
	pr.resetState(StateProbe)
	pr.Next = next
}

// LostEntries records that the follower's log matches the leader's only
// up to last, below Match: its storage lost entries it had acknowledged
// (last is the follower's last entry below the index it was told, or its
// commit index when that entry's term differs from the leader's). Match
// drops to last (all a commit may count) and the follower is probed from
// last+1. It reports whether Match moved.
func (pr *Progress) LostEntries(last uint64) bool {
	if last >= pr.Match {
		return false
	}
	pr.Match = last
	pr.resetState(StateProbe)
	pr.Next = last + 1
	pr.SentCommit = min(pr.SentCommit, last)
	return true
}

// BecomeReplicate enters StateReplicate, streaming from Match+1.
func (pr *Progress) BecomeReplicate() {
	pr.resetState(StateReplicate)
	pr.Next = pr.Match + 1
}

// BecomeSnapshot enters StateSnapshot for a snapshot at snapshotIndex;
// Next moves past the snapshot (or stays past Match if that is further).
// It panics if snapshotIndex is 0, which no snapshot has.
func (pr *Progress) BecomeSnapshot(snapshotIndex uint64) {
	if snapshotIndex == 0 {
		panic("invariant: BecomeSnapshot(0): a snapshot's index is at least 1")
	}
	pr.resetState(StateSnapshot)
	pr.PendingSnapshot = snapshotIndex
	pr.Next = max(pr.Match, snapshotIndex) + 1
}

// MaybeUpdate records that the follower acknowledged index n. It reports
// whether Match grew; if it did not, the acknowledgement is stale and
// nothing changes. Otherwise Next moves to at least n+1, the messages in
// flight up to n are freed and a paused probe may send again.
func (pr *Progress) MaybeUpdate(n uint64) bool {
	if n <= pr.Match {
		return false
	}
	pr.Match = n
	pr.Next = max(pr.Next, n+1)
	pr.MsgAppFlowPaused = false
	pr.Inflights.FreeLE(n)
	return true
}

// MaybeDecrTo records that the follower rejected the append whose previous
// entry was at index rejected, hinting that its log may match up to
// matchHint. It reports whether the rejection was news; a stale rejection
// changes nothing.
//
// In StateReplicate a rejection at or below Match is stale (an answer to a
// message older than the acknowledgement that raised Match); otherwise Next
// falls back to Match+1 and the window is emptied, since every message in
// flight follows the rejected one. In the other states only a rejection of
// the probe at Next-1 counts; Next then drops to the hint, never below
// Match+1, and the probe flow resumes. In both cases SentCommit drops below
// Next, since a follower whose log diverged may not have learned it.
func (pr *Progress) MaybeDecrTo(rejected, matchHint uint64) bool {
	if pr.State == StateReplicate {
		if rejected <= pr.Match {
			return false
		}
		pr.Next = pr.Match + 1
		pr.Inflights.Reset()
	} else {
		if rejected != pr.Next-1 {
			return false
		}
		pr.Next = max(min(rejected, matchHint+1), pr.Match+1)
		pr.MsgAppFlowPaused = false
	}
	pr.SentCommit = min(pr.SentCommit, pr.Next-1)
	return true
}

// SentEntries records that an append of the given number of entries,
// carrying the given payload bytes, was sent from Next. In StateReplicate
// Next moves past the entries and the message joins the window; in
// StateProbe a non-empty append is the probe, and the flow pauses until it
// is answered. It panics in StateSnapshot, where nothing is appended, and
// (through [Inflights.Add]) if the window is full.
func (pr *Progress) SentEntries(entries int, bytes uint64) {
	switch pr.State {
	case StateReplicate:
		if entries > 0 {
			pr.Next += uint64(entries)
			pr.Inflights.Add(pr.Next-1, bytes)
		}
	case StateProbe:
		if entries > 0 {
			pr.MsgAppFlowPaused = true
		}
	default:
		panic(fmt.Sprintf("invariant: SentEntries(%d, %d) in %v: nothing is appended while a snapshot is pending", entries, bytes, pr.State))
	}
}

// CanBumpCommit reports whether sending commit index index could teach the
// follower a higher commit index than already sent: index is above
// SentCommit, and SentCommit is below Next-1, the highest index the
// follower may hold of what was sent.
func (pr *Progress) CanBumpCommit(index uint64) bool {
	return index > pr.SentCommit && pr.SentCommit < pr.Next-1
}

// UpdateSentCommit records that commit index commit was sent to the
// follower. SentCommit never decreases here.
func (pr *Progress) UpdateSentCommit(commit uint64) {
	pr.SentCommit = max(pr.SentCommit, commit)
}

// IsPaused reports whether the leader should hold back appends to the
// follower: a probe is in flight (StateProbe), the window is full
// (StateReplicate), or a snapshot is pending (StateSnapshot).
func (pr *Progress) IsPaused() bool {
	switch pr.State {
	case StateProbe:
		return pr.MsgAppFlowPaused
	case StateReplicate:
		return pr.Inflights.Full()
	}
	return true
}

// CheckInvariants returns an error describing the first broken invariant
// of pr (see the package documentation), or nil.
func (pr *Progress) CheckInvariants() error {
	if pr.Match >= pr.Next {
		return fmt.Errorf("progress: match %d is not below next %d", pr.Match, pr.Next)
	}
	if err := pr.Inflights.CheckInvariants(); err != nil {
		return fmt.Errorf("progress: %w", err)
	}
	switch pr.State {
	case StateProbe, StateSnapshot, StateReplicate:
	default:
		return fmt.Errorf("progress: unknown state %v", pr.State)
	}
	if err := pr.checkWindow(); err != nil {
		return err
	}
	if (pr.State == StateSnapshot) != (pr.PendingSnapshot > 0) {
		return fmt.Errorf("progress: pending snapshot %d in %v", pr.PendingSnapshot, pr.State)
	}
	if pr.MsgAppFlowPaused && pr.State != StateProbe {
		return fmt.Errorf("progress: probe flow paused in %v", pr.State)
	}
	return nil
}

// checkWindow checks that messages are in flight only in StateReplicate and
// only in (Match, Next).
func (pr *Progress) checkWindow() error {
	first, last, ok := pr.Inflights.bounds()
	switch {
	case !ok:
		return nil
	case pr.State != StateReplicate:
		return fmt.Errorf("progress: %d messages in flight in %v", pr.Inflights.Count(), pr.State)
	case first <= pr.Match || last >= pr.Next:
		return fmt.Errorf("progress: in flight [%d, %d] outside (match %d, next %d)", first, last, pr.Match, pr.Next)
	}
	return nil
}

// String returns a compact one-line form of pr, such as
// "StateReplicate match=5 next=6 inflight=1". Flags and counters that are
// off or zero are left out.
func (pr *Progress) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v match=%d next=%d", pr.State, pr.Match, pr.Next)
	if pr.IsLearner {
		b.WriteString(" learner")
	}
	if pr.SentCommit > 0 {
		fmt.Fprintf(&b, " sent_commit=%d", pr.SentCommit)
	}
	if pr.PendingSnapshot > 0 {
		fmt.Fprintf(&b, " pending_snap=%d", pr.PendingSnapshot)
	}
	if pr.MsgAppFlowPaused {
		b.WriteString(" paused")
	}
	if !pr.RecentActive {
		b.WriteString(" inactive")
	}
	if n := pr.Inflights.Count(); n > 0 {
		fmt.Fprintf(&b, " inflight=%d", n)
		if pr.Inflights.Full() {
			b.WriteString("[full]")
		}
	}
	return b.String()
}

// ProgressMap holds the Progress of every member of a configuration, by
// node ID.
type ProgressMap map[uint64]*Progress

// AckedIndex returns the Match of the voter, and false if it has no
// Progress. Whether the node is a learner plays no part: the configuration
// asking decides who counts.
func (m ProgressMap) AckedIndex(voterID uint64) (uint64, bool) {
	pr, ok := m[voterID]
	if !ok {
		return 0, false
	}
	return pr.Match, true
}

// String returns one line per node in ascending ID order, such as
// "1: StateReplicate match=5 next=6", each ending in a newline.
func (m ProgressMap) String() string {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "%d: %v\n", id, m[id])
	}
	return b.String()
}
