//go:build !tickraft_invariants

package raft

// checkInvariantsOnExit is off in ordinary builds. Built with
//
//	go test -tags tickraft_invariants ./...
//
// every method of RawNode checks the node's whole state
// (core.Raft.CheckInvariants) on the way out and panics naming the broken
// invariant, so that every test, the simulator and the end-to-end runs
// check it after every input. CI runs the suite both ways.
const checkInvariantsOnExit = false
