// Package rafttest is the interaction harness behind the protocol
// transcripts: an [Env] holds a cluster of in-memory nodes, each a
// raft.RawNode over a raft.MemoryStorage with the entries it applied, a
// network that queues messages per recipient, and a partition. Tests drive
// it through its methods; transcripts drive it through [Env.Handle], one
// command per block.
//
// The harness is deterministic: nodes are seeded with their ID unless
// [NodeOptions.Seed] says otherwise, everything is visited in ID order,
// and nothing reads a clock or draws unseeded randomness. Each node runs
// in tools/raftloop, the reference Ready loop, over the harness's storage,
// network and state machine; the harness describes what the loop does.
// It plays a synchronous application: [Env.ProcessReady] persists, sends,
// applies and advances in one step, unless a node uses the asynchronous
// storage mode (see below). The state machine of a node is durable only through
// snapshots: after [Env.Crash] and [Env.Restart] a node restarts from its
// storage's snapshot and re-applies the committed entries after it.
//
// Output is typed state, printed through the String forms of raftpb and
// tracker and the fixed formats below, never the library's log lines, so
// that log wording can change without touching a transcript.
//
// # A processed Ready
//
// One header line names the node, then one indented line per item, in the
// order the application handles them:
//
//	ready 1
//	  role: StateLeader lead=1                 the role or leader changed
//	  hard: Term:2 Vote:1 Commit:5             the HardState to persist
//	  snapshot: Index:9 Term:2 ConfState:(..)  the snapshot to persist and apply
//	  append: 2/6 EntryNormal "x"              an entry to persist, one per line
//	  send: 1->2 MsgApp Term:2 Log:2/5 ...     a message that may leave at once
//	  send-after-persist: 2->1 MsgAppResp ...  a message that waits for the write
//	  send: 1->3 MsgApp ... (lost: partition)  a message the partition swallows
//	  apply: 2/5 EntryNormal "w"               a committed entry, applied
//	  conf: Voters:[1 2 3] Learners:[4]        the configuration a conf change made
//	  conf refused: ...                        ApplyConfChange refused the change
//	  error: ...                               the storage refused a write
//	  read: idx=5 ctx="r1"                     a released read (ReadState)
//	  read: ctx="r1" err=...                   a read released with its error
//
// A node with nothing to do prints "ready 1: nothing", and one whose
// HasReady reported work in a Ready that holds none prints "ready 1: empty". Messages to the node
// itself (its own vote, the acknowledgement of its own write) never leave
// it: the library steps them on Advance, so they are not shown.
//
// # Asynchronous storage
//
// A node added with async-storage=true runs with
// Config.AsyncStorageWrites. Its Ready shows only its role, messages and
// reads: the storage work is in the messages to its two workers, which the
// harness queues on the node instead of the network (the workers' IDs,
// raft.LocalAppendThread and raft.LocalApplyThread, print as
// "append-thread" and "apply-thread"):
//
//	ready 2
//	  send: 2->1 MsgHeartbeatResp ...          a message that leaves at once
//	  to-append-thread: 2->append-thread MsgStorageAppend ... Responses:[..]
//	  to-apply-thread: 2->apply-thread MsgStorageApply ... Responses:[..]
//
// process-append-thread completes the oldest queued write, then delivers
// its Responses; process-apply-thread does the same for the oldest apply:
//
//	append-thread 2
//	  snapshot: ...                            persisted and applied
//	  append: 1/2 EntryNormal "x"              persisted, one per entry
//	  hard: Term:1 Vote:1 Commit:2             persisted (Term/Vote/Commit)
//	  send: 2->1 MsgAppResp ...                a response for a peer
//	  step: append-thread->2 MsgStorageAppendResp ...
//	                                           a response stepped into the node
//	apply-thread 2
//	  apply: 1/2 EntryNormal "x"               applied, as in a Ready
//	  step: apply-thread->2 MsgStorageApplyResp ...
//
// A worker with nothing queued prints "append-thread 2: nothing". A crash
// loses the writes and applies still queued: they never reach storage.
//
// # Delivered messages
//
//	deliver 2
//	  1->2 MsgApp Term:2 Log:2/5 Commit:5 Entries:[2/6 EntryNormal "x"]
//	  error: raft: invalid message: ...        Step refused the message above
//	  dropped: 3->2 MsgVote Term:3 Log:1/4     lost: filtered, partitioned, or
//	                                           the recipient is down
//
// A recipient with no queued message prints nothing.
//
// # Commands
//
// The commands are named as in other Go Raft harnesses, so that scripts
// read the same; their output is this package's. Node IDs are bare
// numbers. A refusal by the library is printed as "error: ...".
//
//	add-nodes N [voters=(1,2,3)] [learners=(4)] [index=I] [prevote=true]
//	    [checkquorum=true] [election-tick=10] [heartbeat-tick=1]
//	    [max-size-per-msg=B] [max-inflight-msgs=M] [seed=S]
//	    [keep-leader-after-removal=false] [lease-reads=true]
//	    [async-storage=true] [max-inflight-bytes=B] [max-uncommitted-size=B]
//	    [max-uncommitted-entries=N] [max-committed-per-ready=N]
//	    [max-committed-size-per-ready=B] [quiesce=true]
//	                      add N nodes with the next IDs (AddNodes); prints
//	                      each node's hard state, last index, applied index
//	                      and configuration. prevote and checkquorum default
//	                      to the library's default: on. The nodes boot
//	                      from voters= and learners= alone, whatever the
//	                      running nodes have applied since. A node that
//	                      joins later boots with an empty log and either no
//	                      configuration ("add-nodes 1": it then needs a
//	                      snapshot, as the log before it lacks the initial
//	                      configuration) or the group's configuration
//	                      before the change that adds it ("add-nodes 1
//	                      voters=(1,2,3)": it replays the leader's log from
//	                      index 1). While it is no voter of its own
//	                      configuration it cannot campaign; it becomes one
//	                      by applying the change that adds it.
//	                      keep-leader-after-removal=true sets
//	                      Config.KeepLeaderAfterRemoval; lease-reads=true
//	                      Config.LeaseReads; async-storage=true
//	                      Config.AsyncStorageWrites; the max- options the
//	                      Config bounds MaxInflightBytes,
//	                      MaxUncommittedEntriesSize, MaxUncommittedEntries
//	                      and MaxCommittedEntriesPerReady, and
//	                      max-committed-size-per-ready=B
//	                      MaxCommittedSizePerReady (payload bytes, as in
//	                      etcd raft); quiesce=true Config.Quiesce. index=I boots from a snapshot at I
//	                      of term 1, and the node takes that term: its
//	                      first election is at term 2, where etcd raft's
//	                      harness boots at term 0 and elects at term 1.
//	                      See "etcd raft's names" below for the other
//	                      spellings accepted.
//	campaign ID           start an election now
//	propose ID VALUE      propose VALUE; prints "proposed at term/index" on
//	                      the leader and "forwarded" on a follower
//	propose-conf-change ID [transition=auto|joint-implicit|joint-explicit|implicit|explicit] [v1=true]
//	v2 l3 r1              the changes, one input line in the notation of
//	                      confchange.ParseConfChanges; v1=true proposes the
//	                      single-change form (one change)
//	tick-election ID...   let an election timeout pass on each node in turn
//	                      (see Env.TickElection)
//	tick-heartbeat ID...  tick each node HeartbeatTick times, in turn
//	tick ID... n=N        hand each node N ticks at once (TickN), as a
//	                      host that skipped a quiesced node's ticks does
//	                      when it wakes it
//	deliver-msgs [ID...] [drop=(2,3)] [type=MsgApp]
//	                      deliver the messages queued for each ID in turn
//	                      (for every node without ID); drop= loses those from the senders
//	                      listed, type= delivers only those types and keeps
//	                      the others queued
//	process-ready ID...   handle one Ready of each node
//	process-append-thread ID...
//	                      complete the oldest queued write of each
//	                      asynchronous node and deliver its responses
//	process-apply-thread ID...
//	                      complete the oldest queued apply of each
//	                      asynchronous node and deliver its responses
//	stabilize [ID...] [log-level=L]
//	                      process Readys, complete the workers' queued
//	                      writes and applies, and deliver, until nothing
//	                      moves; log-level= is accepted and ignored
//	read-index ID CTX     ask for a linearizable read with context CTX
//	                      (ReadIndex, thesis §6.4); prints the refusal, if
//	                      any. The answer is a "read:" line of a later Ready.
//	read-local ID CTX MIN ask for a local read at or after index MIN
//	                      (ReadLocal); prints the refusal, if any
//	partition (1,2) (3)   cut the network into groups (no spaces in a group);
//	                      unlisted nodes form one group together
//	heal                  remove the partition
//	crash ID              stop a node, losing what it had not persisted
//	restart ID            start a crashed node again from its storage
//	compact ID INDEX      snapshot at INDEX and compact the log; prints the log
//	transfer-leadership from=ID to=ID
//	                      ask node from to hand leadership to node to
//	                      (TransferLeader, thesis §3.10); prints the refusal,
//	                      if any. status shows "transferee=N" on the leader
//	                      while the transfer runs.
//	report-unreachable ID PEER
//	report-peer-down ID PEER
//	                      tell node ID that PEER is suspected down
//	                      (ReportPeerDown); prints the refusal, if any
//	forget-leader ID
//	status ID             role, hard state, applied index, the use of the
//	                      bounds when not zero ("uncommitted=2 entries/8
//	                      bytes", "applying=3 bytes", "pending-reads=1",
//	                      "local-reads=1"), and on the leader each member's
//	                      tracker.Progress
//	raft-state            role, term and leader of every node, one per line,
//	                      with "quiesced" for a node that sleeps
//	raft-log ID           the entries in the node's storage, one per line
//	log-level LEVEL       accepted and ignored: transcripts show state, not logs
//	step ID type=MsgApp from=1 term=2 [to=ID] [logterm= index= commit= reject=
//	    hint=] [entries=(2/5,2/6)]
//	                      hand a crafted message straight to a node, as a
//	                      faulty peer could; prints it and Step's error
//	set-randomized-election-timeout ID timeout=T
//	                      make node ID's current election timeout T ticks,
//	                      until it draws the next (a change of term or
//	                      role). It needs Env.SetRandomizedElectionTimeout,
//	                      which only the raft package's tests can provide;
//	                      elsewhere (tools/raftscript) it prints an error
//	send-snapshot FROM TO queue for TO a MsgSnap from FROM, at FROM's term,
//	                      carrying the snapshot FROM's storage holds; prints
//	                      it. It is delivered by deliver-msgs or stabilize.
//
// # etcd raft's names
//
// A script written for etcd raft's interaction harness runs here with its
// directives unchanged (its output is this harness's, and is regenerated):
// add-nodes also takes async-storage-writes=B (async-storage),
// inflight=N (max-inflight-msgs), read-only=safe|lease-based
// (lease-reads=false|true), step-down-on-removal=B
// (keep-leader-after-removal=!B) and max-committed-size-per-ready=B, and
// propose-conf-change takes transition=implicit and transition=explicit.
// The differences that remain:
//
//   - Terms: after index=I every term is one higher than in etcd raft's
//     harness (above).
//   - Defaults: a node here has the library's defaults, pre-vote and
//     CheckQuorum on, ElectionTick 10, and a leader that applies its own
//     removal steps down; etcd raft's harness turns pre-vote and
//     CheckQuorum off, uses ElectionTick 3, and keeps a removed leader
//     unless step-down-on-removal=true. Say prevote=false checkquorum=false
//     election-tick=3 step-down-on-removal=false to run a script as there.
//   - tick-election ticks a follower until it campaigns (at most
//     2*ElectionTick-1 ticks), not exactly ElectionTick times.
//   - deliver-msgs drop=(2) drops the messages sent by node 2; in etcd
//     raft's harness it drops those queued for node 2.
//   - Not supported: add-nodes content= and
//     disable-conf-change-validation=, and the _breakpoint command.
package rafttest
