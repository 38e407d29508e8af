// Package confchange computes membership changes: given the tracker of a
// group and a list of single changes, it returns the configuration and the
// progress map the group moves to.
//
// The package is pure math. It does no I/O, starts no goroutines, reads no
// clock and draws no randomness, and it never modifies its input: a
// [Changer] works on a deep copy of its tracker (Progress values copied,
// their Inflights cloned) and returns the copy, so the caller can decide
// whether to install the result. Every refusal returns an error wrapping one
// of the exported Err values, usable with errors.Is, and leaves nothing
// changed.
//
// # Changes
//
// A change adds a voter (AddNode), adds a learner (AddLearnerNode), removes
// a node (RemoveNode) or does nothing to the membership (UpdateNode).
// Adding a voter that is a learner promotes it; adding a learner that is a
// voter demotes it. A node that joins gets a fresh Progress in StateProbe
// with Next just past the changer's LastIndex, marked recently active so a
// leader does not step down before it has been heard from.
//
// # Simple changes and joint consensus
//
// [Changer.Simple] applies changes that alter at most one voter: any
// majority of the old voters then shares a member with any majority of the
// new ones, so the two can never decide differently (thesis §4.1). Larger
// changes go through joint consensus (thesis §4.3): [Changer.EnterJoint]
// keeps the current voters as the outgoing half and applies the changes to
// the incoming half, and while joint every decision needs a majority of
// both; [Changer.LeaveJoint] then drops the outgoing half.
//
// Demoting a voter to learner inside a joint change cannot take effect at
// once, since the node still counts in the outgoing half. It is recorded in
// LearnersNext and the node becomes a learner when the joint configuration
// is left. A node removed from the incoming half likewise keeps its
// Progress until then.
//
// # Restoring
//
// [Restore] rebuilds a configuration from its persisted form, a
// raftpb.ConfState, by replaying changes that lead to it; the text form of
// [Describe] and [ParseConfChanges] ("v1 l2 r3 u4") is what the tests and
// transcripts write changes in.
//
// It is an implementation layer of the protocol: applications import the
// root package, which re-exports this package's errors (through core).
package confchange
