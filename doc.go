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
//		case <-ticker.C:
//			rn.Tick()
//		case m := <-fromNetwork:
//			if err := rn.Step(m); err != nil {
//				log.Printf("refused %v: %v", m, err) // a typed error; nothing changed
//			}
//		case req := <-clients:
//			index, term, err := rn.Propose(req.data) // remember (index, term)
//			req.reply(index, term, err)
//		}
//		for rn.HasReady() {
//			rd := rn.Ready()
//			store.Save(rd.HardState, rd.Entries, rd.Snapshot) // one write
//			send(rd.Messages)                   // may go before the write is done
//			if rd.MustSync { store.Sync() }
//			send(rd.MessagesAfterPersist)       // only once the write is durable
//			applySnapshot(rd.Snapshot)
//			for _, e := range rd.CommittedEntries {
//				cc, err := e.ConfChange()
//				switch {
//				case err != nil:
//					return err // a committed entry that does not decode: stop
//				case cc != nil:
//					rn.ApplyConfChange(cc) // a membership change
//				default:
//					apply(e)
//				}
//			}
//			rn.Advance()
//		}
//	}
//
// # The asynchronous storage mode
//
// With Config.AsyncStorageWrites the storage work leaves as messages, so
// that disk writes on the leader and the followers run in parallel with
// replication (thesis §10.2.1). A Ready then carries only Messages: those
// addressed to LocalAppendThread (MsgStorageAppend: entries, hard state in
// Term/Vote/Commit, snapshot) go to an append worker, those addressed to
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
//   - Entries replace: persisting Entries overwrites any stored entries at
//     the same or later indexes.
//   - Apply in order: Snapshot first, then CommittedEntries. A conf change
//     entry takes effect when the application calls ApplyConfChange.
//   - Advance acknowledges exactly what the Readys since the last Advance
//     handed out: nothing more is assumed persisted or applied.
//   - Slices in a Ready belong to the application, except that in the
//     synchronous loop a busy node reuses the arrays behind Messages and
//     MessagesAfterPersist at its next Ready: copy the Message values to
//     keep them longer. Payloads are shared with the node and with the
//     proposer and must not be modified.
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
// resumes the transfer; a newer snapshot replaces it. The application
// does the I/O through messages to [LocalSnapshotThread]: it serves chunk
// requests from its snapshot ([ServeSnapshotChunk]) and persists received
// chunks, stepping the MsgSnapChunkSaved it is handed. A snapshot fetched
// this way is handed out for installing without data: its data is the
// chunks saved for its index and term, in order.
//
// # Booting
//
// A new cluster's nodes each start from Storage that holds the initial
// configuration (for MemoryStorage, SetConfState); a restarting node starts
// from what it persisted and passes the index it had applied as
// Config.Applied. Each node gets its own Config.Seed (zero derives one from
// the ID).
package raft
