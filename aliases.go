package raft

import (
	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
)

// The names a basic embedding needs, re-exported so that it imports only
// raft and raftpb. Each is documented where it is defined, in package core.
type (
	// Config holds what a node needs to start; see core.Config.
	Config = core.Config
	// ConfigError names a wrong Config field.
	ConfigError = core.ConfigError
	// Storage is where a node reads its persisted state; see core.Storage.
	Storage = core.Storage
	// MemoryStorage is an in-memory Storage for tests and simple embeddings.
	MemoryStorage = core.MemoryStorage
	// Ready is a batch of work for the application; see core.Ready.
	Ready = core.Ready
	// SoftState is the leader and role of a node.
	SoftState = core.SoftState
	// StateType is a node's role.
	StateType = core.StateType
	// BasicStatus is the cheap status of a node.
	BasicStatus = core.BasicStatus
	// Status is the full status of a node.
	Status = core.Status
	// Logger receives a node's log lines.
	Logger = core.Logger
	// ReadState is a released read.
	ReadState = core.ReadState
	// LaggingError is the error of a local read that timed out.
	LaggingError = core.LaggingError
	// SnapshotFetch is the progress of a chunked snapshot transfer.
	SnapshotFetch = core.SnapshotFetch
)

// The roles of a node.
const (
	StateFollower     = core.StateFollower
	StateCandidate    = core.StateCandidate
	StateLeader       = core.StateLeader
	StatePreCandidate = core.StatePreCandidate
)

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
	ErrStepLocalMsg                   = core.ErrStepLocalMsg
	ErrUnknownMessageType             = core.ErrUnknownMessageType
	ErrWrongRecipient                 = core.ErrWrongRecipient
	ErrCompacted                      = core.ErrCompacted
	ErrUnavailable                    = core.ErrUnavailable
	ErrSnapOutOfDate                  = core.ErrSnapOutOfDate
	ErrSnapshotTemporarilyUnavailable = core.ErrSnapshotTemporarilyUnavailable
)
