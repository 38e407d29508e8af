//go:build tickraft_invariants

package raft

// checkInvariantsOnExit is set by the tickraft_invariants build tag: every
// method of RawNode checks the node's whole state on the way out and
// panics naming the broken invariant (see invariants_off.go).
const checkInvariantsOnExit = true
