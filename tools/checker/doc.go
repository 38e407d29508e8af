// Package checker holds Raft's safety properties as pure functions over what
// a test observed of a cluster: a [History]. A driver (a unit test, a
// property test, the seeded simulator) feeds the History after every step it
// takes: what each node reported of itself ([History.Observe]), the entries
// and snapshots each node applied ([History.Apply], [History.ApplySnapshot]),
// each restart ([History.Restart]) and each proposal it acknowledged to a
// client as committed ([History.Acknowledge]). The checkers then read the
// whole History:
//
//	CheckElectionSafety      at most one leader per term (§5.2)
//	CheckLeaderAppendOnly    a leader never overwrites or deletes its own entries (§5.3)
//	CheckLogMatching         logs that share an entry share everything before it (§5.3)
//	CheckLeaderCompleteness  a committed entry is in the log of every later leader (§5.4)
//	CheckStateMachineSafety  no two nodes apply different entries at one index (§5.4.3)
//	CheckMonotonicity        term, commit and applied never go backwards
//	CheckDurability          no acknowledged proposal is ever lost
//
// Each returns nil or a *[Violation] that names the property, the nodes,
// the terms and indexes involved and the events (the History's sequence
// numbers) where they were seen; [Check] runs them all.
//
// Four more check what clients and operators see rather than the logs,
// each over its own record:
//
//	CheckLinearizable  a key-value history of registers with unique written values is linearizable
//	CheckLocalReads    local reads (ReadLocal with a minimum index) read their writes and never go back
//	CheckLiveness      each calm phase elects a leader and commits a new write within its budget
//	CheckBounds        a node's Status stays within the back-pressure bounds of its Config
//
// The package does no I/O, starts no goroutines, reads no clock and uses
// no randomness. Every report is deterministic: nodes are visited in ID
// order and events in the order they were recorded, never in map order.
// A History is not safe for concurrent use.
//
// The checkers trust the History to be well formed (each Observe validates
// its log) but trust nothing the nodes reported. Entries below a node's
// first index (compacted into a snapshot) are unknown to the checkers,
// which then skip the comparisons that would need them.
package checker
