// Package transport carries raftpb.Messages between the nodes of the
// example key-value server over TCP. Without [Config.TLS] it authenticates
// nobody and encrypts nothing, which suits loopback and trusted networks
// only (New logs a warning); with it, every connection is mutual TLS and
// the sender a hello claims must be the node its certificate names (see
// Identity).
//
// A [Transport] listens on one address, keeps one outgoing connection per
// peer and accepts one or more incoming connections from each peer. It never
// interprets a message beyond checking that it fits the connection it came
// on; it is the node's event loop that steps it into a RawNode.
//
// # Contract
//
//   - [Transport.Send] never blocks. Each peer has a bounded queue (by message
//     count and by bytes, [Config.MaxQueueMsgs] and [Config.MaxQueueBytes]);
//     a message that does not fit, or that is addressed to a node that is not
//     a peer, is dropped, counted in [Stats.Drops] and reported through
//     [Config.Unreachable]. Raft retransmits, so a dropped message costs time,
//     never safety.
//   - Send retains the messages it queues until they are written, with copies
//     of their Entry values (a RawNode configured with ReuseEntryArrays takes
//     back the arrays behind the entries it sends after its next Advance):
//     the payloads, snapshot data and
//     context they reference must not be modified afterwards. The Messages of
//     a RawNode's Ready satisfy this. SendGroups keeps no copies: its caller
//     hands it messages whose entries stay as they are until written.
//   - Received messages are delivered, in the order they were sent on each
//     connection, on the channel returned by [Transport.Receive], whose
//     capacity is [Config.RecvBufferMsgs]. Each delivered message belongs to
//     the receiver: it was decoded from a buffer allocated for its frame
//     alone, to which its byte fields (entry data, snapshot data, context)
//     point, and nothing else refers to that buffer. When the channel is full
//     the reading goroutines wait, which pushes back on the senders through
//     TCP; the channel is never closed.
//   - A connection whose bytes are malformed (see Framing) is closed and
//     counted in [Stats.DecodeErrors]; nothing a peer sends can crash the
//     transport or stop it serving its other connections.
//   - Per link, messages arrive in order and without duplicates, but any
//     suffix of them may be lost when a connection breaks, a queue overflows
//     or a transport closes.
//   - [Transport.Close] is abrupt: it closes every socket at once, discards
//     queued and buffered messages without flushing them, waits for every
//     goroutine of the transport to return, and returns. The example server
//     uses it both for a clean stop and to kill a node in the demo.
//
// # Framing
//
// An outgoing connection starts with a hello of [HelloBytes] bytes: the
// four bytes "tkr\x02" (a magic number and the format version), then the
// sender's node ID, the intended recipient's node ID and the token of the
// cluster's ID ([ClusterToken], zero for none), each as an 8-byte
// big-endian integer. The receiver refuses a hello with another magic, a
// zero or its own ID as sender, a recipient other than itself, or another
// cluster's token.
//
// Then come frames, each a 4-byte big-endian length n followed by n bytes:
// one raftpb.Message in raftpb's wire encoding (Message.AppendMarshal on the
// way out, Message.Unmarshal on the way in). A length above
// [Config.MaxFrameBytes] is refused before anything is allocated for it, and
// the buffer of a frame grows only as its bytes arrive, so a lying length
// prefix cannot make the receiver allocate more than the bytes it actually
// received (plus a small constant). A frame that does not decode, or whose
// message does not come from the hello's sender, is not addressed to the
// receiver, or has a type that is only valid locally (raftpb.IsLocalMsg), is
// malformed. Nothing is sent back on a connection but, to a node this one
// applied the removal of ([Config.RemovedAt]), a removed notice of
// [RemovedNoticeBytes] bytes ("tkrX" and the index of the removal) right
// after its hello, before the connection is closed; the dialer hands the
// index to [Config.ToldRemoved].
//
// # Identity
//
// With [Config.TLS] each node's certificate, signed by the cluster's CAs,
// names it with one URI SAN tickraft://<cluster>/<id> ([NodeURI]). An
// incoming connection must complete a TLS 1.3 handshake with such a
// certificate within [Config.HelloTimeout], and its hello's sender must be
// the node the certificate names in this cluster: a member's certificate
// cannot send as another member, and a stranger without one cannot send at
// all. Such connections are closed and counted in [Stats.IdentityErrors].
// An outgoing connection verifies that the server's certificate names the
// peer dialed. Any valid certificate of the cluster may connect: a
// follower must accept a new leader it has not yet learned is a member.
//
// # Bounds
//
// What a stranger who can reach the listen port can make the transport
// hold or do is bounded: at most [Config.MaxInboundConns] incoming
// connections are open at once (one more is closed at accept and counted
// in [Stats.RejectedConns]); a connection must send its hello within
// [Config.HelloTimeout] and then each frame, whole, within
// [Config.FrameTimeout] of the previous one (a live peer sends heartbeats
// far more often); what one connection buffers is its 64 KiB read buffer
// and at most one frame of [Config.MaxFrameBytes], released when it
// closes; and the connections of one peer ID deliver at most
// [Config.MaxRecvMsgsPerSec] messages per second to Receive (a token
// bucket with a burst of as many), the rest being read, dropped and
// counted in [Stats.RateDrops].
//
// # Multi-group mode
//
// With [Config.Groups] the transport serves a process that hosts many Raft
// groups, every one replicated on the same processes: one connection per
// pair of processes carries the messages of every group, tagged with their
// group ID in the transport's framing (raftpb's wire types are unchanged).
// [Transport.SendGroups] and [Transport.SendGroup] replace Send, and
// [Transport.ReceiveGroups] replaces Receive; the calls of the other mode
// drop their messages, counted.
//
// Replica IDs are process IDs: in multi-group mode every group's replica
// on process P has replica ID P, the process's node ID ([Config.ID], the
// ID its hello claims and its certificate names). So the rule of a
// single-group connection holds for every group: a message's From must be
// the connection's authenticated sender and its To the receiver, whatever
// its group. SendGroups drops, and logs, a message whose From is not the
// local ID; a receiver refuses a frame holding one. A group's membership
// is thus a set of processes, and [Config.Unreachable] reports a process,
// which the application reports unreachable in every group it shares
// with it.
//
// A multi-group connection opens with the same hello as a single-group
// one but the magic "tkr\x03" (format version 3). Each mode refuses the
// other's hello with an error wrapping [ErrGroupMode], and counts it in
// [Stats.GroupModeErrors], so that a cluster of mixed modes fails loudly
// instead of misreading frames. In multi-group mode the hello's token
// also covers [Config.GroupLayout] (see [GroupsToken]): processes that lay
// their keys out over the groups differently refuse each other, as
// processes of different clusters do ([ErrIdentity]).
//
// Then come frames, each a 4-byte big-endian length n followed by n bytes,
// a batch: the number of messages it carries as an unsigned varint (at
// least 1, at most [MaxBatchMsgs]) and that many records in the order they
// were queued. A record opens with a kind byte and the group ID as a
// varint; kind 1 then holds the length of a message's raftpb encoding as
// a varint and the encoding. Heartbeats of all groups are coalesced:
// kind 2 is a MsgHeartbeat as its Term, Term minus its LogTerm (the term
// its leader states for the commit index, never above Term: one byte, 0,
// in steady state), Commit and Context, kind 3 a MsgHeartbeatResp as its
// Term and Context, From and To being the connection's sender and
// receiver. Those are all the fields the core sends and reads in them; a
// heartbeat that sets any other field, or a LogTerm above its Term,
// travels as kind 1. The Context opens with a varint c: 0 is nil, 1 a
// raftpb.HeartbeatContext (read round and lease tick) as two varints, and
// c >= 2 is c-2 raw bytes, so that a receiver rebuilds every heartbeat
// exactly as it was sent (a nil Context stays nil, an empty one empty),
// in 10 bytes for a heartbeat and 7 for a response where their raftpb
// encodings take 39 and 38 (term 7, commit 12,346, a read round and tick
// of two bytes or less: TestHeartbeatsAreCoalescedIntoACompactForm). Kind
// 4 is a removed notice ([GroupMessage].Removed: the receiver's replica of
// the group was removed from the group's configuration): the index and
// the term of a committed entry at or after the removal as varints,
// neither zero, then, as kind 1, the length and raftpb encoding of a
// message holding From and To alone. A batch must hold
// exactly as many records as it claims and no byte more, every record
// must decode (a heartbeat whose LogTerm would lie below 0 does not), and
// every message must fit its connection as above: otherwise the whole
// frame is refused with an error wrapping [ErrMalformed] (and
// [ErrBatchCount], [ErrBatchTruncated], [ErrBatchRecord] or
// [ErrBatchMisaddressed]), the
// connection is closed, counted in [Stats.DecodeErrors], and nothing of
// that frame is delivered. [DecodeBatch] is that decoder. The messages of
// a batch for a group this process does not host ([Config.HostsGroup],
// asked per message as the batch is delivered) are dropped and counted in
// [Stats.UnhostedDrops], the rest delivered, removed notices always, and
// MsgApp, MsgSnap and MsgHeartbeat too (only a group's leader sends them,
// and they may make the receiver create its replica): a
// group's creation and removal race between processes in normal
// operation, and closing the shared connection would stall every other
// group.
//
// Batching: a peer's writer takes everything queued for it since its last
// write and writes it as one frame, then flushes; messages queued
// meanwhile wait for the next frame. A frame is split only to keep within
// [Config.MaxFrameBytes] and MaxBatchMsgs. The messages of one SendGroups
// call to one process are queued together, so they are never split
// between frames but by those bounds. Queues are bounded per peer by
// count and bytes as in single-group mode, and each received batch is one
// slice on ReceiveGroups, whose capacity ([Config.RecvBufferMsgs]) is then
// counted in batches; a full channel pushes back through TCP. The receive
// rate bound counts messages, a batch being delivered or dropped whole.
// [Stats.MsgsSent] / [Stats.FramesSent] is the messages per frame.
//
// # Reconnection
//
// A peer's writer goroutine dials only when it has something to send. When a
// dial fails or a connection breaks, it reports the peer unreachable and
// waits before dialing again: the wait starts at [Config.MinBackoff], doubles
// on each consecutive failure up to [Config.MaxBackoff], and is jittered
// (uniform in its upper half) from a per-peer math/rand/v2 PCG seeded with
// [Config.Seed] and the peer's ID. Messages keep queueing meanwhile and are
// dropped, with a report, once the queue is full.
package transport
