//go:build !tickraft_invariants

package main

// serverBuildFlags are the extra flags of the server's build: none in an
// ordinary test run (see tags_invariants_test.go).
var serverBuildFlags []string
