// Package rapidseed makes the project's rapid properties deterministic:
// rapid draws a fresh random seed on every run unless one is given, and
// tickraft's tests must give the same result on every run. A package's
// TestMain calls Main; a run that names its own seed (-rapid.seed=N or the
// RAPID_SEED environment variable) keeps it, so long soaks can explore
// other schedules and a failure replays from the seed it prints.
package rapidseed

import (
	"flag"
	"os"
	"testing"
)

// Seed is the seed every default run uses.
const Seed = "20261123"

// Main pins rapid's seed when the run chose none, then runs the tests.
func Main(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("rapid.seed"); f != nil && f.Value.String() == "0" && os.Getenv("RAPID_SEED") == "" {
		if err := flag.Set("rapid.seed", Seed); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
