// Package raft is tickraft: a Raft consensus library whose core is a pure,
// deterministic, tick-driven state machine.
//
// A [RawNode] takes ticks, proposals and messages from peers and hands back
// [Ready] batches that say what to persist, what to send and what to apply.
// It does no I/O, starts no goroutines, reads no clock and draws no global
// randomness: disk, network, threads and time belong to the application
// that embeds it. Given the same [Config] (including its Seed) and the same
// sequence of calls, it produces the same sequence of Readys, byte for byte.
//
// # The loop
//
// One goroutine owns a RawNode and runs, forever:
//
//	for {
//		select {
//		case <-ticker.C: // only wakes the loop: the clock counts the ticks
//			rn.TickN(clock.Elapsed(time.Now())) // tools/tickclock
//		case m := <-fromNetwork:
//			rn.TickN(clock.Elapsed(time.Now())) // every elapsed tick first
//			if err := rn.Step(m); err != nil {
//				logRefused(m, err) // a typed error; the node changed nothing
//			}
//		case p := <-proposals:
//			rn.TickN(clock.Elapsed(time.Now()))
//			index, term, err := rn.Propose(p.data) // match (index, term) when it applies
//			p.accepted(index, term, err)
//		case r := <-reads:
//			rn.TickN(clock.Elapsed(time.Now())) // a lease is judged on the clock of now
//			if err := rn.ReadIndex(r.ctx); err != nil { // answered by a ReadState
//				r.fail(err)
//			}
//		case to := <-unreachable: // the transport could not send to a peer
//			rn.ReportUnreachable(to)
//		case s := <-snapshotsSent: // the transport delivered a MsgSnap, or failed to
//			rn.ReportSnapshot(s.to, s.failed)
//		}
//		for rn.HasReady() {
//			rd := rn.Ready()
//			// 1. Persist Snapshot, Entries (replacing any stored at the same
//			//    or later indexes) and HardState, in one write (the hard
//			//    state never before the rest).
//			wal.Save(rd.HardState, rd.Entries, rd.Snapshot)
//			// 2. Make the write durable if asked.
//			if rd.MustSync {
//				wal.Sync()
//			}
//			// 3. Send. Messages may also leave before step 1 (thesis
//			//    §10.2.1); MessagesAfterPersist must wait for step 2.
//			transport.Send(rd.Messages)
//			transport.Send(rd.MessagesAfterPersist)
//			//    LocalMessages never go to the network: they are the snapshot
//			//    worker's work (chunked transfer only). It sends served chunks
//			//    to peers, and puts each saved chunk's answer on fromNetwork.
//			snapshotWorker.Do(rd.LocalMessages)
//			// 4. Apply the snapshot, then the committed entries in order.
//			if !rd.Snapshot.IsEmpty() {
//				applied, conf = restore(rd.Snapshot)
//			}
//			for _, e := range rd.CommittedEntries {
//				cc, err := e.ConfChange()
//				switch {
//				case err != nil:
//					return err // a committed entry that does not decode: stop
//				case cc != nil:
//					if cs, err := rn.ApplyConfChange(cc); err == nil {
//						conf = cs // the membership from here on
//					} // a refusal is the same on every node: nothing changed
//				default:
//					apply(e)
//				}
//				applied = e.Index
//			}
//			//    Serve each read once applied >= its Index; a ReadState
//			//    with Err set is a read that failed.
//			reads.release(rd.ReadStates, applied)
//			// 5. Acknowledge all of the above.
//			rn.Advance()
//		}
//	}
//
// The runnable examples of this package run this loop on clusters held in
// memory ([MemoryStorage]), one for each step of a node's life: booting,
// proposing, reading, changing membership, compacting and restarting.
// Package tools/raftloop is this loop written once, in both storage modes
// and with the snapshot worker, as supported API: an application supplies
// its disk, network and state machine, and may hand the writes to a disk
// worker of its own that syncs once for several Readys.
//
// # Time
//
// A tick is a unit of the application's monotonic clock, and every tick
// that has elapsed reaches the node before any other input is stepped.
// The loop reads the clock after it takes an input off its queue and
// before it steps it, and hands the elapsed ticks to [RawNode.TickN]
// (tools/tickclock counts them). Reading it at the top of the loop instead
// would let a process paused inside select (garbage collection, a stopped
// VM) step what arrived during the pause on the clock of before it, and a
// leader serve a lease read after its lease ran out; a time.Ticker alone
// drops the ticks missed during a pause. Go's monotonic clock stops while
// the host is suspended: leases ([Config].LeaseReads) are safe only on
// hosts that cannot suspend.
//
// # The asynchronous storage mode
//
// With Config.AsyncStorageWrites the storage work leaves as messages, so
// that disk writes on the leader and the followers run in parallel with
// replication (thesis §10.2.1). A Ready then carries only Messages: those
// addressed to LocalAppendThread (MsgStorageAppend: entries, a hard state
// read with its StorageAppendHardState method, snapshot) go to an append
// worker, those addressed to
// LocalApplyThread (MsgStorageApply: a snapshot to install once it is
// durable, or committed entries) to an apply worker,
// the rest to the network. Each worker handles its messages in order and,
// when the work is done (durable, or applied), delivers the message's
// Responses: those addressed to this node through Step, the others to the
// network. Several writes may be outstanding. Advance is not called. The
// synchronous loop above is the same mechanism with the acknowledgements
// made by Advance.
//
// # The contract
//
//   - Persist before acknowledging: MessagesAfterPersist answer for the
//     HardState, Entries and Snapshot of their Ready and must not leave
//     before those are durable. Messages may leave at once: the leader's
//     appends go out in parallel with its own write (thesis §10.2.1).
//   - The HardState becomes durable together with, or after, the Entries
//     and Snapshot of its Ready (one write, or the hard state last), never
//     before: a persisted commit index beyond the stored log then always
//     means the storage lost entries, and [NewRawNode] refuses to boot
//     over it with a [*LostLogError] (see [Config].Recovering).
//   - Entries replace: persisting Entries overwrites any stored entries at
//     the same or later indexes.
//   - Apply in order: Snapshot first, then CommittedEntries. A conf change
//     entry takes effect when the application calls ApplyConfChange.
//   - Advance acknowledges exactly what the Readys since the last Advance
//     handed out: nothing more is assumed persisted or applied.
//   - Slices in a Ready belong to the application, except that in the
//     synchronous loop the node reuses the arrays behind Messages and
//     MessagesAfterPersist once Advance is called: copy the Message values
//     to keep them longer. With Config.ReuseEntryArrays it also reuses the
//     arrays behind the entries it handed out (Entries, CommittedEntries,
//     the Entries of its messages) once they are applied: then read no
//     entry slice after Advance, and copy the Entry values to keep them (a
//     transport that queues messages in memory copies their Entries).
//     Entry values and payloads are shared with the node's log and with
//     the proposer and must not be modified. With the option, Step copies
//     the entries it appends, so a transport may reuse its own arrays once
//     Step returns; without it, the node may keep them.
//   - Every refusal is an error: a proposal that cannot be accepted returns
//     an error wrapping [ErrProposalDropped] saying why; a message no
//     correct peer could send returns an error ([ErrInvalidMessage],
//     [ErrStepLocalMsg], ...) and changes nothing. A request a follower
//     forwarded (a proposal, a read, a transfer) that the leader refuses is
//     reported by the leader's Step with the refusal's error; a refused
//     read is also answered to the follower, whose ReadState carries
//     ErrReadAborted. Nothing a peer sends can make a node panic.
//
// # Chunked snapshot transfer
//
// By default a lagging follower gets the leader's snapshot whole, in one
// MsgSnap, as etcd raft sends it. With Config.SnapshotChunkSize set on
// every member, the leader instead offers the snapshot (MsgSnapOffer) and
// the follower fetches it in chunks, several at once from different
// sources: the leader and, with Config.SnapshotInterval (every member
// snapshots at the same indexes), followers holding the same snapshot.
// Chunks that do not arrive are asked of another source; a leader change
// resumes the transfer; a newer snapshot replaces it. The application does
// the I/O through messages to [LocalSnapshotThread]: it serves chunk
// requests from its snapshot ([ServeSnapshotChunk]) and persists received
// chunks, stepping the MsgSnapChunkSaved it is handed. In the synchronous
// loop these messages come in their own field, [Ready].LocalMessages,
// never in Messages, so the loop above sends Messages to the network as
// they are in every configuration; in the asynchronous mode they are in
// Messages with the other workers', addressed to LocalSnapshotThread. A
// snapshot fetched this way is handed out for installing without data: its
// data is the chunks saved for its index and term, in order.
//
// # Quiescence: many idle groups
//
// A process that runs thousands of groups, most of them idle, can let
// their leaders put them to sleep: with [Config].Quiesce set on every
// member, the leader of a group with nothing to do (every member holds its
// whole log and commit index, no read, transfer or membership change
// under way) asks its followers to sleep, and once all have agreed the
// group sends nothing and costs a node a few additions per tick, with no
// allocation. Any proposal, read, membership change, transfer or message
// from a peer wakes a node, and a node that wakes wakes its group. A
// woken leader sends heartbeats at once and serves no lease read until a
// quorum has answered them.
//
// [BasicStatus].Quiesced reports that a node sleeps, without allocating,
// so a host can keep a list of the sleeping ones. A host need not call
// Tick on a sleeping node at all: it notes the time it stopped, and when
// an input for that node arrives (a message, a client's request) it hands
// it the elapsed ticks with [RawNode.TickN] before the input, as after a
// pause. The node's clock, and with it every lease and election window,
// then stays right.
//
// Awake or asleep, a node of an idle group holds little: give the nodes
// that one goroutine drives one [GroupCache] (Config.GroupCache) and they
// borrow the arrays of their messages from it between a Ready and its
// Advance, instead of each keeping its own, and share one copy of the
// settings of their Configs. BENCHMARKS.md gives what a group costs.
//
// A sleeping follower never times out, so a leader that fails while its
// group sleeps is noticed only by the application: when its transport
// loses the leader's connection, or its failure detector fires, it calls
// [RawNode.ReportPeerDown] on the followers. A follower then campaigns,
// but not within ElectionTick of the last message it took from that
// leader (ErrLeasePromised): it may have helped grant the leader a lease.
//
// # Booting
//
// The first members of a new cluster each boot from a Storage that holds
// the initial configuration and nothing else: for MemoryStorage,
// SetConfState with the same voters on every member. (A first snapshot at
// index 1 holding that configuration, the same on every member, does the
// same and is what tools/kvexample writes.) A member added later starts
// from an empty Storage and learns the configuration from the leader's
// snapshot: the first configuration is storage state, in no entry, so
// entries alone would give the new member only the changes after it
// (promoted, it would count itself the only voter). It therefore takes no
// entries until a snapshot has given it a configuration, and answers the
// leader's appends with a rejection of index 0, to which the leader
// answers with its Storage's snapshot. The leader's Storage must hold one
// (MemoryStorage.CreateSnapshot, at or after the conf change that added
// the member; Compact as usual): until it does, the leader logs a warning
// at each try and the new member waits.
// Each node gets its own Config.Seed; zero derives one from the ID.
//
// # Restarting
//
// A restarting node starts from what it persisted. The application rebuilds
// its Storage by making the writes its loop made, in the same order: for
// MemoryStorage, replaying a write-ahead log means ApplySnapshot for a
// snapshot received from the leader, CreateSnapshot and Compact for a
// snapshot of the node's own, Append for entries and SetHardState for the
// hard state. (A log that no longer holds the entries under a snapshot of
// the node's own loads that snapshot with ApplySnapshot, like a received
// one. A node that has no snapshot yet calls SetConfState again with the
// configuration it booted with.)
//
// Config.Applied is the index the application's state has reached when it
// restarts: committed entries up to it are not handed out again, those
// after it are. An application that restores its state from its latest
// snapshot passes that snapshot's index. The node takes its configuration
// from the Storage (the snapshot's, or SetConfState's), applies again at
// boot the conf change entries between the snapshot and Config.Applied
// (the application applied them, and they are not handed out again), and
// learns later changes as their entries are handed out to apply.
//
// # Reading Storage
//
// Storage.Entries may return fewer entries than asked for, even below its
// size limit (at least one when the range is not empty): MemoryStorage
// stops at the end of one of its segments. The node asks again from where
// an answer ends; an application reading a range of its own Storage does
// the same.
//
// # Compacting
//
// The log may be compacted (MemoryStorage.Compact, and the matching entries
// dropped from disk) only up to the index the application has applied, and
// only once a snapshot of its state at that index (CreateSnapshot) is
// durable: from then on a follower that needs the compacted entries is sent
// that snapshot instead. Compacting less than everything applied keeps a
// margin of entries for followers that are only a little behind.
package raft
