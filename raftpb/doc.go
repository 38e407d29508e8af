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
// The String methods give compact, deterministic one-line forms used by the
// transcripts of the protocol tests; they are described in describe.go.
package raftpb
