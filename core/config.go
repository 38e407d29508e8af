package core

import (
	"errors"
	"fmt"
	"math"
)

// Defaults for the optional Config fields. A zero field means the default.
const (
	DefaultElectionTick                = 10
	DefaultHeartbeatTick               = 1
	DefaultMaxSizePerMsg               = 1 << 20  // 1 MiB of payload per append
	DefaultMaxInflightMsgs             = 256      // appends in flight per follower
	DefaultMaxInflightBytes            = 64 << 20 // 64 MiB in flight per follower
	DefaultMaxUncommittedEntriesSize   = 256 << 20
	DefaultMaxCommittedSizePerReady    = 64 << 20
	DefaultMaxPendingReads             = 4096
	DefaultMaxUncommittedEntries       = 1 << 16
	DefaultMaxCommittedEntriesPerReady = 1 << 14
	DefaultLeaseClockDriftTicks        = 1
	DefaultMaxSnapshotChunksInflight   = 4
	DefaultMaxSnapshotChunksPerSource  = 1
	DefaultMaxSnapshotInflightBytes    = 16 << 20
	DefaultMaxSnapshotReceivers        = 2
	// MaxSnapshotChunks bounds the chunks of one snapshot, and so the
	// receiver's bookkeeping (one byte per chunk).
	MaxSnapshotChunks = 1 << 20
	// MaxSnapshotChunkSize bounds the size of one chunk.
	MaxSnapshotChunkSize = 1 << 32
)

// Config holds what a node needs to start. Only ID and Storage are
// required; the zero value of every other field is a safe, working default.
// Sizes are payload bytes: the sum of len(Entry.Data) of the entries they
// count. Times are ticks: the application calls Tick at its own interval.
type Config struct {
	// ID identifies the node in the group. It must not be zero.
	ID uint64

	// ElectionTick is the election timeout in ticks: a follower that hears
	// nothing from a leader for a random number of ticks in
	// [ElectionTick, 2*ElectionTick) campaigns. It must exceed
	// HeartbeatTick. Default DefaultElectionTick.
	ElectionTick int
	// HeartbeatTick is the number of ticks between a leader's heartbeats.
	// Default DefaultHeartbeatTick.
	HeartbeatTick int

	// Storage is where the node reads its persisted log, hard state and
	// snapshot. The application writes to it; the node only reads. Required.
	Storage Storage
	// Applied is the last index the application has applied, when it
	// restarts; committed entries up to it are not handed out again.
	Applied uint64

	// Seed seeds the node's private generator of randomized election
	// timeouts. The same seed and the same inputs give the same outputs.
	// Zero derives a seed from ID, so that nodes differ.
	Seed uint64

	// MaxSizePerMsg bounds the payload bytes of one append message; a
	// message carries at least one entry whatever its size. Default
	// DefaultMaxSizePerMsg.
	MaxSizePerMsg uint64
	// MaxInflightMsgs bounds the appends in flight to one follower in the
	// replicate state. Default DefaultMaxInflightMsgs.
	MaxInflightMsgs int
	// MaxInflightBytes bounds the payload bytes in flight to one follower.
	// Default DefaultMaxInflightBytes.
	MaxInflightBytes uint64
	// MaxUncommittedEntriesSize bounds the payload bytes of the leader's
	// uncommitted tail; proposals beyond it are refused with
	// ErrProposalDropped. Default DefaultMaxUncommittedEntriesSize.
	MaxUncommittedEntriesSize uint64
	// MaxUncommittedEntries bounds the number of entries in the leader's
	// uncommitted tail, beside their bytes. As with the bytes, one batch is
	// always accepted on an empty tail. Default
	// DefaultMaxUncommittedEntries.
	MaxUncommittedEntries int
	// MaxCommittedEntriesPerReady bounds the number of committed entries
	// one Ready hands out to apply, beside their bytes. Default
	// DefaultMaxCommittedEntriesPerReady.
	MaxCommittedEntriesPerReady int
	// MaxCommittedSizePerReady bounds the payload bytes of committed
	// entries handed out for applying and not yet applied. Default
	// DefaultMaxCommittedSizePerReady.
	MaxCommittedSizePerReady uint64

	// DisablePreVote turns off the pre-vote phase (thesis §9.6). Pre-vote
	// is on by default: a node that rejoins after a partition cannot
	// disrupt a healthy leader.
	DisablePreVote bool
	// DisableCheckQuorum turns off CheckQuorum. It is on by default: a
	// leader that has not heard from a quorum within an election timeout
	// steps down, and followers that heard from a leader within an election
	// timeout refuse to vote for others (leader stickiness).
	DisableCheckQuorum bool
	// DisableProposalForwarding makes followers refuse proposals with
	// ErrProposalDropped instead of forwarding them to the leader.
	DisableProposalForwarding bool
	// KeepLeaderAfterRemoval keeps a leader that applied its own removal
	// (or demotion to learner) leading until it loses a quorum, the
	// behaviour of older libraries. By default such a leader steps down at
	// once, so that the group elects a leader that counts itself.
	KeepLeaderAfterRemoval bool

	// CheckContract turns on the checked mode, for tests and debugging:
	// the node verifies the application's side of the Ready contract and
	// names the misuse in a *ContractError. At Advance, Storage must hold
	// what the Readys since the last Advance handed out (entries,
	// snapshot, hard state) and no payload they shared may have been
	// modified, or Advance panics with it; in the asynchronous mode an
	// append worker's acknowledgement of entries or a snapshot Storage
	// does not hold is refused by Step with it. It reads Storage and
	// hashes payloads on every Ready: off by default.
	CheckContract bool

	// Recovering boots the node in recovering mode, after its storage lost
	// entries it had made durable (NewRawNode refused to boot without it,
	// with a *LostLogError; or the application's storage found a loss the
	// node cannot see). The HardState (term and vote) must be intact: if
	// it may be lost too, remove the member and add it back under a new ID
	// instead. A recovering node grants no vote or pre-vote, does not
	// campaign (ErrRecovering) and ignores a leader's MsgTimeoutNow, until
	// its storage has durably acknowledged an entry or snapshot of a term
	// above the one it booted in: that entry comes from a leader elected
	// without it, which holds every entry the lost acknowledgements could
	// have helped commit. It then is an ordinary member again
	// (BasicStatus.Recovering turns false).
	Recovering bool

	// LeaseReads lets the leader answer ReadIndex from its commit index
	// without a heartbeat round while its lease holds (thesis §6.4.1). The
	// lease runs from the send tick of the latest heartbeats a quorum
	// answered and lasts ElectionTick - LeaseClockDriftTicks - 1 ticks
	// (the - 1 pays for followers resetting their clocks part-way through
	// a tick). It is safe only if a follower's clock runs fast by at most
	// LeaseClockDriftTicks over an election timeout, if every tick that
	// elapsed reaches the node before anything else is stepped (TickN
	// after a pause), and if the host cannot suspend (Go's monotonic clock
	// stops during a system suspend). It requires CheckQuorum, whose
	// leader stickiness is what keeps followers from electing another
	// leader during the lease. A follower that heard from its leader within
	// the election timeout refuses ForgetLeader and Campaign with
	// ErrLeasePromised, since either would let it vote inside the lease it
	// helped grant. A node that restarts under
	// LeaseReads refuses to help elect a leader for its first election
	// timeout, for the same reason (it may have answered the round that
	// anchors the lease, then forgotten the leader). Default off: every
	// read costs a heartbeat round.
	LeaseReads bool
	// LeaseClockDriftTicks is the clock-drift allowance of LeaseReads, in
	// ticks. Default DefaultLeaseClockDriftTicks.
	LeaseClockDriftTicks int
	// MaxPendingReads bounds the reads waiting on the leader (for a
	// heartbeat round, or for the leader's first commit in its term) and
	// the local reads waiting for the applied index. Reads beyond it are
	// refused with ErrTooManyPendingReads. Default DefaultMaxPendingReads.
	MaxPendingReads int

	// AsyncStorageWrites hands storage work out as messages (thesis
	// §10.2.1): each Ready carries a MsgStorageAppend to LocalAppendThread
	// (entries, hard state, snapshot) and a MsgStorageApply to
	// LocalApplyThread (committed entries); each worker does the work, in
	// order, then delivers the message's Responses (those addressed to this
	// node through Step, the others to the network). Disk writes on leader
	// and followers then run in parallel with replication, several writes
	// may be outstanding, and Advance is not called. Default off: the
	// synchronous Ready/Advance loop, which makes the same
	// acknowledgements on Advance.
	AsyncStorageWrites bool
	// ReuseEntryArrays lets the node take back the arrays of entries it
	// hands out and fill them again, so that steady replication allocates
	// nothing per batch (BENCHMARKS.md, "The hot path near the floor"). In
	// return the application promises that no entry slice of a Ready
	// (Entries, CommittedEntries, and the Entries of its Messages and
	// MessagesAfterPersist) is read after the next Advance: entries are
	// persisted and applied before Advance, and a transport that keeps a
	// message past Advance (a queue, an in-process delivery) copies its
	// Entries first. An application that applies committed entries on
	// another goroutine after Advance, or hands messages to a sender that
	// encodes them later, must leave it off. A message kept against the
	// rule reaches its receiver with entries a later batch overwrote,
	// which Step refuses (ErrInvalidMessage); a state machine reading
	// entries after Advance would read another batch's. With it, Step
	// copies a received append's entries into the node's own array rather
	// than keeping the message's. Requires the synchronous loop
	// (AsyncStorageWrites off). Default off: entry slices stay valid after
	// Advance, as in etcd raft.
	ReuseEntryArrays bool

	// SnapshotChunkSize, when non-zero, turns on the chunked snapshot
	// transfer, which the package documentation of raft describes: a
	// follower that needs a snapshot is offered it (MsgSnapOffer) and
	// fetches it in chunks of this many bytes from the leader and, with
	// SnapshotInterval, from followers; the application serves and
	// persists chunks through messages to LocalSnapshotThread. Every
	// member must use the same value. Zero (the default): a snapshot
	// travels whole in one MsgSnap, as in etcd raft.
	SnapshotChunkSize uint64
	// SnapshotInterval, with SnapshotChunkSize, is the application's
	// promise that every member snapshots its state machine at each
	// applied index that is a multiple of SnapshotInterval, keeps its
	// latest snapshot, and serializes deterministically, so that snapshots
	// at the same index are byte-identical on every member. The leader
	// then names the followers whose log reaches such a snapshot's index
	// as extra sources of its chunks. Zero: only the leader serves chunks.
	// A source refuses chunks of a snapshot it no longer holds: when
	// snapshots come faster than a transfer ends (a short interval, a busy
	// group), a member that also keeps its previous snapshot to serve
	// (tools/raftloop's SnapshotSource) lets transfers in flight finish.
	SnapshotInterval uint64
	// MaxSnapshotChunksInflight bounds the chunks a receiver has asked for
	// and not yet persisted. Default DefaultMaxSnapshotChunksInflight.
	MaxSnapshotChunksInflight int
	// MaxSnapshotChunksPerSource bounds the chunks a receiver asks one
	// source for at once. Default DefaultMaxSnapshotChunksPerSource.
	MaxSnapshotChunksPerSource int
	// MaxSnapshotInflightBytes bounds the bytes of the chunks a receiver
	// has asked for and not yet persisted (at least one chunk is always
	// allowed). Default DefaultMaxSnapshotInflightBytes.
	MaxSnapshotInflightBytes uint64
	// MaxSnapshotReceivers bounds the receivers a source serves at once;
	// others are refused as busy until one has been quiet for
	// SnapshotChunkTimeout ticks. Default DefaultMaxSnapshotReceivers.
	MaxSnapshotReceivers int
	// SnapshotChunkTimeout is the number of ticks a receiver waits for a
	// chunk before asking another source; a source that times out three
	// times in a row is dropped from the transfer. Default ElectionTick.
	SnapshotChunkTimeout int
	// SnapshotRetryTicks is how long a leader waits, after sending a whole
	// snapshot (MsgSnap) to a follower that keeps answering heartbeats
	// without acknowledging it, before sending it again: the MsgSnap or
	// its answer was lost and the application did not call
	// ReportSnapshot. With the chunked transfer on it is likewise the
	// least time between two offers (MsgSnapOffer) to a follower still
	// waiting for a snapshot. Default 2*ElectionTick; negative never
	// resends a whole snapshot (then only ReportSnapshot ends the wait),
	// while offers are still repeated every 2*ElectionTick: nothing else
	// repeats a lost offer.
	SnapshotRetryTicks int

	// Quiesce lets the leader of an idle group put it to sleep, so that
	// the group sends nothing and costs nothing per tick (the package
	// documentation of raft says what a host may then skip). The leader
	// asks once every member holds its whole log and commit index and
	// nothing is under way, with a MsgQuiesce; a follower whose log or
	// commit index differs stays awake and says so, and the leader stays
	// awake with it. Any proposal, read, conf change, transfer, campaign
	// or message from a peer wakes a node, and a waking follower wakes
	// its leader. A quiesced follower never campaigns by itself: the
	// application reports a leader it suspects has failed with
	// ReportPeerDown. Every member must set the same value: a node with
	// it off refuses MsgQuiesce, so the group stays awake. Default off:
	// the messages on the wire are those of a node without it.
	Quiesce bool

	// StorageStallTicks is how long a leader lets a write it handed to its
	// storage go unacknowledged (no write acknowledged meanwhile) before it
	// steps aside: it gives up its lease, then hands leadership to a
	// follower holding its last index, or steps down if none does. A node
	// whose storage stalls that long neither pre-campaigns nor campaigns
	// (ErrStorageStalled). Followers never judge the leader's disk: only
	// the stalled leader acts, next to CheckQuorum's rule for a leader cut
	// off from its quorum. It matters in the asynchronous storage mode,
	// where the loop goes on heartbeating while the append worker is
	// stuck; in the synchronous loop a blocked write stops the ticks and
	// heartbeats too, and the followers elect another leader by
	// themselves. Default 5*ElectionTick, well above an fsync spike;
	// negative disables the rule.
	StorageStallTicks int

	// GroupCache, if not nil, is shared with the other nodes given the
	// same cache: it lends them the arrays their messages are queued in,
	// so that an idle node keeps none (see GroupCache, which says which
	// nodes may share one: never nodes called concurrently). It changes
	// nothing a node does. Default nil: each node keeps its own arrays.
	GroupCache *GroupCache

	// Logger receives the node's log lines. Default: discard them.
	Logger Logger
}

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("raft: invalid config")

// ConfigError names the Config field that is wrong and why.
type ConfigError struct {
	Field  string
	Reason string
}

// Error returns "raft: invalid config: Field: reason".
func (e *ConfigError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalidConfig, e.Field, e.Reason)
}

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// Validate reports the first wrong field of c, as a *ConfigError. It never
// changes c.
func (c *Config) Validate() error {
	d := c.withDefaults()
	switch {
	case d.ID == 0:
		return &ConfigError{"ID", "must not be zero"}
	case d.Storage == nil:
		return &ConfigError{"Storage", "is required"}
	case d.HeartbeatTick < 0:
		return &ConfigError{"HeartbeatTick", "must not be negative"}
	case d.ElectionTick < 0:
		return &ConfigError{"ElectionTick", "must not be negative"}
	case d.ElectionTick <= d.HeartbeatTick:
		return &ConfigError{"ElectionTick", fmt.Sprintf("(%d) must be greater than HeartbeatTick (%d)", d.ElectionTick, d.HeartbeatTick)}
	case d.ElectionTick > math.MaxInt32/2:
		return &ConfigError{"ElectionTick", "is too large"}
	case d.MaxInflightMsgs < 0:
		return &ConfigError{"MaxInflightMsgs", "must not be negative"}
	case d.MaxUncommittedEntries < 0:
		return &ConfigError{"MaxUncommittedEntries", "must not be negative"}
	case d.MaxCommittedEntriesPerReady < 0:
		return &ConfigError{"MaxCommittedEntriesPerReady", "must not be negative"}
	case d.MaxPendingReads < 0:
		return &ConfigError{"MaxPendingReads", "must not be negative"}
	case d.ReuseEntryArrays && d.AsyncStorageWrites:
		return &ConfigError{"ReuseEntryArrays", "requires the synchronous loop (AsyncStorageWrites must be false): storage workers keep what they are handed"}
	case d.LeaseReads && d.DisableCheckQuorum:
		return &ConfigError{"LeaseReads", "requires CheckQuorum (DisableCheckQuorum must be false)"}
	case d.LeaseReads && (d.LeaseClockDriftTicks < 0 || d.LeaseClockDriftTicks >= d.ElectionTick-1):
		return &ConfigError{"LeaseClockDriftTicks", fmt.Sprintf("(%d) must be in [0, ElectionTick-1)", d.LeaseClockDriftTicks)}
	}
	return validateSnapshotTransfer(&d)
}

// validateSnapshotTransfer checks the settings of the chunked snapshot
// transfer, naming the field at fault.
func validateSnapshotTransfer(d *Config) error {
	for _, b := range []struct {
		field string
		v     int
	}{
		{"MaxSnapshotChunksInflight", d.MaxSnapshotChunksInflight},
		{"MaxSnapshotChunksPerSource", d.MaxSnapshotChunksPerSource},
		{"MaxSnapshotReceivers", d.MaxSnapshotReceivers},
		{"SnapshotChunkTimeout", d.SnapshotChunkTimeout},
	} {
		if b.v < 0 {
			return &ConfigError{b.field, "must not be negative"}
		}
	}
	switch {
	case d.SnapshotChunkSize > MaxSnapshotChunkSize:
		// Receivers refuse offers of larger chunks: followers would
		// never catch up.
		return &ConfigError{"SnapshotChunkSize", fmt.Sprintf("(%d) must be at most %d", d.SnapshotChunkSize, uint64(MaxSnapshotChunkSize))}
	case d.SnapshotInterval > 0 && d.SnapshotChunkSize == 0:
		return &ConfigError{"SnapshotInterval", "requires SnapshotChunkSize"}
	}
	return nil
}

// withDefaults returns a copy of c with every zero optional field set to its
// default.
func (c *Config) withDefaults() Config {
	d := *c
	if d.ElectionTick == 0 {
		d.ElectionTick = DefaultElectionTick
	}
	if d.HeartbeatTick == 0 {
		d.HeartbeatTick = DefaultHeartbeatTick
	}
	if d.MaxSizePerMsg == 0 {
		d.MaxSizePerMsg = DefaultMaxSizePerMsg
	}
	if d.MaxInflightMsgs == 0 {
		d.MaxInflightMsgs = DefaultMaxInflightMsgs
	}
	if d.MaxInflightBytes == 0 {
		d.MaxInflightBytes = DefaultMaxInflightBytes
	}
	if d.MaxUncommittedEntriesSize == 0 {
		d.MaxUncommittedEntriesSize = DefaultMaxUncommittedEntriesSize
	}
	if d.MaxCommittedSizePerReady == 0 {
		d.MaxCommittedSizePerReady = DefaultMaxCommittedSizePerReady
	}
	if d.MaxUncommittedEntries == 0 {
		d.MaxUncommittedEntries = DefaultMaxUncommittedEntries
	}
	if d.MaxCommittedEntriesPerReady == 0 {
		d.MaxCommittedEntriesPerReady = DefaultMaxCommittedEntriesPerReady
	}
	if d.MaxPendingReads == 0 {
		d.MaxPendingReads = DefaultMaxPendingReads
	}
	if d.LeaseClockDriftTicks == 0 {
		d.LeaseClockDriftTicks = DefaultLeaseClockDriftTicks
	}
	if d.MaxSnapshotChunksInflight == 0 {
		d.MaxSnapshotChunksInflight = DefaultMaxSnapshotChunksInflight
	}
	if d.MaxSnapshotChunksPerSource == 0 {
		d.MaxSnapshotChunksPerSource = DefaultMaxSnapshotChunksPerSource
	}
	if d.MaxSnapshotInflightBytes == 0 {
		d.MaxSnapshotInflightBytes = DefaultMaxSnapshotInflightBytes
	}
	if d.MaxSnapshotReceivers == 0 {
		d.MaxSnapshotReceivers = DefaultMaxSnapshotReceivers
	}
	if d.SnapshotChunkTimeout == 0 {
		d.SnapshotChunkTimeout = d.ElectionTick
	}
	if d.SnapshotRetryTicks == 0 {
		d.SnapshotRetryTicks = 2 * d.ElectionTick
	}
	if d.StorageStallTicks == 0 {
		d.StorageStallTicks = 5 * d.ElectionTick
	}
	if d.Seed == 0 {
		d.Seed = d.ID*0x9e3779b97f4a7c15 + 1
	}
	if d.Logger == nil {
		d.Logger = discardLogger{}
	}
	return d
}
