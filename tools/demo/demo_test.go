package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
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

// Claim: a short run of the multi-group demo (three hosts of 16 groups)
// kills the host leading the most groups, restarts it, verifies every
// acknowledged write on every host, prints its summary and exits 0.
func TestShortGroupsDemoPassesAndPrintsSummary(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"-groups", "16", "-writes", "200", "-after", "200", "-clients", "4", "-idle", "300ms", "-timeout", "50s"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"killed host", "caught up in every group", "heap per group replica", "idle CPU, asleep",
		"frames between hosts, asleep", "frames between hosts, awake", "writes acknowledged", "demo passed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// Claim: with every group asleep the hosts send fewer than half the
// frames they send awake (quiescence off), over the same window. The
// frames are counted on the wire, by the relays between the hosts parsing
// the length prefixes (tools/framerelay), not by the transports' own Stats.
func TestSleepingGroupsSendFewerFramesThanAwakeOnes(t *testing.T) {
	o := options{groups: 16, writes: 50, after: 50, clients: 4, idle: 500 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	r, err := demoGroups(ctx, o, t.TempDir(), &out, &errOut)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s", err, out.String())
	}
	t.Logf("frames on the wire in %v: %d asleep, %d awake", o.idle, r.asleep.frames, r.awake.frames)
	if r.awake.frames == 0 || 2*r.asleep.frames >= r.awake.frames {
		t.Fatalf("frames in %v: %d asleep, %d awake; want asleep below half of awake", o.idle, r.asleep.frames, r.awake.frames)
	}
}
