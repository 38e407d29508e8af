package main

import (
	"bytes"
	"strings"
	"testing"
)

// Claim: a short run of the demo, in each storage mode (both run their
// nodes through tools/raftloop), kills the leader, restarts
// it, verifies every acknowledged write on every node, prints its summary
// and exits 0.
func TestShortDemoPassesAndPrintsSummary(t *testing.T) {
	for name, mode := range map[string][]string{"async": nil, "sync": {"-sync"}} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"-writes", "300", "-after", "300", "-clients", "4", "-timeout", "40s"}, mode...)
			if code := run(args, &out, &errOut); code != 0 {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
			}
			for _, want := range []string{"killed the leader", "caught up", "writes acknowledged", "commit latency p99",
				"election after kill", "catch-up after restart", "demo passed"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// Claim: bad flags exit with status 2 before anything starts.
func TestBadFlagsExitTwo(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-writes", "0"}, &out, &errOut); code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
}
