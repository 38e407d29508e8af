package sim

import (
	"errors"
	"testing"
)

// crashesThenPartition is an artificial checker failure: it fails once
// two crashes and a partition have happened. Many faults of a run do not
// matter to it, so the shrinker has something to remove.
func crashesThenPartition(s *Sim) error {
	st := s.Stats()
	if st.Crashes >= 2 && st.Faults[FaultPartition]+st.Faults[FaultIsolate] > 0 {
		return errors.New("two crashes and a partition")
	}
	return nil
}

func TestShrinkFindsAShorterRunThatFailsAlike(t *testing.T) {
	m := DefaultMix()
	m.Base.Steps = 3000
	m.Base.Faults.Crash, m.Base.Faults.Partition = 0.02, 0.02
	m.Base.Check = crashesThenPartition
	var r Result
	for seed := uint64(1); r.Failure == nil || r.Failure.Class != ClassExtra || len(r.Faults) < 8; seed++ {
		if seed > 50 {
			t.Fatal("50 seeds and no run failed the artificial check after 8 faults: nothing to shrink")
		}
		r, _ = Run(m.Options(seed))
	}
	small := Shrink(r, 200)
	if small.Failure == nil || small.Failure.Class != ClassExtra {
		t.Fatalf("the shrunk run does not fail alike: %v", small.Failure)
	}
	before, after := size(r), size(small)
	t.Logf("shrunk %v (step, steps, nodes, faults, kinds) to %v", before, after)
	if !smaller(small, r) || after[3] >= before[3] || after[1] >= before[1] {
		t.Fatalf("no shorter run with fewer faults: %v to %v", before, after)
	}
	if after[3] > 3 {
		t.Errorf("%d faults left; three (two crashes and a partition) suffice", after[3])
	}
	// The shrunk settings replay the shrunk run exactly.
	again, _ := Run(small.Options)
	if again.Hash != small.Hash || again.Failure == nil || again.Failure.Step != small.Failure.Step {
		t.Fatalf("the shrunk run does not replay: %v, then %v", small.Failure, again.Failure)
	}
}
