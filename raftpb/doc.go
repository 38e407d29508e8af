// Package raftpb holds tickraft's wire and persistence types as plain Go
// values, their binary codec and their one-line text forms.
//
// The types are value structs: a log is a []Entry and a batch of messages a
// []Message, never slices of pointers. Every type has Size, AppendMarshal,
// Marshal and Unmarshal. The bytes are the protobuf (proto2) wire format with
// the field numbers of the raft.proto that etcd's Raft library has shipped
// since 2015, so a log entry, hard state, snapshot or message written by
// either library decodes in the other, and for the same value the bytes are
// identical. The codec is written by hand: the package imports only the
// standard library and does no I/O.
//
// Decoding accepts fields in any order and skips unknown fields. Truncated or
// malformed input returns a *DecodeError naming the type and field; decoding
// never panics and never allocates more than the input could justify.
// Decoded byte fields (Entry.Data, Message.Context, Snapshot.Data and the
// Context of conf changes) alias the input buffer: the caller must not modify
// the buffer while the decoded value is in use, or must copy them.
//
// The String methods give compact, deterministic one-line forms, the same
// on every run, used by the transcripts of the protocol tests and handy in
// log lines ([DescribeEntries] joins a slice of entries):
//
//	entry        term/index Type data       3/11 EntryNormal "x"
//	conf entry   term/index Type changes    3/12 EntryConfChangeV2 v4 l5
//	message      from->to Type Term:t ...   1->2 MsgApp Term:3 Log:3/10 Commit:9 Entries:[3/11 EntryNormal "x"]
//	hard state   Term:t Vote:v Commit:c
//	conf state   Voters:[1 2 3] VotersOutgoing:[1 2] Learners:[4] LearnersNext:[3] AutoLeave:true
//	snapshot     Index:i Term:t ConfState:(...)
//	conf change  v1 l2 r3 u4 (add voter 1, add learner 2, remove 3, update 4)
//
// A message prints only the fields its type uses or that are set; a long
// payload is cut and the number of bytes left out is given.
//
// The chunked snapshot transfer's messages (MsgSnapOffer, MsgSnapChunkReq,
// MsgSnapChunk, MsgSnapChunkSaved, types 64 to 67) reuse Message's fields
// with meanings of their own, so that etcd peers see no field they do not
// know. Read and write them only through their typed views: [SnapshotOffer],
// [ChunkRequest], [Chunk] and [ChunkSaved], each with a Message method and a
// parser ([ParseChunk], ...) that refuses a malformed message with an error
// wrapping [ErrMalformedChunkMessage].
//
// Three marks of tickraft's ride on fields etcd raft sends but does not
// read for those types: a leader's heartbeat carries a [HeartbeatContext]
// that its answer echoes, and states in LogTerm the term of the entry at
// its Commit (etcd raft's leaders send 0, which states nothing); a
// follower's short-log report (a MsgAppResp rejection that echoes the
// context too, see [IsShortLogReport]) tells the leader the follower's
// storage lost entries it had acknowledged, or holds another term at
// that commit index.
//
// It is public API, imported beside the root package: messages, entries,
// snapshots and conf changes are raftpb values.
package raftpb
