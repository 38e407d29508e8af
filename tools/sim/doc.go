// Package sim is a seeded, deterministic fault simulator for tickraft: it
// runs a whole cluster of real raft.RawNodes over MemoryStorage through
// faults, under a client workload, and checks after every step that the
// cluster keeps Raft's safety properties, that the clients' history is
// linearizable, that the cluster makes progress when it can, and that
// every node stays within its memory bounds.
//
// # Determinism
//
// A run is a function of its Options: one goroutine, a virtual clock in
// steps (StepsPerTick steps make a tick, the unit of the nodes' timers),
// and randomness only from PCG generators seeded with Options.Seed, one
// stream per concern (network, disk, faults, clients, nodes,
// quiescence). Nothing reads the wall clock, and no map order leaks into
// what happens. Every event is digested into Result.Hash, so two runs can
// be compared event for event; Options.Trace prints them, in the
// notation of the transcripts (raftpb's String forms), and
// Options.Command the command line of tools/raftsim that replays a run. Separate runs share nothing
// and may run in parallel.
//
// # The model
//
// Network: each directed link has a base latency drawn for the run, each
// message a jitter on top; messages travel encoded (Message.Marshal) and
// are decoded on arrival, so that what a node receives shares nothing with
// what its peer sent. A message may be lost, duplicated or held back
// (reordered); the network may be cut in two, one way between two nodes,
// or around one node, and healed. A message that arrives at a cut link or
// a crashed node is lost, and its sender's transport reports it
// (ReportUnreachable, ReportSnapshot), as it does a snapshot that arrived.
//
// Pauses: a node's whole process may stop for a while (Faults.Pause), up
// to three election timeouts: it gets no ticks, steps nothing, sends
// nothing and takes no calls; messages that arrive for it are held, as in
// a stopped process's socket buffers. On resume the simulator, as the
// embedder, delivers every missed tick before anything else, then the
// held messages (see pause.go).
//
// Quiescence: in a share of seeds (Options.Quiesce) every node runs with
// Config.Quiesce; the clients rest in lulls so that groups go to sleep,
// the host of half the nodes skips a sleeping node's ticks and hands them
// over with TickN before anything else reaches it, and a failure detector
// reports an unreachable leader, and now and then a reachable one, with
// ReportPeerDown (see quiesce.go).
//
// Loop: each node runs in tools/raftloop, the reference Ready loop, over
// the simulator's disk, network and state machine (loop.go); the
// simulator decides when each write and each worker's job is done.
//
// Disk: a node's MemoryStorage holds exactly what is durable. A write
// becomes durable some steps after it is handed to the disk, in order; a
// stalled disk is slower. In the synchronous loop the node's loop waits
// for its write (ticks that fall meanwhile are caught up after), then
// sends MessagesAfterPersist, applies and calls Advance. In the
// asynchronous mode (Config.AsyncStorageWrites) the append and apply
// workers are queues with their own latencies, whose responses go back
// through Step. With the chunked snapshot transfer (Options.
// SnapshotChunkSize, drawn for a share of seeds, followers serving chunks
// too) a snapshot worker serves chunks and saves received ones one at a
// time, each with its own latency, interleaved with everything else; a
// snapshot handed out to install is assembled from the chunks it has made
// durable (see chunks.go). A crash loses every queued write but a prefix of the
// oldest one's records (snapshot, entries one by one, hard state: a torn
// write), the queued applies, the inbox and the state machine; a restart
// rebuilds the state machine from the durable snapshot and re-applies the
// committed entries the node hands out again.
//
// Workload: clients, one operation at a time each, write unique values to
// a few keys (a key-value store of registers, whose state machine applies
// each client's writes at most once), read them linearizably (ReadIndex,
// served once the node applied the read index; with lease reads on, the
// leader may answer from its lease; on followers, forwarded to the
// leader) and locally (ReadLocal with the newest index the client saw).
// An operator proposes membership changes (add, remove, promote, demote,
// joint with automatic or explicit leave, in both encodings), leadership
// transfers and forgotten leaders; the application snapshots and compacts.
//
// Phases: chaos (the faults of Options.Faults) and calm (the network
// whole, disks healthy, the nodes the configuration needs running, those
// it does not shut down) alternate; after Options.Steps steps a final
// calm phase must bring every needed node to the leader's commit index and
// the same state. Once a write of that phase has committed the clients
// stop; a cluster that converges only when a client writes again fails
// (an idle leader must catch its followers up too).
//
// Long stalls: Faults.LongStall freezes the disk of the leader a quorum
// follows for longer than its Config.StorageStallTicks (Options.
// StorageStallTicks, 3 election timeouts), nothing else injected
// meanwhile, and fails the run unless a node applies an entry of a newer
// term within StorageStallTicks plus eight election timeouts (two more
// for each split vote seen on the network) of a write
// waiting on it, in both storage modes (see longstall.go); a share of
// seeds with whole-snapshot transfer (Options.NoSnapshotReports) never
// calls ReportSnapshot, so only the library's resend recovers a lost
// MsgSnap, and a synchronous loop blocked with ticks owed takes no calls.
//
// Storage loss: with Options.Faults.LoseLog a crashed node may restart
// over a disk that lost a suffix of its durable log, the hard state and
// snapshot intact; it boots in recovering mode (Config.Recovering), as an
// application that found the loss would, and again at every restart until
// it is seen out of that mode. Never on a second node while one recovers,
// nor where the configuration would be left without a quorum of voters
// that lost nothing; the operator changes no membership meanwhile. Should
// the configuration still have no such quorum, the group is unavailable,
// as it must be: that calm phase is counted, not judged. Otherwise a
// node must be an ordinary member again by the end of each whole calm
// phase, and the final phase converges only once no needed node recovers.
// With Options.Faults.LoseOverwrite a crashed node may instead restart
// over a disk that silently lost the last write that overwrote entries,
// and every write after it: the older term's entries it replaced are
// back, and the node boots normally (nothing detected the loss). Only
// when a majority of the other voters hold durably what the node lost,
// so that no committed entry depends on its copy; no other node loses
// anything until its leader has repaired that log. Its leader's
// heartbeats may then claim a commit index the node holds with an older
// term: the node must commit none of it.
//
// # The checks
//
// After every input the simulator gives a node (a tick, a message, a
// report, a call, a Ready, an Advance, a worker's acknowledgement), the
// library's own invariants: RawNode.CheckInvariants (see invariants.go).
//
// Independent oracles judge every bound from what the simulator itself
// saw, never from the library's counters (see oracle.go, oracle_reads.go):
// the payload and the number of appends in flight from a leader to each
// follower, counted on the wire above the highest index an answer the
// network delivered acknowledged; the leader's uncommitted tail, from the
// entries its Readys handed out above the commit index they announced;
// the committed payload handed out to apply and not yet applied; the reads
// waiting on a leader and the local reads, from the reads asked and the
// answers handed back. Leadership transfers (see transfer.go): a
// MsgTimeoutNow to a target that has not acknowledged the leader's last
// index fails the run; a transfer that ends without electing its target is
// counted (liveness), not failed. A conf change the leader generated itself
// (the automatic leave of a joint configuration) that is refused when
// applied fails the run; the operator's refused changes are counted.
//
// After every step: Election Safety and State Machine Safety
// incrementally (each term's leader, each index's applied entry), the
// leader is a voter of its configuration, term, commit and applied never
// go back within an incarnation, applied never passes commit, and, once
// per tick, each node's queues against its bounds as the library reports
// them (checker.CheckBounds over Status), beside the oracles above. At every phase change and at the end (and every
// Options.FullCheckEvery steps), every checker of tools/checker over the
// whole History: Election Safety, Leader Append-Only, Log Matching,
// Leader Completeness, State Machine Safety, monotonicity, durability of
// acknowledged writes; and linearizability of the client history
// (checker.CheckLinearizable) and the guarantees of local reads
// (checker.CheckLocalReads). In each calm phase: a leader followed by a
// quorum of its configuration and a write invoked in the phase committed
// within Options.LivenessTicks (checker.CheckLiveness). Beside the
// checkers, the library's contract: a correct peer's message is never
// refused but for the documented refusals of requests, every refusal of a
// proposal, read or transfer is a documented error, and nothing panics.
//
// The first failure ends a run. Shrink looks for a shorter run that fails
// alike: truncated at the failure, with fewer nodes, fewer kinds of fault,
// and fewer faults (Options.Skip, by delta debugging).
//
// # Running it
//
// go test ./tools/sim runs a bounded batch of seeds of DefaultMix (every
// cluster size, mode and fault; see sim_test.go), TICKRAFT_SOAK=N runs N
// longer ones; tools/raftsim runs any batch from the command line. Two fuzz
// targets, whose seed corpora go test replays, decode a whole-cluster
// schedule (FuzzClusterSchedule: every fault and operation, step by step)
// and a sequence of arbitrary messages to the nodes of a live cluster
// (FuzzNodeMessageSequences: no panic, typed refusals, sane persisted
// state) from the fuzzer's bytes.
package sim
