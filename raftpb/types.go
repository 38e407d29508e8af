package raftpb

// EntryType says how the Data of an Entry is to be read.
type EntryType int32

// The entry types, with the numbers of the wire format.
const (
	// EntryNormal carries application data (or nothing, for the empty entry
	// a new leader appends).
	EntryNormal EntryType = 0
	// EntryConfChange carries an encoded ConfChange.
	EntryConfChange EntryType = 1
	// EntryConfChangeV2 carries an encoded ConfChangeV2.
	EntryConfChangeV2 EntryType = 2
)

// Entry is one record of the replicated log.
type Entry struct {
	Term  uint64
	Index uint64
	Type  EntryType
	Data  []byte
}

// IsConfChange reports whether the entry carries a membership change of
// either form.
func (e *Entry) IsConfChange() bool {
	return e.Type == EntryConfChange || e.Type == EntryConfChangeV2
}

// PayloadSize is the number of application bytes the entry carries; the
// back-pressure limits of the protocol count this, not the encoded size.
func (e *Entry) PayloadSize() uint64 { return uint64(len(e.Data)) }

// HardState is what a node must persist before it answers a message that
// depends on it: its current term, its vote in that term and the highest
// index it knows to be committed.
type HardState struct {
	Term   uint64
	Vote   uint64
	Commit uint64
	// RecoveringTerm is set while the node recovers from a lost log: the
	// term it booted in when it began (see core's Config.Recovering), so
	// that a restart before it recovers resumes recovering even if the
	// application does not ask again. Zero otherwise. Field 100, ours:
	// etcd's HardState has no such field, and a storage that keeps a
	// HardState of etcd's type loses it (see MIGRATING.md).
	RecoveringTerm uint64
}

// IsEmpty reports whether h is the zero HardState.
func (h HardState) IsEmpty() bool { return h == HardState{} }

// ConfState is a membership configuration as stored in snapshots and
// returned by ApplyConfChange. Outside joint consensus VotersOutgoing and
// LearnersNext are empty.
type ConfState struct {
	// Voters are the voters of the (incoming) configuration.
	Voters []uint64
	// Learners receive the log but do not vote.
	Learners []uint64
	// VotersOutgoing are the voters of the outgoing configuration while
	// the group is in joint consensus.
	VotersOutgoing []uint64
	// LearnersNext are voters of the outgoing configuration that become
	// learners when the joint configuration is left.
	LearnersNext []uint64
	// AutoLeave reports whether the leader leaves the joint configuration
	// on its own once it is applied.
	AutoLeave bool
}

// SnapshotMetadata says which log prefix a snapshot replaces and the
// configuration in force at its last index.
type SnapshotMetadata struct {
	ConfState ConfState
	Index     uint64
	Term      uint64
}

// Snapshot is the application's state at Metadata.Index, standing in for the
// log prefix up to and including that index.
type Snapshot struct {
	Data     []byte
	Metadata SnapshotMetadata
}

// IsEmpty reports whether the snapshot is the empty snapshot (index 0).
func (s *Snapshot) IsEmpty() bool { return s == nil || s.Metadata.Index == 0 }
