package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestASmallBatchRunsCleanAndSummarizes(t *testing.T) {
	var out, errs bytes.Buffer
	code := run([]string{"-seeds", "4", "-steps", "400", "-nodes", "3,5", "-parallel", "2", "-v"}, &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	for _, want := range []string{"seeds:       4 (", "faults:      drop=", "checked:", "slowest election", "violations:  0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errs.String(), "raftsim: 4/4 seeds") || strings.Count(errs.String(), "seed ") < 4 {
		t.Errorf("no progress or per-seed lines:\n%s", errs.String())
	}
}

func TestTheSameSeedPrintsTheSameTrace(t *testing.T) {
	trace := func() string {
		var out, errs bytes.Buffer
		if code := run([]string{"-seed", "7", "-seeds", "1", "-steps", "200", "-trace"}, &out, &errs); code != 0 {
			t.Fatalf("exit %d: %s", code, errs.String())
		}
		trace, _, _ := strings.Cut(out.String(), "\nseeds:") // the summary has the wall time
		return trace
	}
	a, b := trace(), trace()
	if a != b || !strings.Contains(a, "deliver ") {
		t.Fatalf("traces differ or are empty (%d and %d bytes)", len(a), len(b))
	}
}

func TestBadFlagsExitWithTwo(t *testing.T) {
	for _, args := range [][]string{{"-drop", "2"}, {"-async", "maybe"}, {"-latency", "1,2"}, {"stray"}} {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
