package raftpb

// MessageType names what a Message is for.
type MessageType int32

// The message types, with the numbers of the wire format. Types of tickraft's
// own take numbers from 64 up.
const (
	MsgHup               MessageType = 0  // local: start an election
	MsgBeat              MessageType = 1  // local: the leader should send heartbeats
	MsgProp              MessageType = 2  // a proposal, local or forwarded to the leader
	MsgApp               MessageType = 3  // leader to follower: append entries
	MsgAppResp           MessageType = 4  // follower to leader: append accepted or rejected
	MsgVote              MessageType = 5  // candidate to voter: request a vote
	MsgVoteResp          MessageType = 6  // voter to candidate
	MsgSnap              MessageType = 7  // leader to follower: install a snapshot
	MsgHeartbeat         MessageType = 8  // leader to follower
	MsgHeartbeatResp     MessageType = 9  // follower to leader
	MsgUnreachable       MessageType = 10 // local: a peer could not be reached
	MsgSnapStatus        MessageType = 11 // local: a snapshot send finished or failed
	MsgCheckQuorum       MessageType = 12 // local: the leader should check its quorum
	MsgTransferLeader    MessageType = 13 // hand leadership to From
	MsgTimeoutNow        MessageType = 14 // leader to transferee: campaign now
	MsgReadIndex         MessageType = 15 // a linearizable read request
	MsgReadIndexResp     MessageType = 16 // leader to follower: the read index
	MsgPreVote           MessageType = 17 // pre-candidate to voter
	MsgPreVoteResp       MessageType = 18 // voter to pre-candidate
	MsgStorageAppend     MessageType = 19 // node to its append worker
	MsgStorageAppendResp MessageType = 20 // append worker to node: durable
	MsgStorageApply      MessageType = 21 // node to its apply worker
	MsgStorageApplyResp  MessageType = 22 // apply worker to node: applied
	MsgForgetLeader      MessageType = 23 // local: forget the current leader

	// tickraft's chunked snapshot transfer. The numbers leave room for
	// types etcd's raft.proto may add after 23; a peer running etcd raft
	// never receives them, because chunked transfer is off unless
	// Config.SnapshotChunkSize is set on every member.
	MsgSnapOffer      MessageType = 64 // leader to follower: fetch this snapshot in chunks
	MsgSnapChunkReq   MessageType = 65 // receiver to source: send me chunk Commit
	MsgSnapChunk      MessageType = 66 // source to receiver: the chunk's bytes (Context)
	MsgSnapChunkSaved MessageType = 67 // local: the snapshot worker persisted a chunk

	// tickraft's quiescence (Config.Quiesce, off unless set on every
	// member): the leader of an idle group asks its followers to stop
	// expecting heartbeats. Neither is ever sent while quiescence is off.
	MsgQuiesce     MessageType = 68 // leader to follower: the group is idle at this point; sleep
	MsgQuiesceResp MessageType = 69 // follower to leader: asleep, or awake and why
)

// The snapshot chunk messages use the envelope's fields as follows:
//
//	MsgSnapOffer     Term: the leader's. Snapshot: the snapshot's metadata,
//	                 no data. Index: the number of chunks. RejectHint: the
//	                 chunk size in bytes. Context: the IDs of the members
//	                 that can serve chunks (see EncodeSources).
//	MsgSnapChunkReq  Term: 0 (chunks are committed data, the same whoever
//	                 serves them). LogTerm/Index: the snapshot's term and
//	                 index. Commit: the chunk number. RejectHint: the chunk
//	                 size. Between a node and its snapshot worker, Responses
//	                 holds the MsgSnapChunk to fill in and send.
//	MsgSnapChunk     Term: 0. LogTerm/Index/Commit as in the request.
//	                 Context: the chunk's bytes. Reject: the source cannot
//	                 serve it, RejectHint one of the ChunkRefusal values.
//	                 Between a node and its snapshot worker, Responses holds
//	                 the MsgSnapChunkSaved to deliver once the chunk is durable.
//	MsgSnapChunkSaved LogTerm/Index/Commit: the chunk that is now durable.
//
// The quiescence messages use the envelope's fields as follows:
//
//	MsgQuiesce       Term: the leader's. LogTerm/Index: the leader's last
//	                 entry. Commit: its commit index.
//	MsgQuiesceResp   Term: the follower's. LogTerm/Index: its last entry.
//	                 Commit: its commit index. Reject: it stays awake (its
//	                 log or commit index differs, it has work under way,
//	                 or it woke up).

// Message is the one envelope for everything a node receives or emits:
// peer traffic, local triggers, proposals and storage work in the
// asynchronous mode.
type Message struct {
	Type MessageType
	To   uint64
	From uint64
	Term uint64
	// LogTerm is the term of the entry at Index: in MsgApp the entry just
	// before Entries; in votes the candidate's last entry; in a rejecting
	// MsgAppResp the follower's term at RejectHint. In MsgHeartbeat it is
	// the term of the entry at Commit, the index the heartbeat carries
	// (Index is 0): a tickraft follower takes the commit index only if it
	// holds that entry with that term, and otherwise answers with a
	// short-log report (IsShortLogReport). 0 states no term, and the
	// follower checks only that Commit is within its log: etcd raft's
	// leaders send 0 and its followers ignore the field. A tickraft leader
	// that cannot tell the term (compacted) sends Commit 0 instead.
	LogTerm uint64
	Index   uint64
	Entries []Entry
	Commit  uint64
	// Vote is the voter a MsgStorageAppend persists in its HardState.
	Vote uint64
	// Snapshot is set only on messages that carry one.
	Snapshot   *Snapshot
	Reject     bool
	RejectHint uint64
	Context    []byte
	// Responses are the messages a storage worker sends once its work is
	// done (asynchronous storage mode).
	Responses []Message
}

// IsLocalMsg reports whether t is only valid from the local node (a
// trigger, a report or storage traffic) and must be refused from the network.
func IsLocalMsg(t MessageType) bool {
	switch t {
	case MsgHup, MsgBeat, MsgUnreachable, MsgSnapStatus, MsgCheckQuorum,
		MsgStorageAppend, MsgStorageAppendResp, MsgStorageApply,
		MsgStorageApplyResp, MsgForgetLeader, MsgSnapChunkSaved:
		return true
	}
	return false
}

// IsResponseMsg reports whether t answers an earlier message.
func IsResponseMsg(t MessageType) bool {
	switch t {
	case MsgAppResp, MsgVoteResp, MsgHeartbeatResp, MsgUnreachable,
		MsgReadIndexResp, MsgPreVoteResp, MsgStorageAppendResp,
		MsgStorageApplyResp, MsgSnapChunk, MsgSnapChunkSaved, MsgQuiesceResp:
		return true
	}
	return false
}

// IsStorageMsg reports whether t is traffic between a node and its storage
// workers.
func IsStorageMsg(t MessageType) bool {
	return t >= MsgStorageAppend && t <= MsgStorageApplyResp
}

// VoteRespType returns the response type of a vote request type: MsgVoteResp
// for MsgVote and MsgPreVoteResp for MsgPreVote.
func VoteRespType(t MessageType) MessageType {
	if t == MsgPreVote {
		return MsgPreVoteResp
	}
	return MsgVoteResp
}
