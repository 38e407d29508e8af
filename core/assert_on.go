//go:build tickraft_invariants

package core

// assertInvariants is set by the tickraft_invariants build tag (see
// assert_off.go).
const assertInvariants = true
