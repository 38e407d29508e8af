package raft

import (
	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// The types a user meets are re-exported as aliases in types_*.go, each
// with its fields and methods documented there.

// The roles of a node.
const (
	StateFollower     = core.StateFollower
	StateCandidate    = core.StateCandidate
	StateLeader       = core.StateLeader
	StatePreCandidate = core.StatePreCandidate
)

// The states of a follower's replication in a leader's Progress.
const (
	ProgressProbe     = tracker.StateProbe
	ProgressReplicate = tracker.StateReplicate
	ProgressSnapshot  = tracker.StateSnapshot
)

// The levels of log lines (Logger), with the values of log/slog's.
const (
	LevelDebug = core.LevelDebug
	LevelInfo  = core.LevelInfo
	LevelWarn  = core.LevelWarn
	LevelError = core.LevelError
)

// FormatLogLine renders a log line as text: LEVEL msg key=value ....
func FormatLogLine(level Level, msg string, attrs []Attr) string {
	return core.FormatLogLine(level, msg, attrs)
}

// None is the ID of no node.
const None = core.None

// The local storage workers of the asynchronous storage mode
// (Config.AsyncStorageWrites).
const (
	LocalAppendThread = core.LocalAppendThread
	LocalApplyThread  = core.LocalApplyThread
)

// LocalSnapshotThread is the application's snapshot worker in the chunked
// snapshot transfer (Config.SnapshotChunkSize); see core.LocalSnapshotThread.
const LocalSnapshotThread = core.LocalSnapshotThread

// ServeSnapshotChunk completes a snapshot worker's chunk request; see
// core.ServeSnapshotChunk.
func ServeSnapshotChunk(req raftpb.Message, data []byte, held bool) raftpb.Message {
	return core.ServeSnapshotChunk(req, data, held)
}

// ServeSnapshotChunkFrom completes a snapshot worker's chunk request from
// a snapshot held in memory; see core.ServeSnapshotChunkFrom.
func ServeSnapshotChunkFrom(req raftpb.Message, snap raftpb.Snapshot) raftpb.Message {
	return core.ServeSnapshotChunkFrom(req, snap)
}

// NewGroupCache returns an empty GroupCache, for the Config of the nodes
// that should share it.
func NewGroupCache() *GroupCache { return core.NewGroupCache() }

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage { return core.NewMemoryStorage() }

// The errors an embedding checks with errors.Is; see package core.
var (
	ErrProposalDropped                = core.ErrProposalDropped
	ErrNoLeader                       = core.ErrNoLeader
	ErrUncommittedTailFull            = core.ErrUncommittedTailFull
	ErrPendingConfChange              = core.ErrPendingConfChange
	ErrUnknownTransition              = core.ErrUnknownTransition
	ErrInvalidConfChange              = core.ErrInvalidConfChange
	ErrTransferRefused                = core.ErrTransferRefused
	ErrTransferInProgress             = core.ErrTransferInProgress
	ErrNotLeader                      = core.ErrNotLeader
	ErrTooManyPendingReads            = core.ErrTooManyPendingReads
	ErrReadAborted                    = core.ErrReadAborted
	ErrReadLagging                    = core.ErrReadLagging
	ErrInvalidConfig                  = core.ErrInvalidConfig
	ErrInvalidMessage                 = core.ErrInvalidMessage
	ErrInvalidSavedChunks             = core.ErrInvalidSavedChunks
	ErrStepLocalMsg                   = core.ErrStepLocalMsg
	ErrUnknownMessageType             = core.ErrUnknownMessageType
	ErrWrongRecipient                 = core.ErrWrongRecipient
	ErrCompacted                      = core.ErrCompacted
	ErrUnavailable                    = core.ErrUnavailable
	ErrSnapOutOfDate                  = core.ErrSnapOutOfDate
	ErrSnapshotTemporarilyUnavailable = core.ErrSnapshotTemporarilyUnavailable
	ErrNotAMember                     = core.ErrNotAMember
	ErrLearnerCannotCampaign          = core.ErrLearnerCannotCampaign
	ErrLeasePromised                  = core.ErrLeasePromised
	ErrLostLog                        = core.ErrLostLog
	ErrRecovering                     = core.ErrRecovering
	ErrStorageStalled                 = core.ErrStorageStalled
	ErrContractBroken                 = core.ErrContractBroken
	ErrMalformedEntries               = core.ErrMalformedEntries
	ErrCommittedConflict              = core.ErrCommittedConflict
)

// The errors of the membership math, wrapped by the errors of
// ProposeConfChange (inside ErrProposalDropped) and ApplyConfChange, and
// by NewRawNode or a snapshot whose ConfState is impossible
// (ErrInvalidMembership).
var (
	ErrRemovedAllVoters  = core.ErrRemovedAllVoters
	ErrTooManyVoters     = core.ErrTooManyVoters
	ErrAlreadyJoint      = core.ErrAlreadyJoint
	ErrNotJoint          = core.ErrNotJoint
	ErrZeroVoterJoint    = core.ErrZeroVoterJoint
	ErrVoterAndLearner   = core.ErrVoterAndLearner
	ErrUnknownChangeType = core.ErrUnknownChangeType
	ErrInvalidNodeID     = core.ErrInvalidNodeID
	ErrInvalidMembership = core.ErrInvalidMembership
)
