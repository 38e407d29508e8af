package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// The IDs of the local storage workers in the asynchronous storage mode.
// Messages addressed to them never leave the node.
const (
	// LocalAppendThread is the worker that persists entries, hard state
	// and snapshots, then delivers the responses it was handed.
	LocalAppendThread uint64 = ^uint64(0)
	// LocalApplyThread is the worker that applies committed entries, then
	// delivers the responses it was handed.
	LocalApplyThread uint64 = ^uint64(0) - 1
)

// asyncReady turns the storage work of rd into messages for the workers
// (Config.AsyncStorageWrites): a MsgStorageAppend carrying the entries,
// hard state and snapshot to persist, whose Responses (the acknowledgements
// that wait for durability, and the node's own MsgStorageAppendResp) the
// append worker delivers once the write is durable; a MsgStorageApply
// carrying a snapshot that has become durable, to install in the state
// machine; and a MsgStorageApply carrying the committed entries. The apply
// worker delivers each MsgStorageApplyResp once the work is applied.
// Several writes may be outstanding at once; each worker handles its
// messages in order, and the two workers need no order between them.
func (r *Raft) asyncReady(rd *Ready, afterPersist []raftpb.Message) {
	if needsStorageAppend(rd, afterPersist) {
		m := raftpb.Message{
			Type: raftpb.MsgStorageAppend, To: LocalAppendThread, From: r.id,
			Entries: rd.Entries, Responses: afterPersist,
		}
		if !rd.HardState.IsEmpty() {
			m.SetStorageAppendHardState(rd.HardState)
		}
		if !rd.Snapshot.IsEmpty() {
			snap := rd.Snapshot
			m.Snapshot = &snap
		}
		m.Responses = append(m.Responses, r.storageAppendAck(rd))
		rd.Messages = append(rd.Messages, m)
	}
	if snap := r.snapToApply(); snap != nil {
		r.snapshotHandedOut()
		ack := raftpb.Message{
			Type: raftpb.MsgStorageApplyResp, To: r.id, From: LocalApplyThread, Index: snap.Metadata.Index,
			Snapshot: &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: snap.Metadata.Index, Term: snap.Metadata.Term}},
		}
		rd.Messages = append(rd.Messages, raftpb.Message{
			Type: raftpb.MsgStorageApply, To: LocalApplyThread, From: r.id,
			Snapshot: snap, Responses: []raftpb.Message{ack},
		})
	}
	if n := len(rd.CommittedEntries); n > 0 {
		ack := raftpb.Message{
			Type: raftpb.MsgStorageApplyResp, To: r.id, From: LocalApplyThread,
			Index: rd.CommittedEntries[n-1].Index, Commit: payloadSize(rd.CommittedEntries),
		}
		rd.Messages = append(rd.Messages, raftpb.Message{
			Type: raftpb.MsgStorageApply, To: LocalApplyThread, From: r.id,
			Entries: rd.CommittedEntries, Responses: []raftpb.Message{ack},
		})
	}
	rd.Entries, rd.Snapshot, rd.CommittedEntries, rd.HardState = nil, raftpb.Snapshot{}, nil, raftpb.HardState{}
	rd.MessagesAfterPersist = nil
}

func needsStorageAppend(rd *Ready, afterPersist []raftpb.Message) bool {
	return len(rd.Entries) > 0 || !rd.HardState.IsEmpty() || !rd.Snapshot.IsEmpty() || len(afterPersist) > 0
}

// storageAppendAck is the node's own acknowledgement of a write: it names
// the last entry written with its term, so that an acknowledgement arriving
// after a new leader overwrote those entries acknowledges nothing.
func (r *Raft) storageAppendAck(rd *Ready) raftpb.Message {
	ack := raftpb.Message{Type: raftpb.MsgStorageAppendResp, To: r.id, From: LocalAppendThread}
	if n := len(rd.Entries); n > 0 {
		ack.Index, ack.LogTerm = rd.Entries[n-1].Index, rd.Entries[n-1].Term
	}
	if !rd.Snapshot.IsEmpty() {
		ack.Snapshot = &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: rd.Snapshot.Metadata.Index, Term: rd.Snapshot.Metadata.Term}}
	}
	return ack
}

// isOwnVoteViaWorker reports whether m is this node's own vote, which the
// append worker delivers once the vote is durable (asynchronous mode).
func (r *Raft) isOwnVoteViaWorker(m raftpb.Message) bool {
	return r.settings.asyncStorage && m.To == r.id &&
		(m.Type == raftpb.MsgVoteResp || m.Type == raftpb.MsgPreVoteResp)
}

// validateLocalWorkerMessage accepts, through Step, only the
// acknowledgements of the local storage workers, and only in the
// asynchronous mode.
func (r *Raft) validateLocalWorkerMessage(m raftpb.Message) error {
	switch {
	case !r.settings.asyncStorage:
		return fmt.Errorf("%w: %s outside the asynchronous storage mode", ErrStepLocalMsg, m.Type)
	case m.Type == raftpb.MsgStorageAppendResp && m.From == LocalAppendThread,
		m.Type == raftpb.MsgStorageApplyResp && m.From == LocalApplyThread:
		if m.To != r.id {
			return fmt.Errorf("%w: to %d, this node is %d", ErrWrongRecipient, m.To, r.id)
		}
		if m.Type == raftpb.MsgStorageAppendResp {
			return r.verifyStorageAck(m)
		}
		return nil
	}
	return fmt.Errorf("%w: %s from %d", ErrStepLocalMsg, m.Type, m.From)
}
