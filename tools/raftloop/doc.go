// Package raftloop is the reference Ready loop of tickraft: the code that
// persists, sends, applies and acknowledges what a [raft.RawNode] hands
// out, written once, following the contract of package raft's
// documentation to the letter. It is supported API: an application
// embeds a [Loop] and supplies a [Disk], a [Network] and a
// [StateMachine]; the tests, the simulator and the example programs of
// this repository drive their nodes through it.
//
// A Loop owns one RawNode and is not safe for concurrent use: the
// goroutine that owns the node owns the Loop. It starts no goroutines and
// reads no clock; time comes in through [Config].Ticks.
//
// # The synchronous loop
//
// [Loop.HandleReady] handles one Ready in the order the contract asks
// ([Loop.NextReady] is the same, reporting whether there was one):
//
//  1. Save the Snapshot, then the Entries (replacing any stored at the
//     same or later indexes), then the HardState, in one write: the hard
//     state never becomes durable before the rest. A Ready with nothing
//     to write (an idle group's heartbeats) makes no write.
//  2. Queue the snapshot worker's LocalMessages, and send Messages: they
//     may leave before the write is durable (thesis §10.2.1), and leave
//     while it is synced.
//  3. Sync the write if the Ready says MustSync.
//  4. Send MessagesAfterPersist, which acknowledge the write.
//  5. Restore the Snapshot into the state machine, then apply the
//     CommittedEntries in order, handing each conf change to the node
//     (ApplyConfChange) before the state machine sees it.
//  6. Release the reads the applied state now covers (a ReadState is
//     served once the applied index reaches its Index).
//  7. Advance.
//
// A driver whose disk completes writes later (a simulator's disk with
// latency) splits the same work in two: [Loop.BeginReady] does steps 1
// and 2 and returns the [Pending] write; [Loop.FinishReady] does steps 4
// to 7 once the write is durable.
//
// # The asynchronous loop
//
// With [raft.Config].AsyncStorageWrites a Ready carries only Messages.
// HandleReady then routes them: MsgStorageAppend to the append worker's
// queue, MsgStorageApply to the apply worker's, the snapshot worker's
// requests to its queue, the rest to the Network. [Loop.RunAppend],
// [Loop.RunApply] and [Loop.RunSnapshotWork] each complete the oldest job
// of their queue and deliver its Responses (those to this node through
// Step, the others to the Network); the queues are handled in order, and
// several writes may be outstanding at once. The workers run when the
// driver calls them, on the loop's goroutine, so that a driver chooses
// when each write becomes durable.
//
// # Handing writes to a worker of the application's
//
// An application whose disk worker is a goroutine of its own (one that
// syncs once for the writes of several Readys, say) sets
// [Config].HandOff. HandleReady then hands each write (MsgStorageAppend)
// and each snapshot chunk to save (MsgSnapChunk) to it as a [Job],
// numbered in the order the node handed them out (before it sends the
// Ready's messages to peers, so that the write starts first; they leave
// while it is on its way), and keeps the job's acknowledgements (the
// node's MsgStorageAppendResp, the appends' responses and votes that
// wait for the write, a chunk's MsgSnapChunkSaved). The worker saves each
// job as Disk.Save and ChunkDisk.SaveChunk would, makes it durable, and
// reports it back; the loop's goroutine then calls [Loop.Completed] with
// the job's number, after recording the write in the Storage the node
// reads when that is not the worker's. The loop delivers the
// acknowledgements of completed jobs in the order they were handed off:
// a job completed ahead of an earlier one waits for it, so nothing is
// acknowledged before every write before it is durable (thesis §3.8),
// and a process that crashes between the hand-off and the completion has
// acknowledged nothing it may lose. A completion for a job that is not
// waiting is refused with [ErrCompletion]. The apply worker's jobs stay
// on the loop (RunApply), which applies in memory.
//
// # One loop for every driver
//
// This is the repository's one implementation of the contract: the
// simulator (tools/sim), the transcript harness (tools/rafttest), the
// comparison benchmarks (tools/benchcmp) and the example key-value server
// (tools/kvexample/kvnode, in both of its storage modes) all run their
// nodes through it. Two drivers keep loops of their own because they
// cannot import it: core's test cluster and the root package's schedule
// cluster are test files of packages that raftloop itself imports, so
// importing it there would be a cycle.
//
// # Time
//
// Every tick that has elapsed reaches the node before any other input is
// stepped: each input method of Loop (Step, Propose, ReadIndex, ...) first
// hands the node the ticks [Config].Ticks reports, so a loop paused
// between taking an input off its queue and stepping it learns how much
// time passed first. In production the ticks come from the monotonic
// clock, and a time.Ticker only wakes the loop:
//
//	cfg.Ticks = raftloop.TicksOf(tickclock.New(interval, time.Now()))
//	...
//	case <-ticker.C:
//		loop.Tick()
//	case m := <-fromNetwork:
//		err := loop.Step(m) // the elapsed ticks first, then m
//
// # The snapshot worker
//
// With [raft.Config].SnapshotChunkSize the node fetches snapshots in
// chunks through messages to [raft.LocalSnapshotThread] (Ready.LocalMessages
// in the synchronous loop, Messages addressed to it in the asynchronous
// mode). The loop plays that worker: it serves a chunk request from the snapshot in the Disk's
// Storage (or any snapshot a [SnapshotSource] Disk still holds), and saves a received chunk with the Disk's [ChunkDisk] methods
// before stepping the MsgSnapChunkSaved that acknowledges it. A snapshot
// the node hands out without data is assembled from the saved chunks
// before it is saved and restored.
//
// # Checking
//
// The loop turns on the library's checked mode ([raft.Config].CheckContract)
// unless [Config].Unchecked is set: the node then verifies, at every
// Advance and asynchronous acknowledgement, that Storage holds what it
// handed out and that no shared payload was modified.
//
// # Disks
//
// [WALDisk] is the production Disk, over tools/wal's write-ahead log and
// snapshot files. [MemoryDisk] keeps a node's storage in memory, with a log of every
// write so that a node restarts from what it wrote. [CrashDisk] adds the
// failure model tests need: what was not synced when the process crashes
// is lost, the oldest unsynced write possibly torn after any record.
package raftloop
