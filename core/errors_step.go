package core

import "errors"

// Errors returned by the node's entry points. Each is errors.Is-able; most
// are wrapped with detail. A refused message leaves the node unchanged.
var (
	// ErrProposalDropped: the proposal was refused (no leader is known,
	// forwarding is disabled, a leadership transfer is in progress, or
	// the uncommitted tail is full); the caller may retry.
	ErrProposalDropped = errors.New("raft: proposal dropped")
	// ErrNoLeader: there is no known leader to forward to.
	ErrNoLeader = errors.New("raft: no leader")
	// ErrUncommittedTailFull: the leader's uncommitted tail has reached
	// MaxUncommittedEntriesSize; retry once entries commit.
	ErrUncommittedTailFull = errors.New("raft: uncommitted tail is full")
	// ErrStepLocalMsg: a message type that only the local node may
	// produce arrived through Step.
	ErrStepLocalMsg = errors.New("raft: local message type from the network")
	// ErrUnknownMessageType: the message type is not one the node handles.
	ErrUnknownMessageType = errors.New("raft: unknown message type")
	// ErrWrongRecipient: the message is addressed to another node.
	ErrWrongRecipient = errors.New("raft: message addressed to another node")
	// ErrInvalidMessage: the message is impossible (inconsistent indexes
	// or terms, a missing snapshot, an acknowledgement of entries the
	// leader never had): the peer is faulty or malicious.
	ErrInvalidMessage = errors.New("raft: invalid message")
	// ErrInvalidSavedChunks: RawNode.ResumeSnapshotFetch was handed chunks
	// that name no snapshot or chunk size, or a chunk no snapshot has, or
	// the chunked snapshot transfer is off.
	ErrInvalidSavedChunks = errors.New("raft: invalid saved snapshot chunks")
	// ErrNotLeader: the request can be served only by the leader.
	ErrNotLeader = errors.New("raft: not the leader")
	// ErrLearnerCannotCampaign: learners never campaign.
	ErrLearnerCannotCampaign = errors.New("raft: a learner cannot campaign")
	// ErrLeasePromised: under LeaseReads, this follower heard from its
	// leader within the election timeout (or restarted within one), so it
	// may have helped grant the leader's lease; forgetting the leader or
	// campaigning now could elect another leader inside that lease.
	ErrLeasePromised = errors.New("raft: inside a leader's lease this node may have granted")
	// ErrPendingConfChange: the node has committed configuration changes
	// that are not applied yet, and so may not campaign.
	ErrPendingConfChange = errors.New("raft: configuration change pending")
	// ErrTransferRefused: a leadership transfer was refused (to the leader
	// itself, a learner, a non-member, or with no leader known).
	ErrTransferRefused = errors.New("raft: leadership transfer refused")
	// ErrTransferInProgress: the leader is handing over leadership and
	// accepts no proposals until the transfer ends.
	ErrTransferInProgress = errors.New("raft: leadership transfer in progress")
	// ErrInvalidConfChange: a proposed conf change entry does not decode.
	ErrInvalidConfChange = errors.New("raft: invalid conf change")
	// ErrUnknownTransition: a ConfChangeV2 names a transition this
	// library does not know; it is refused rather than guessed.
	ErrUnknownTransition = errors.New("raft: unknown conf change transition")
	// ErrNotAMember: the node is not a voter of its configuration.
	ErrNotAMember = errors.New("raft: not a voter of the configuration")
)
