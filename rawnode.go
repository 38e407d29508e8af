package raft

import (
	"strings"

	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
)

// RawNode is one member of a Raft group, driven entirely by its caller: it
// takes ticks, messages and proposals and hands back Ready batches. It does
// no I/O, starts no goroutines and reads no clock. It is not safe for
// concurrent use: one goroutine owns it. It must not be copied once made
// (NewRawNode returns a pointer): a copy would share parts of the node's
// state with the original and fork it (go vet's copylocks check reports
// a copy).
type RawNode struct {
	_ noCopy
	// r is held inline: a process with many groups holds a RawNode per
	// member, and one allocation is cheaper than two.
	r core.Raft
}

// noCopy makes go vet's copylocks check report a copy of the struct that
// holds it; it takes no room.
type noCopy struct{}

// Lock and Unlock exist for go vet's copylocks check alone.
func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// verified checks the node's invariants on the way out of a method when
// built with the tickraft_invariants tag; otherwise it compiles to
// nothing.
func (rn *RawNode) verified() {
	if !checkInvariantsOnExit {
		return
	}
	if err := rn.r.CheckInvariants(); err != nil {
		panic("invariant: " + strings.TrimPrefix(err.Error(), "invariant: "))
	}
}

// NewRawNode returns a node for c. A new cluster's nodes boot from Storage
// that holds the initial ConfState (MemoryStorage.SetConfState); a
// restarting node recovers its term, vote, log and configuration from
// Storage. The error is a *ConfigError for a wrong Config, or the
// Storage's error.
func NewRawNode(c *Config) (*RawNode, error) {
	rn := &RawNode{}
	if err := rn.r.Init(c); err != nil {
		return nil, err
	}
	return rn, nil
}

// Tick advances the node's logical clock by one tick. Election and
// heartbeat timeouts, and leases, are counted in ticks. A tick is a unit of
// the application's monotonic clock: every tick that has elapsed must
// reach the node before any other input is stepped (see TickN).
func (rn *RawNode) Tick() { rn.r.Tick(); rn.verified() }

// TickN advances the node's logical clock by n ticks at once, with the
// timer effect of n calls to Tick at the cost of one: at most one
// heartbeat broadcast, one quorum check and one campaign. A loop reads its
// monotonic clock after taking an input off its queue and before stepping
// it, and calls TickN with the ticks elapsed since it last did, so a
// process that was paused (garbage collection, a stopped VM) learns how
// much time passed before it acts on anything that waited meanwhile.
// tools/tickclock turns a monotonic clock into elapsed ticks. n <= 0 does
// nothing.
func (rn *RawNode) TickN(n int) { rn.r.TickN(n); rn.verified() }

// Campaign makes the node start an election now (with a pre-vote first
// unless Config.DisablePreVote). Learners and non-members get an error.
func (rn *RawNode) Campaign() error { err := rn.r.Campaign(); rn.verified(); return err }

// Propose proposes data for the log. On the leader it returns the index
// and term the entry was given, so the application can recognise it when it
// commits (or learn that it was overwritten: a committed entry at that index
// with another term). On a follower the proposal is forwarded to the leader
// and index and term are zero. A refused proposal returns an error wrapping
// ErrProposalDropped that says why. data is retained: do not modify it.
func (rn *RawNode) Propose(data []byte) (index, term uint64, err error) {
	index, term, err = rn.r.Propose(data)
	rn.verified()
	return index, term, err
}

// ProposeEntries proposes ents as one atomic batch: they are appended
// together, in order, or not at all. Each entry's Type and Data are kept;
// Index and Term are the leader's to give (the slice is retained and
// written to: do not modify it afterwards). A conf change entry among them
// gets the checks of ProposeConfChange. On the leader it returns the
// index of the last entry and the term; on a follower the batch is
// forwarded and index and term are zero. A refused batch returns an error
// wrapping ErrProposalDropped that says why.
func (rn *RawNode) ProposeEntries(ents []raftpb.Entry) (index, term uint64, err error) {
	index, term, err = rn.r.ProposeEntries(ents)
	rn.verified()
	return index, term, err
}

// ProposeConfChange proposes a membership change, in either form
// (raftpb.ConfChange or raftpb.ConfChangeV2). On the leader it returns the
// index and term of the entry that carries it; on a follower it is
// forwarded and index and term are zero. Besides the refusals of
// Propose, the leader refuses it with an error wrapping
// ErrProposalDropped that says why: ErrPendingConfChange
// while another change is appended but not yet applied (one change at a
// time); ErrInvalidConfChange when its data does not decode;
// ErrUnknownTransition for a transition it does not know; or an error of
// the membership math against the current configuration
// (such as ErrTooManyVoters, ErrAlreadyJoint, ErrNotJoint,
// ErrZeroVoterJoint, ErrRemovedAllVoters, ErrUnknownChangeType or
// ErrInvalidNodeID). A change
// with an item naming node 0 is refused whole with ErrInvalidNodeID, its
// other items included (etcd raft skips that item). A proposal forwarded
// by a follower gets the same checks on the leader.
func (rn *RawNode) ProposeConfChange(cc raftpb.ConfChangeI) (index, term uint64, err error) {
	index, term, err = rn.r.ProposeConfChange(cc)
	rn.verified()
	return index, term, err
}

// ApplyConfChange applies a committed membership change, when the
// application applies the entry that carries it, and returns the new
// configuration. A change the membership math refuses returns its error
// and changes nothing, the same on every member. A change with an item
// naming node 0 is refused whole with ErrInvalidNodeID: none of its items
// applies (etcd raft skips that item and applies the rest). To skip an
// item, leave it out of the change, the same way on every member.
func (rn *RawNode) ApplyConfChange(cc raftpb.ConfChangeI) (raftpb.ConfState, error) {
	cs, err := rn.r.ApplyConfChange(cc)
	rn.verified()
	return cs, err
}

// Step hands the node a message received from a peer. A message no
// correct peer could send is refused with a typed error and changes
// nothing. The node copies the entries of an append into its own log (so
// the caller may reuse the array behind them once Step returns) and keeps
// the message's other slices (payloads, contexts, snapshot data); the
// leader assigns Index and Term to the entries of a forwarded proposal in
// place.
func (rn *RawNode) Step(m raftpb.Message) error { err := rn.r.Step(m); rn.verified(); return err }

// HasReady reports whether Ready would return any work.
func (rn *RawNode) HasReady() bool { return rn.r.HasReady() }

// Ready returns the work accumulated since the last Ready. The application
// persists, sends and applies it in the order documented on Ready, then
// calls Advance.
func (rn *RawNode) Ready() (rd Ready) { rd = rn.r.Ready(); rn.verified(); return rd }

// ReadyInto is Ready writing the Ready into *rd, every field of it,
// instead of returning it: a loop (tools/raftloop) saves copying a Ready,
// which is large, on its way out, and may pass the same variable each
// time. The Ready is the same, with the same contract.
func (rn *RawNode) ReadyInto(rd *Ready) { rn.r.ReadyInto(rd); rn.verified() }

// Advance acknowledges that the work of every Ready handed out since the
// last Advance is done: its entries, hard state and snapshot are durable,
// its messages sent and its committed entries applied.
func (rn *RawNode) Advance() { rn.r.Advance(); rn.verified() }

// Status returns a copy of the node's state, with each peer's progress on
// the leader. It allocates; BasicStatus does not.
func (rn *RawNode) Status() Status { return rn.r.Status() }

// BasicStatus returns the node's ID, hard state, soft state and applied
// index without allocating.
func (rn *RawNode) BasicStatus() BasicStatus { return rn.r.BasicStatus() }

// ReportUnreachable tells the leader that a message to id could not be
// delivered.
func (rn *RawNode) ReportUnreachable(id uint64) { rn.r.ReportUnreachable(id); rn.verified() }

// ReportSnapshot tells the leader how sending a snapshot to id ended.
func (rn *RawNode) ReportSnapshot(id uint64, failed bool) {
	rn.r.ReportSnapshot(id, failed)
	rn.verified()
}

// ResumeSnapshotFetch hands back, after a restart, the chunks of a
// snapshot this node's snapshot worker saved before it (chunked snapshot
// transfer, Config.SnapshotChunkSize): the next offer of that snapshot in
// the same chunk size fetches only the others. Call it after NewRawNode,
// before stepping messages. It returns an error wrapping
// ErrInvalidSavedChunks, and changes nothing, when the transfer is off or
// saved names no snapshot, no chunk size or an impossible chunk.
func (rn *RawNode) ResumeSnapshotFetch(saved SavedChunks) error {
	err := rn.r.ResumeSnapshotFetch(saved)
	rn.verified()
	return err
}

// TransferLeader asks the leader to hand leadership to transferee (thesis
// §3.10); on a follower, only a transfer to this follower itself can be
// asked for, and is forwarded to the leader. While the transfer runs the
// leader refuses proposals with an error wrapping ErrTransferInProgress;
// it abandons the transfer after an election timeout, or when the target is
// removed or reported unreachable. A transfer to the leader itself, a
// learner or a non-member is refused with ErrTransferRefused.
func (rn *RawNode) TransferLeader(transferee uint64) error {
	err := rn.r.TransferLeader(transferee)
	rn.verified()
	return err
}

// ReadIndex asks for a linearizable read identified by ctx (thesis §6.4).
// The answer arrives as a ReadState in a later Ready: serve the read once
// the applied index reaches ReadState.Index. It costs one heartbeat round
// shared by every read of the same loop iteration, or nothing while the
// leader's lease holds (Config.LeaseReads). On a follower the read is
// forwarded to the leader. Refusals are errors: no leader (ErrNoLeader), a
// transfer in progress (ErrTransferInProgress), the queue full
// (ErrTooManyPendingReads). A read pending when the leader loses
// leadership comes back with ReadState.Err = ErrReadAborted.
func (rn *RawNode) ReadIndex(ctx []byte) error { err := rn.r.ReadIndex(ctx); rn.verified(); return err }

// ReadLocal asks for a monotonic (not linearizable) read on this node at
// or after minIndex, e.g. the index of the client's last write: it is
// released as soon as the node has applied minIndex, without contacting
// the leader, or after an election timeout with a *LaggingError naming the
// leader this node knows of.
func (rn *RawNode) ReadLocal(ctx []byte, minIndex uint64) error {
	err := rn.r.ReadLocal(ctx, minIndex)
	rn.verified()
	return err
}

// ReportPeerDown tells the node that the application suspects peer id
// has failed: its transport lost the connection, or a failure detector
// fired. It wakes the node (Config.Quiesce). On a follower whose leader
// is id it starts an election, with a pre-vote unless
// Config.DisablePreVote: a follower of a quiesced group never times out
// by itself, so this is how a leader that fails while the group sleeps
// is replaced. Within ElectionTick of the last message the follower took
// from that leader it refuses with an error wrapping ErrLeasePromised:
// it may have helped grant the leader a lease (and leader stickiness
// holds it); it is then awake and campaigns by its own election timer if
// the leader stays silent. Report the ticks that elapsed (TickN) first.
// On any other node, or for another peer, it only wakes the node.
func (rn *RawNode) ReportPeerDown(id uint64) error {
	err := rn.r.ReportPeerDown(id)
	rn.verified()
	return err
}

// ForgetLeader makes a follower forget its leader, so that it can grant a
// vote at once.
func (rn *RawNode) ForgetLeader() error { err := rn.r.ForgetLeader(); rn.verified(); return err }

// CheckInvariants checks the node's whole state and returns the first
// broken invariant, or nil: the log's (committed, applying, applied,
// stable and unstable indexes in order), the role's (a leader names
// itself, a candidate voted for itself), every peer's progress and window
// of appends (Match below Next, the window's count and bytes the sum of
// its messages), the chunked snapshot transfer's bookkeeping and, on a
// leader, that no follower acknowledged beyond its log and that its count
// of the uncommitted tail is exact. A non-nil answer is a bug in the
// library, never in the caller.
//
// It is meant for tests and debugging: a test or a simulator calls it
// after every input it gives the node. It changes nothing and reads only
// the node's own state, never Storage; it costs O(peers) (it visits every
// peer and the queues, each within its bound). Built with the
// tickraft_invariants tag, every method of RawNode calls it on its way
// out and panics on a broken invariant.
func (rn *RawNode) CheckInvariants() error { return rn.r.CheckInvariants() }
