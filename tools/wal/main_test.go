package wal_test

import (
	"flag"
	"testing"

	"github.com/tickraft/raft/tools/rapidseed"
)

// defaultChecks is how many random runs the rapid properties make by
// default: each run fsyncs at every snapshot and segment, so the package
// keeps to a few seconds. Soak with -rapid.checks=N (and -rapid.seed).
const defaultChecks = "20"

// TestMain lowers rapid's number of checks unless the run chose one, and
// pins rapid's seed (see tools/rapidseed).
func TestMain(m *testing.M) {
	flag.Parse()
	checksSet := false
	flag.Visit(func(f *flag.Flag) { checksSet = checksSet || f.Name == "rapid.checks" })
	if !checksSet {
		if err := flag.Set("rapid.checks", defaultChecks); err != nil {
			panic(err)
		}
	}
	rapidseed.Main(m)
}
