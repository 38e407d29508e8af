// Package core is the Raft protocol of tickraft: the node (Raft), its log
// (the stable part read through Storage, the unstable tail it holds
// itself), MemoryStorage, Config and its validation, the Logger, and the
// node's status.
//
// It is an implementation layer. Applications import the root package
// (github.com/tickraft/raft), whose RawNode wraps Raft and which
// re-exports, documented in full, every type, constant and error of this
// package a user meets; nothing here needs importing directly. Raft's
// methods are the root's with the same contract; doc.go at the root states
// it (the Ready loop, what to persist before what, slice ownership, the
// tick contract).
//
// # Inputs
//
// Two kinds of input reach a node, by two rules:
//
//   - What arrives asynchronously, from peers and from the application's
//     storage workers, is a message and goes through Step: peer messages
//     (validated first, refused with a typed error that changes nothing),
//     the storage acknowledgements of the asynchronous mode
//     (MsgStorageAppendResp, MsgStorageApplyResp), the snapshot worker's
//     answers, and the transport's reports (ReportUnreachable and
//     ReportSnapshot become MsgUnreachable and MsgSnapStatus). Advance
//     acknowledges through the same handlers, so both storage modes share
//     one path.
//   - What the application asks of the node itself is a method: Tick and
//     TickN, Campaign, Propose and ProposeEntries (which return the index
//     and term the entry was given), ProposeConfChange, TransferLeader,
//     ReadIndex, ReadLocal, ForgetLeader, ReportPeerDown. A method returns what the caller
//     needs without allocating a message, and TickN costs the same for
//     any number of ticks. On a follower a proposal, a read or a transfer
//     leaves as the message the leader steps.
//
// So etcd's local message types MsgHup, MsgBeat, MsgCheckQuorum and
// MsgForgetLeader keep their numbers in raftpb, for the wire format, but
// no node makes or takes them: Step refuses them with ErrStepLocalMsg.
//
// # Arrays handed out
//
// In the synchronous loop the node takes back the arrays behind
// Ready.Messages and MessagesAfterPersist at the next Advance (outbox.go).
// With Config.ReuseEntryArrays (the application promises to read no entry
// slice of a Ready after the next Advance) it also takes back the arrays
// behind the entries it handed out: Entries, CommittedEntries read from
// the entries that last became stable, and the Entries of the appends it
// sent are slices of its unstable tail's array, which it clears and fills
// with the next batch once every entry in it is durable and applied
// (log_unstable_arrays.go), so that a busy node allocates no entry array
// per batch; and Step copies the entries of an append into the node's
// own array, since the sender may take back its array. Without the option
// (the default) no entry array is taken back, entry slices stay valid
// after Advance, and a follower may keep a received append's entries.
// ReuseEntryArrays is refused in the asynchronous mode: the storage
// workers keep what they are handed as long as they like.
//
// # Who touches what
//
// Raft's fields fall into groups, each kept by the files of its concern;
// a change to a rule is made in that file:
//
//   - term, vote, lead and state: raft.go (the role changes) and
//     election.go (ticks, campaigns, votes, CheckQuorum, leases promised);
//     the election timer and the generator of randomized timeouts
//     (clock), and the leader's heartbeat timer (leader.heartbeat):
//     election_clock.go.
//   - the log (raftLog, its unstable tail): log.go, log_unstable.go,
//     entries.go; the tail's arrays, taken back once applied:
//     log_unstable_arrays.go; what was durably acknowledged:
//     storage_acks.go.
//   - the leader's replication (trk's progress, appendsPending):
//     replication.go, with flow control in tracker (the windows a
//     GroupCache lends: windows.go); only a leader holds
//     its peers' Progress (a follower or candidate, its configuration
//     alone: raft.go's reset and becomeLeader); the uncommitted
//     tail's budget (leader.uncommitted): uncommitted.go.
//   - what only a leader holds (leader: the transfer under way, the
//     pending conf change, the revoked lease, the snapshots sent, its
//     heartbeat timer and its part in quiescence), nil on every other
//     node: leader.go, used by transfer.go and membership.go.
//   - membership (trk's configuration): membership.go and package
//     confchange.
//   - reads (readOnly, readStates, localReads, forwardedReads, the lease
//     clock): reads.go, reads_forwarded.go and package readonly.
//   - an idle group's sleep (quiesce: asleep; leader.quiesce: the
//     leader's request in flight, the fence on its lease after a wake):
//     quiesce.go, whose doc
//     comment argues its safety; every request method and Step wake the
//     node through it.
//   - snapshots: snapshot.go (whole); the chunked transfer is a component
//     of its own (chunks.go says why it lives in core): the receiver
//     (fetch) in chunks_receiver.go, the source (serving) in
//     chunks_source.go, the leader's offer in chunks_offer.go, validation
//     and invariants in chunks_validate.go and chunks_invariants.go, the
//     glue to the node in chunks.go. The receiver is held in cold.
//   - the outbox (out: the messages queued for the next Ready, and the
//     arrays it reuses for them, taken back at Advance, or lent by a
//     GroupCache shared between groups: group_cache.go): outbox.go,
//     filled by step.go's send and chunks.go's sendChunk.
//   - what the Readys handed out since the last Advance (ready: the
//     entries, snapshot and committed entries to acknowledge, and the
//     messages the node addressed to itself, its own vote among them):
//     ready.go.
//   - what the node derived from its Config (settings: switches, bounds,
//     timings), built once and never assigned, shared by the nodes
//     configured alike that share a GroupCache: settings.go;
//   - the node's watch over its own storage (storage): storage_stall.go;
//     recovering after lost entries: recovering.go.
//   - what few nodes use (cold: the queues of reads, the chunk receiver
//     and source, the messages to the snapshot worker, the checked
//     mode's record, the asynchronous snapshot hand-off, a
//     recovering node's boot term), behind one pointer allocated when a
//     part is first needed: raft.go (raftCold). Unlike the sub-states
//     below, its parts are not held to one file by the lint test; each is
//     meant to be written by the file of its concern.
//
// The sub-states held as their own types (clock, leader, uncommitted,
// storage, contract, ready, out, fetch, serving, quiesce, settings) have
// their fields assigned only in their own file; a lint test in the root package
// enforces it, and another lets only the chunked transfer's files (and
// raftpb) read the fields its messages reuse. CheckInvariants
// (invariants.go) checks the whole state after any input, from the node's
// own state alone (never Storage), in O(peers). A rule checked once on the
// way in (a committed entry is never contradicted:
// raftLog.committedConflict) is re-checked where the state changes only
// as an assertion, compiled in by the tickraft_invariants tag
// (assert_on.go); so is the chunked transfer's scan of every chunk's
// state.
package core
