package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// results is what the demo measured.
type results struct {
	mode           string
	before, after  *load
	killed, leader uint64
	// election is the time from the kill to the first write a new leader
	// acknowledged.
	election time.Duration
	// catchUp is the time from the restart until the restarted node had
	// applied the leader's commit index as of the restart (target).
	catchUp  time.Duration
	target   uint64
	installs int
	reads    int
}

// percentile returns the p-th percentile (0 < p <= 100) of ds, which it
// sorts.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// printSummary prints the summary table.
func printSummary(w io.Writer, r *results) {
	lats := append(slices.Clone(r.before.latencies), r.after.latencies...)
	writes := len(r.before.acked) + len(r.after.acked)
	elapsed := r.before.elapsed + r.after.elapsed
	how := "entries"
	if r.installs > 0 {
		how = fmt.Sprintf("%d snapshot(s) fetched in chunks, then entries", r.installs)
	}
	rows := [][2]string{
		{"storage mode", r.mode},
		{"writes acknowledged", fmt.Sprintf("%d (%d failed after retries)", writes, r.before.failed+r.after.failed)},
		{"throughput", fmt.Sprintf("%.0f writes/s", float64(writes)/elapsed.Seconds())},
		{"commit latency p50", ms(percentile(lats, 50))},
		{"commit latency p99", ms(percentile(lats, 99))},
		{"election after kill", fmt.Sprintf("%s (node %d killed, node %d leads)", ms(r.election), r.killed, r.leader)},
		{"catch-up after restart", fmt.Sprintf("%s (node %d applied %d; %s)", ms(r.catchUp), r.killed, r.target, how)},
		{"reads verified", fmt.Sprintf("%d (every acknowledged key on every node)", r.reads)},
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  summary")
	fmt.Fprintln(w, "  ---------------------------------------------------------------")
	for _, row := range rows {
		fmt.Fprintf(w, "  %-24s %s\n", row[0], row[1])
	}
	fmt.Fprintln(w, "  ---------------------------------------------------------------")
}
