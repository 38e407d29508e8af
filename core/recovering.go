package core

import (
	"errors"
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// ErrLostLog is wrapped by the error of a node whose storage lost entries
// it had acknowledged (a *LostLogError), and by the refusals of a node
// recovering from such a loss (ErrRecovering).
var ErrLostLog = errors.New("raft: the log lost acknowledged entries")

// ErrRecovering refuses, on a node booted with Config.Recovering, what
// would let it vote or lead before it holds an entry of a leader elected
// without it (see Config.Recovering).
var ErrRecovering = fmt.Errorf("%w: recovering", ErrLostLog)

// LostLogError is the boot error of a node whose persisted commit index
// lies beyond its stored log. Under the persistence contract (a Ready's
// HardState is durable only together with or after its Entries and
// Snapshot) this means the storage lost entries it had made durable, and
// so the node acknowledged entries it no longer has: it could vote for a
// candidate lacking a committed entry. The application stops, or, if it
// knows the HardState (term and vote) itself is intact, restarts the node
// with Config.Recovering; if term or vote may be lost too, the only safe
// way back is removing the member and adding it again under a new ID.
type LostLogError struct {
	// Commit is the persisted commit index.
	Commit uint64
	// FirstIndex and LastIndex are the stored log's range; the entries
	// LastIndex+1 through Commit are missing.
	FirstIndex, LastIndex uint64
}

// Error says what is missing and how to recover.
func (e *LostLogError) Error() string {
	return fmt.Sprintf("%v: persisted commit %d beyond the stored log [%d, %d]: entries %d through %d are missing; "+
		"if the hard state (term and vote) is intact restart with Config.Recovering, otherwise remove this member "+
		"and add it back under a new ID", ErrLostLog, e.Commit, e.FirstIndex, e.LastIndex, e.LastIndex+1, e.Commit)
}

// Unwrap returns ErrLostLog.
func (e *LostLogError) Unwrap() error { return ErrLostLog }

// checkLostLog refuses to boot over a log that ends below the persisted
// commit index, unless the application asked for recovering mode.
func (r *Raft) checkLostLog(hs raftpb.HardState, recovering bool) error {
	last := r.raftLog.lastIndex()
	if hs.Commit <= last || recovering {
		return nil
	}
	return &LostLogError{Commit: hs.Commit, FirstIndex: r.raftLog.firstIndex(), LastIndex: last}
}

// startRecovering puts a node booted at term T0 in recovering mode. It
// grants no vote or pre-vote, campaigns not, and ignores MsgTimeoutNow
// until its storage has durably acknowledged an entry (or a snapshot) of
// some term T > T0, which only the leader of T or a later leader sends.
//
// Why that is enough. The node may have acknowledged, before the loss,
// entries it no longer holds, so it must not help elect a leader: its
// vote could complete an election quorum that meets a commit quorum only
// in itself, and a leader lacking a committed entry would follow. The
// leader of T was elected without this node (it votes for no one at any
// term above T0, and its votes up to T0 are kept in the intact
// HardState), so its election quorum meets every commit quorum of an
// entry committed before T in a node that lost nothing, and by Leader
// Completeness it holds every such entry, below its first entry of T.
// Once this node holds an entry of term T, Log Matching gives it that
// leader's whole prefix: every entry committed before T, among them all
// those its lost acknowledgements could ever help commit (they carry
// terms up to T0, and a leader counts acknowledgements of its own term
// only). Catching up with the current commit index would not be enough:
// a delayed acknowledgement the node sent before the loss can still
// complete the commit of an entry it lost.
//
// Why the node moves to term T0+1 at boot, voting for no one. A leader
// of T0 itself, still in office, never sends an entry of a newer term:
// the node would stay recovering, a voter that does not vote, until
// something else ended that term, possibly never under a stable leader.
// At T0+1 the node answers the leader of T0 with its newer term (§5.1:
// a stale leader's appends and heartbeats are always answered), which
// ends term T0 and brings an election the node takes no part in, so it
// recovers within a few election timeouts of rejoining. The boot term
// goes into the hard state (HardState.RecoveringTerm) with the move, so
// a restart before the node recovers resumes recovering, even if the
// application does not ask again. Moving to a
// newer term without a vote is always safe: the node has voted in no
// term above T0 (its HardState is intact), and it votes in none while
// it recovers. The price is one election per recovery from a lost log,
// none if the group has already moved past T0.
func (r *Raft) startRecovering() {
	r.recovering = true
	r.coldState().recoveringTerm = r.term
	r.becomeFollower(r.term+1, None)
	r.log(LevelWarn, "recovering from a lost log: no votes, no campaigns until an entry of a newer term is durable",
		Attr{"boot_term", r.recoveringBootTerm()}, Attr{"last_index", r.raftLog.lastIndex()})
}

// resumeRecovering goes on recovering after a restart: the persisted
// hard state says the node began recovering at boot term bootTerm and has
// not yet held a durable entry of a newer term. The node has moved past
// bootTerm already, so it does not move again.
func (r *Raft) resumeRecovering(bootTerm uint64) {
	r.recovering = true
	r.coldState().recoveringTerm = bootTerm
	r.log(LevelWarn, "still recovering from a lost log", Attr{"boot_term", bootTerm})
}

// maybeEndRecovering ends recovering mode once an entry or snapshot of a
// term above the boot term is durable.
func (r *Raft) maybeEndRecovering(durableTerm uint64) {
	if r.recovering && durableTerm > r.recoveringBootTerm() {
		r.recovering = false
		r.log(LevelInfo, "recovered: holds an entry of a leader elected without it", Attr{"durable_term", durableTerm})
	}
}
