//go:build tickraft_invariants

package main

// serverBuildFlags builds the server under test with the invariants tag
// when the tests are built with it, so that the real processes check the
// node's invariants after every input too.
var serverBuildFlags = []string{"-tags", "tickraft_invariants"}
