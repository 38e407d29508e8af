// Package kvnode is the node of the example key-value server: a tickraft
// RawNode embedded with a write-ahead log on disk, snapshot files, a TCP
// transport and an HTTP API. It is meant to be read and copied: it shows
// everything an application around tickraft has to do, with the standard
// library alone. The server binary (tools/kvexample) and the demo
// (tools/demo) run it.
//
// # Threads
//
// One event loop goroutine (loop.go) owns the RawNode, the in-memory
// storage (raft.MemoryStorage, which is not safe for concurrent use), the
// state machine and every pending client request. It takes one input per
// turn: a tick of a time.Ticker, messages from the transport, requests from
// the HTTP handlers (over a bounded channel; a full channel answers busy),
// finished disk work, or peers the transport reported unreachable. Then it
// hands out every Ready (ready.go).
//
// In both storage modes the node runs through tools/raftloop, the
// repository's reference loop (readyloop.go): raftloop.Loop.HandleReady
// routes each Ready, persists it through a raftloop.Disk over the WAL and
// snapshot store, sends, applies and acknowledges, in the order of the
// contract. The node supplies the parts: the log, the transport, the
// key-value state.
//
// In the default asynchronous storage mode (raft.Config.AsyncStorageWrites,
// raft doc.go) a Ready carries only messages, and the reference loop
// routes them:
//
//   - to raft.LocalAppendThread (MsgStorageAppend): handed off
//     (raftloop.Config.HandOff) to the disk worker goroutine (disk.go),
//     which writes the snapshot, entries and hard state of every job
//     waiting to the log and fsyncs once for all of them (group commit:
//     one fsync for the writes of several Readys). Back on the loop, the
//     in-memory storage learns what is durable and raftloop.Loop.Completed
//     delivers the job's acknowledgements (its own through Step, append
//     responses and votes to peers), in the order the jobs were handed
//     off. Disk writes on every node thus run while the loop keeps
//     replicating.
//   - to raft.LocalApplyThread (MsgStorageApply): applied by the loop
//     (raftloop.Loop.RunApply; applying touches only memory), then
//     acknowledged through Step.
//   - to raft.LocalSnapshotThread: a chunk request (MsgSnapChunkReq) is
//     served from the snapshot in memory (raftloop.Loop.RunSnapshotWork); a
//     received chunk (MsgSnapChunk) is handed off to the disk worker like a
//     write, which saves it durably before its MsgSnapChunkSaved is
//     stepped.
//   - the rest to peers, through the transport.
//
// With Config.Sync the node runs the synchronous Ready/Advance loop
// instead: raftloop.Loop.HandleReady saves each Ready to the log and the
// in-memory storage, sends, fsyncs when the Ready says MustSync, applies
// and calls Advance; the snapshot worker's jobs (Ready.LocalMessages) are
// then done on the loop, chunks saved to the snapshot store before their
// acknowledgement is stepped. The node's snapshots of its own state are
// written off the loop in the asynchronous mode (snapshotter.go), inline
// in the synchronous one (apply.go).
//
// # Disk
//
// DataDir/wal holds the write-ahead log (package tools/wal, tickraft's
// supported log), DataDir/snap the snapshot files and the staged chunks of
// snapshots being received (package tools/wal/snapfile). The node keeps
// its own MemoryStorage rather than wal.Storage because it stages
// snapshots received in chunks and writes from a disk worker that syncs
// once for several Readys. On start the node replays them into a fresh
// MemoryStorage and state machine (recover.go); the entries after the
// snapshot are applied again. A new cluster is bootstrapped with a
// snapshot at index 1 holding the initial configuration, so that a member
// added later always starts from a snapshot and learns the configuration
// from it.
//
// Every member snapshots its state at each applied index that is a
// multiple of SnapshotInterval, with deterministic bytes (sorted keys), so
// that followers can serve chunks of the snapshot too
// (raft.Config.SnapshotInterval); the log is then compacted up to
// KeepEntries before the snapshot in memory; on disk, the log segments and
// snapshot files older than the previous snapshot are deleted (one older
// generation stays, in case the newest marker is lost to a torn tail). In
// the asynchronous mode the loop only copies the state's maps; a snapshot
// worker goroutine (snapshotter.go) serializes the copy and writes and
// fsyncs its file, and the loop compacts the log only once the file is
// durable. A snapshot due while the worker still writes the previous one
// is skipped, so a member may lack one that others hold; a fetcher then
// takes that chunk from another source.
//
// # Many groups
//
// StartHost (Config.Groups above one, the flag -groups N) runs a Host:
// the replicas, on this process, of N independent Raft groups, instead
// of one Node.
//
//   - Sharding. Key k belongs to group GroupOf(k, N): the 64-bit FNV-1a
//     hash of the key's bytes, modulo N, plus one (groups are numbered
//     from 1). A data directory records its N (GroupsFile) and a Host
//     refuses to start it with another (ErrGroupsChanged): every key
//     would move. The two modes refuse each other's data directories
//     (ErrGroupsChanged), and N is the transport's group layout, so
//     processes given different N refuse each other's connections.
//   - Replicas. A group is replicated on some of the processes of
//     Config.Peers (all of them, or GroupVoters, at first; each group's
//     configuration then changes on its own: "Per-group membership"
//     below), and the replica of every group on process P has
//     replica ID P (the replica-ID rule): a message of any group from P
//     to Q has From P and To Q, so the one connection between two
//     processes carries the messages of every group, each tagged with its
//     group.
//   - Shared: the event loop goroutine (hostloop.go), which ticks the
//     groups that are awake, steps each received message into its group
//     and runs rounds: the Readys of every group that took an input are
//     saved to the log (each group's node runs the reference loop,
//     tools/raftloop, with its Ready split in BeginReady and
//     FinishReady), their Messages sent in one call, the log written and
//     synced once for all of them, then each group's
//     MessagesAfterPersist sent, its entries applied and its node
//     advanced; the transport's connection between two processes, in
//     its group mode (transport.Config.Groups), on which the messages of
//     a round to one peer travel in one frame; the log, one tools/wal
//     log shared by every group (wal.OpenShared, in
//     DataDir/groups/wal), whose records name their group, written once
//     per round; the HTTP server.
//   - Not shared: everything Raft. Each group has its own RawNode, term,
//     leader, log, commit index, state machine (its keys and nothing
//     else), snapshots (every SnapshotInterval of its own entries, in
//     DataDir/groups/snap/<group>, after which the group releases its
//     entries from the shared log without rewriting other groups'
//     records; the shared log deletes a segment once no group needs a
//     record in it, so once it holds more than two segments the host
//     also snapshots, at each tick, the groups that keep the oldest
//     one (wal.SharedLog.Pinning), and a group that never reaches
//     SnapshotInterval does not keep the log growing) and configuration
//     changes. A restart replays
//     each group from its own records and snapshot. A group's snapshot travels whole
//     (MsgSnap; the chunked transfer is not used), so one group's state
//     must fit in MaxFrameBytes: shard a large data set over more groups.
//     MaxRecvMsgsPerSec bounds the messages of each group: a host's
//     transport takes that many times the number of groups from a peer.
//   - Sleep. Groups run with raft.Config.Quiesce (unless
//     Config.DisableQuiesce): a group whose leader put it to sleep leaves
//     the loop's list of groups ticked at every tick; the first input for
//     it (a message, a client's request) hands it the ticks it missed
//     with TickN before the input (raft doc.go, "Quiescence"). When the
//     transport reports a process unreachable (its connection closed, a
//     dial refused), the groups that process leads are told with
//     ReportPeerDown, each on one surviving process, a different one from
//     group to group, so that a group asleep when its leader died elects
//     another without its survivors splitting the vote.
//
// A Host's HTTP API is the key-value API above, each key routed to its
// group: a write to a group this process does not lead answers
// not_leader naming the HTTP address of that group's leader. GET /status
// is a HostStatus (totals over the groups held here, then each of them
// with its voters and learners, or one with ?group=N); /metrics has the
// totals (with the messages dropped before any group took them,
// host_messages_dropped_total; those a group's node refused,
// raft_messages_refused_total; the peer-down reports and the removed
// notices sent) and each group's gauges labelled group="N"; /healthz is
// as above. A request for a group this process holds no replica of answers
// not_leader with no leader named, and kvnode.Client asks another
// process.
//
// # Per-group membership
//
// Each group has its own configuration: a group may be replicated on a
// subset of the processes, and a process may be added to or removed from
// one group without touching the others. The processes that may ever
// hold a replica are those of Config.Peers (the transport knows no
// other), and the groups are the fixed layout 1..Groups. A new cluster
// starts every group on Config.GroupVoters (-group-voters; by default
// every process); a process not among them starts with no group. The
// first voters are recorded in GroupsFile, and a host restarted with
// others is refused (ErrGroupVotersChanged): it would bootstrap the groups
// it does not hold on a configuration no other process has. They are
// also part of the transport's group layout, so processes started with
// different ones refuse each other's connections. The
// admin endpoints, answered by the group's leader (elsewhere not_leader
// naming it) and guarded as the single-group ones:
//
//	POST   /groups/{g}/members              {"id": P}: add process P to group g as a learner.
//	POST   /groups/{g}/members/{id}/promote make the learner a voter of g.
//	DELETE /groups/{g}/members/{id}         remove the process from g.
//	POST   /groups/{g}/transfer             {"to": P}: hand g's leadership to P; answers once P leads g.
//
// They are checked against g's applied configuration with the
// single-group codes (409 already_member, 404 unknown_member, 409
// not_learner); a process that is not one of the cluster's is 400
// bad_request, and removing g's leader is 409 leader_removal: transfer
// its leadership first. Each change is one ConfChangeV2 of one change (no
// joint consensus), one at a time per group (a second while one is
// pending is busy). A successful answer means the change is applied on
// the leader, with its index.
//
// A process holds group g's replica (Host.HostsGroup, which is also the
// transport's Config.HostsGroup, read from its goroutines) from when it
// is created to when it is dropped:
//
//   - Created on demand. A message for a group of the layout with no
//     replica here, of a type only a leader sends (MsgApp, MsgSnap,
//     MsgHeartbeat; the transport delivers those even for groups not
//     hosted), from a process of Peers, creates an empty replica: no
//     configuration, an empty log, and the term and vote of the group's
//     tombstone if this process held it before (a message of a lower term
//     creates nothing). Without a configuration it cannot campaign (the
//     library refuses it with raft.ErrNotAMember). A replica re-created
//     over a tombstone lost the log it held, yet a member that has not
//     applied its removal still counts its vote: its empty log could elect
//     a candidate lacking entries it acknowledged. So it boots recovering
//     (raft.Config.Recovering; across restarts too, through its hard
//     state): it grants no vote until an entry of a newer term is durable
//     here. The leader's ordinary snapshot path catches it up (the
//     snapshot travels whole). It must be a snapshot: the group's first
//     configuration is the state its first voters bootstrapped with, in
//     no entry, so a replica caught up from entries would hold only the
//     changes after it (promoted, it could elect itself alone). The
//     library refuses such a replica entries until a snapshot gave it a
//     configuration, and its leader answers with its storage's snapshot;
//     so a member that applies a conf change adding a process while the
//     group holds no snapshot yet takes one, and whichever member leads
//     has one to send.
//   - Dropped once outside its configuration. Once the replica's
//     applied configuration does not hold its process and it has heard
//     from no leader of the group of a term at least its own for an
//     election timeout, the host drops it: a tombstone in the shared log
//     keeps its term and vote (wal.SharedLog.Drop), its entries and
//     snapshot directory go, and it leaves the hosted set, /status and
//     /metrics. Its waiting requests fail (a write's outcome is then
//     unknown). That covers a replica that applied its own removal, one
//     opened at a restart from a snapshot that covers its removal (a
//     crash before the drop), and an empty replica created on demand
//     that no snapshot followed (a learner removed before it caught up,
//     across restarts too). The wait is for a process being added: its
//     empty replica waits for the leader's snapshot, and a process added
//     back may catch up from a snapshot older than its old removal and
//     apply that removal on its way to the entry that added it again;
//     the leader keeps sending to it meanwhile (its configuration holds
//     the process; a leader waiting on a snapshot does not sleep), and
//     applying the addition ends the wait. A leader that applied the
//     removal sends nothing more, so a removed replica falls silent; a
//     stale leader's messages (an older term) do not keep it. A
//     replica re-created over a tombstone moved one term past it at boot
//     (recovering) without a vote: the leader of the tombstone's term
//     counts for it, and it waits three election timeouts, for its answer
//     of the newer term makes that leader step down and the group elect
//     another, which then sends to it. A message of a term below a
//     tombstone's creates nothing and is answered with the tombstone's
//     term (§5.1), so that a leader behind it steps down instead of
//     sending to it forever.
//   - Removed while down or cut off. A message for the group from a
//     process that the replica's applied configuration does not hold is
//     dropped and answered with a removed notice (transport.GroupMessage
//     with Removed = i, RemovedTerm = t, the replica's last applied
//     entry), unless it is a leader's append, heartbeat or snapshot of the
//     replica's term or above: a leader of a term was elected under a
//     configuration holding it, one this replica has not applied yet, and
//     the replica catches up from it. (i, t) is committed, and if the
//     sender was removed it is at or after its removal (the configuration
//     without it is applied); a member the replica does not know of yet
//     holds (i, t) or a snapshot past it, since it holds the entry that
//     added it, after i. No record of removals is needed, so a member
//     restarted since the removal tells the process all the same. The notices
//     received are handled after the round, when every group's log is
//     whole in its storage, and only from a member of the receiving
//     replica's applied configuration (any other process could name an
//     entry that drops a live voter's replica). A replica whose log
//     lacks (i, t), ending below i or holding another term at i, is
//     dropped: it never received its removal, or its log diverged
//     before it (a leader cut off while it appended entries the group
//     replaced). One that holds (i, t) learns that i is committed (the
//     host steps a rejected pre-vote answer naming it, from which the
//     node adopts a commit index whose entry it holds, §5.3 Log
//     Matching), applies its removal and goes as above. One whose
//     snapshot covers i already knows it committed; one added back since
//     holds (i, t) too, and its configuration holds it. Dropping is
//     safe because the removal is committed: the group's quorums no
//     longer count this replica; the entries it holds past a divergence
//     from a committed entry were never going to be committed (§5.4);
//     everything it holds below is committed; its term and vote live on
//     in the tombstone, so a replica added back starts from them and
//     never votes twice in a term (§5.2), and it boots recovering, so
//     its empty log lends no vote to a candidate lacking entries it
//     acknowledged.
//   - Restart. A dropped group is not opened again (a snapshot
//     directory a crash between its tombstone and the directory's
//     deletion left is deleted); a replica created on demand restarts
//     from its own records (its term and vote are saved with the host's
//     next write after its creation). groups.json and the layout are
//     unchanged.
//
// What it does not do: only members of the replica's own configuration
// are heard, so one whose every member of then was removed since is told
// by no one (its stale replica cannot win an election, the others'
// configurations do not hold it, and under leader stickiness it does not
// disturb the group). A process outside Peers can
// be added to no group without restarting every process with a longer
// Peers.
//
// # HTTP API
//
//	PUT    /kv/{key}          body: the value. Answers {"index": N} once applied here.
//	DELETE /kv/{key}          the same for a deletion.
//	GET    /kv/{key}          ?consistency=linearizable (default) | lease | local
//	                          &min_index=N (local). 404 with "found": false if unset.
//	POST   /members           {"id": 4, "raft": "host:port", "http": "host:port"}: add a learner (admin).
//	POST   /members/{id}/promote   make a learner a voter (admin).
//	DELETE /members/{id}      remove a member (admin).
//	POST   /leader            {"id": 2}: transfer leadership; answers once 2 leads (admin).
//	GET    /debug/pprof/...   net/http/pprof (admin).
//	GET    /status            Status as JSON, keys in snake_case.
//	GET    /metrics           Prometheus text format (below).
//	GET    /healthz           200 {"ok": true} while the process serves and its loop runs.
//	GET    /readyz            200 once a leader is known and the node has applied the
//	                          commit index it first saw with a leader after it started;
//	                          503 {"ok": false, "reason": "..."} before.
//
// Writes and membership changes are for the leader: a follower answers
// 503 not_leader with a Retry-After header and the leader's HTTP address
// (no forwarding). Reads are served by every node; see the Consistency
// constants for what each mode guarantees. Errors, 404 and 405 included,
// are an Error as JSON, whose code says what to do: not_leader (retry at
// "leader"), busy (retry later), timeout (the outcome of a write is
// unknown), stopped; the others (bad_request, key_too_large, the admin
// refusals) are not worth retrying.
//
// The admin endpoints need "Authorization: Bearer <Config.AdminToken>";
// without a token configured they answer 403 unless Config.InsecureAdmin
// is set. Membership changes are checked against the applied
// configuration: adding a member is 409 already_member, promoting a node
// that is not a learner 404 unknown_member (409 not_learner for a voter),
// removing a node that is not a member 404 unknown_member.
//
// # Metrics
//
// GET /metrics, /healthz and /readyz never wait for the event loop: the
// loop publishes a copy of its Raft state at every tick and role change
// (at most a tick old), and the counters are atomics updated where things
// happen (metrics.go). The families, all prefixed kvexample_:
//
//   - raft_term, raft_commit_index, raft_applied_index, raft_leader_id,
//     raft_state{state} (1 for the current role), raft_leader_changes_total,
//     raft_messages_refused_total (peer messages Step refused with a typed
//     error; nothing changed).
//   - proposals_refused_total{reason}, reads_refused_total{reason}: the
//     library's typed error as reason (not_leader, no_leader,
//     proposal_dropped, uncommitted_tail_full, too_many_pending_reads,
//     read_aborted, read_lagging, ...; overwritten for a write a new leader
//     replaced; other).
//   - raft_uncommitted_bytes, raft_uncommitted_entries,
//     raft_applying_bytes, raft_pending_reads, raft_local_reads,
//     raft_forwarded_reads, and on the leader raft_inflight_bytes{peer} and
//     raft_inflight_messages{peer}: the library's bounds in use
//     (raft.Status).
//   - ready_duration_seconds (handling one Ready) and
//     wal_fsync_duration_seconds (each fsync of the log): histograms.
//   - wal_writes_total: the Readys' writes saved to the log; divided by
//     wal_fsync_duration_seconds_count, the writes one fsync covers.
//   - wal_bytes, wal_segments: the log on disk.
//   - snapshots_sent_total, snapshots_installed_total,
//     snapshot_chunks_served_total, snapshot_chunks_saved_total.
//   - transport_{frames,bytes}_{sent,received}_total{peer},
//     transport_drops_total{peer}, transport_dial_failures_total{peer},
//     transport_refused_connections_total{peer} (peer 0: refused before
//     the hello named the sender).
package kvnode
