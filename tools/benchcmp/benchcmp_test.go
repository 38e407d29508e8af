package benchcmp

import (
	"strings"
	"testing"

	"github.com/tickraft/raft/tools/benchcmp/workload"
)

// TestDriversApplyEveryProposalOnEveryNode runs a few loop iterations of
// small rows on both libraries and checks what the benchmarks check: every
// proposal applied on every node, and the check failing for a wrong count.
func TestDriversApplyEveryProposalOnEveryNode(t *testing.T) {
	for _, lib := range Libraries {
		for _, s := range []Shape{{3, 128, 1}, {3, 128, 64}, {5, 1024, 16}} {
			c, err := lib.NewCluster(s.Nodes, workload.DefaultParams())
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Elect(); err != nil {
				t.Fatalf("%s %s: %v", lib.Name, s.Name(), err)
			}
			data := workload.Payload(s.Size)
			const iterations = 20
			for i := 0; i < iterations; i++ {
				if err := iterate(c, data, s.Batch); err != nil {
					t.Fatalf("%s %s: %v", lib.Name, s.Name(), err)
				}
			}
			n := iterations * s.Batch
			if err := c.CheckApplied(n, n*s.Size); err != nil {
				t.Errorf("%s %s: %v", lib.Name, s.Name(), err)
			}
			if err := c.CheckApplied(n+1, (n+1)*s.Size); err == nil {
				t.Errorf("%s %s: CheckApplied accepts one entry more than was proposed", lib.Name, s.Name())
			}
			if c.Sent() == 0 {
				t.Errorf("%s %s: no message sent", lib.Name, s.Name())
			}
		}
	}
}

// TestIdleGroupsKeepTheirLeadersAndHeartbeat ticks a few groups of each
// library past several election timeouts: every group keeps its leader,
// and every follower hears a heartbeat on every tick (HeartbeatTick 1).
func TestIdleGroupsKeepTheirLeadersAndHeartbeat(t *testing.T) {
	const groups, ticks = 5, 100
	for _, lib := range Libraries {
		g, err := lib.NewGroups(groups, workload.DefaultParams())
		if err != nil {
			t.Fatalf("%s: %v", lib.Name, err)
		}
		sent := g.Sent()
		for i := 0; i < ticks; i++ {
			if err := g.TickAll(); err != nil {
				t.Fatalf("%s tick %d: %v", lib.Name, i, err)
			}
		}
		if err := g.CheckLeaders(); err != nil {
			t.Errorf("%s: %v", lib.Name, err)
		}
		if got, want := g.Sent()-sent, 2*groups*ticks; got < want {
			t.Errorf("%s: %d messages in %d group-ticks, want at least %d", lib.Name, got, groups*ticks, want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestRatiosPairValuesOfTheSameRun: the ratio of a row is the median of
// the per-run ratios, not the ratio of the medians.
func TestRatiosPairValuesOfTheSameRun(t *testing.T) {
	r := &Report{values: map[measureKey][]float64{
		{"row", "a", "m"}: {10, 40, 90},
		{"row", "b", "m"}: {5, 10, 90},
	}}
	// Per run: 2, 4, 1; median 2. The ratio of the medians would be 4.
	if got, ok := r.Ratio("row", "m", "a", "b"); !ok || got != 2 {
		t.Errorf("Ratio = %v, %v; want 2, true", got, ok)
	}
	if _, ok := r.Ratio("row", "m", "a", "missing"); ok {
		t.Error("Ratio against a library that did not run reports a value")
	}
}

// TestTargetsReportMetAndMissed: a report whose batch-64 row meets the
// throughput target and misses the allocation target says so.
func TestTargetsReportMetAndMissed(t *testing.T) {
	row := Shape{3, 128, 64}
	r := &Report{Options: Options{Runs: 1, Shapes: []Shape{row}}, values: map[measureKey][]float64{
		{row.Name(), Tickraft.Name, MetricEntriesPerSec}:  {500},
		{row.Name(), Etcd.Name, MetricEntriesPerSec}:      {100},
		{row.Name(), Tickraft.Name, MetricAllocsPerEntry}: {0.5},
	}}
	var out strings.Builder
	if err := r.targetTable().writeText(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	want := map[string]string{"entries/s, tickraft ÷ etcd": "met", "allocs/entry, tickraft": "missed"}
	for what, status := range want {
		found := false
		for _, line := range lines {
			if strings.Contains(line, what) {
				found = true
				if !strings.HasSuffix(strings.TrimSpace(line), status) {
					t.Errorf("target %q: line %q, want status %s", what, line, status)
				}
			}
		}
		if !found {
			t.Errorf("target %q missing from\n%s", what, out.String())
		}
	}
}
