//go:build !tickraft_invariants

package core

// assertInvariants is off in ordinary builds. Built with the
// tickraft_invariants tag it turns on the assertions that re-check, where
// state changes, a rule one check already enforced on the way in (a
// panic then names a bug in the library, never bad input).
const assertInvariants = false
