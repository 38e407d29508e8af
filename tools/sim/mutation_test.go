package sim

import (
	"testing"

	"github.com/tickraft/raft/tools/checker"
)

// TestTheChecksCatchABrokenApplication breaks the simulated application
// on purpose, three ways, and requires the checks to report each within a
// few seeds: the pipeline from the cluster to the checkers works end to
// end.
func TestTheChecksCatchABrokenApplication(t *testing.T) {
	for _, c := range []struct {
		name    string
		m       mutation
		classes []Class
	}{
		{"reads served before their index is applied", mutateServeEarly, []Class{Class(checker.Linearizability)}},
		{"acknowledgements sent before the write is durable", mutateAckEarly, nil},
		{"entries acknowledged but not persisted", mutateLoseTail, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := DefaultMix()
			m.Base.Steps = 1200
			m.Base.Faults.Crash, m.Base.Faults.Restart = 0.05, 0.2
			m.Base.Workload.ReadShare = 0.6
			m.Async = Off
			for seed := uint64(1); seed <= 60; seed++ {
				s, err := New(m.Options(seed))
				if err != nil {
					t.Fatal(err)
				}
				s.mutation = c.m
				for _, n := range s.nodes {
					n.disk.mutation = c.m
				}
				r := s.Run()
				if r.Failure == nil {
					continue
				}
				t.Logf("seed %d: %v", seed, r.Failure)
				for _, want := range c.classes {
					if r.Failure.Class == want {
						return
					}
				}
				if c.classes == nil {
					return
				}
				t.Fatalf("seed %d: caught as %s, want one of %v", seed, r.Failure.Class, c.classes)
			}
			t.Fatal("60 seeds and no check failed")
		})
	}
}
