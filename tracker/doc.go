// Package tracker holds the leader's view of its peers and the quorum
// arithmetic of Raft: which index a majority has acknowledged, whether an
// election is won, and how far each follower's replication has come.
//
// The package is pure math. It does no I/O, starts no goroutines, reads no
// clock and draws no randomness; every function returns the same result for
// the same input, and nothing it prints depends on map iteration order.
//
// # Quorums
//
// A [MajorityConfig] is a set of voters, kept as a sorted slice without
// duplicates; a quorum of it is any subset holding more than half of its
// members. A [JointConfig] pairs the incoming and the outgoing majority
// configurations of joint consensus (thesis §4.3); a quorum of it is a set
// that holds a quorum of both halves, and an empty outgoing half means the
// configuration is not joint. [MajorityConfig.CommittedIndex] and
// [MajorityConfig.VoteResult] answer the two questions the protocol asks of a
// quorum. By convention a configuration without voters has committed
// everything (math.MaxUint64) and wins every vote, so that in a joint
// configuration whose outgoing half is empty only the incoming half decides.
//
// # Progress and flow control
//
// A [Progress] is the leader's record of one follower: the highest index
// known to match its log (Match), the next index to send (Next), and the
// state of the replication stream, one of [StateProbe], [StateReplicate]
// and [StateSnapshot] (thesis §3.5 and §5.4 describe the probing and the
// pipelining it implements). In StateReplicate the leader sends appends
// optimistically; [Inflights] bounds how many of them, and how many payload
// bytes, may be unacknowledged at once, so a slow follower cannot grow the
// leader's memory without bound.
//
// Progress methods keep these invariants, which [Progress.CheckInvariants]
// verifies:
//
//   - Match < Next;
//   - in StateReplicate every message in flight has a last index in
//     (Match, Next); in the other states nothing is in flight;
//   - in StateSnapshot PendingSnapshot > 0, and PendingSnapshot is 0 in the
//     other states;
//   - MsgAppFlowPaused is only ever set in StateProbe.
//
// # The tracker
//
// A [ProgressTracker] joins a [Config] (the joint voters, the learners and
// the learners waiting for the joint configuration to be left) with a
// Progress for every member and the votes of an election.
// [ProgressTracker.CheckInvariants] checks that they agree. The tracker is
// changed only as a whole, by the confchange package, which computes a new
// Config and ProgressMap from an old one; nothing in this package changes
// membership.
//
// Misuse that can only come from a bug in the caller, such as adding to a
// full Inflights or sending entries to a follower that is receiving a
// snapshot, panics with a message naming the broken invariant.
//
// It is an implementation layer of the protocol: applications import the
// root package, which re-exports the types of this package they meet
// (Progress, Membership, Inflights, ProgressState).
package tracker
