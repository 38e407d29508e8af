// Package readonly is the bookkeeping of linearizable reads that do not
// write the log (thesis §6.4): the queue of reads waiting for a leadership
// confirmation round, the rounds themselves, and the leader's lease.
//
// It is pure: no I/O, no goroutines, no clock. Time is the leader's tick
// count, passed in by the caller.
//
// Rounds are numbered by a sequence the leader owns and carries in its
// heartbeats; an application's request context never identifies a round,
// so a retried or duplicated context can never release a read early. A
// round is confirmed once a quorum of the configuration (both halves when
// joint) has answered it or a later round: an answer to a later round
// proves the follower recognised the leader after the earlier round began.
// All reads waiting when a round starts are answered by that round.
//
// It is an implementation layer of the protocol: applications import the
// root package and never need this one.
package readonly
