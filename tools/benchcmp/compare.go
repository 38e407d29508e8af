package benchcmp

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// Options say what Compare runs.
type Options struct {
	// Runs is how many times every row runs on every library.
	Runs int
	// Benchtime is how long each library (and the floor) runs in one
	// measurement of a replication row. The idle rows run a fixed number
	// of ticks.
	Benchtime time.Duration
	// Shapes are the replication rows, each also run as the floor.
	Shapes []Shape
	// GroupCounts are the sizes of the idle workload to run.
	GroupCounts []int
	// Progress, if not nil, receives a line for every measurement.
	Progress io.Writer
}

// FloorName is the name the append-only floor's results are recorded
// under, beside the libraries' names.
const FloorName = "floor"

// PayloadFloorName is the name the payload floor's results are recorded
// under: each entry's payload bytes copied into one byte slice per node,
// as a store that keeps nothing but the bytes would.
const PayloadFloorName = "payload floor"

// Report holds every measurement of a comparison: for each row, library
// (or the floor) and metric, the value of each run, in run order.
type Report struct {
	Options
	values map[measureKey][]float64
}

type measureKey struct{ row, lib, metric string }

// GroupsRow returns the name of the idle workload's row for count groups.
func GroupsRow(count int) string { return fmt.Sprintf("groups=%d", count) }

// Compare runs every row of opts on both libraries, opts.Runs times. A
// measurement of a row runs both libraries (and, for a replication row,
// the floor) in one process, interleaved in chunks of about 20 ms, so that
// the values of one run see the same state of a noisy machine; which
// library is built and run first alternates from run to run. The first
// failure of a driver's checks stops the comparison.
func Compare(opts Options) (*Report, error) {
	r := &Report{Options: opts, values: make(map[measureKey][]float64)}
	for run := 0; run < opts.Runs; run++ {
		libs := []Library{Tickraft, Etcd}
		if run%2 == 1 {
			libs[0], libs[1] = libs[1], libs[0]
		}
		for _, s := range opts.Shapes {
			start := time.Now()
			m, err := measureReplication(s, opts.Benchtime, libs)
			if err != nil {
				return nil, fmt.Errorf("run %d, %s: %w", run+1, s.Name(), err)
			}
			r.record(run, s.Name(), m, time.Since(start))
		}
		for _, n := range opts.GroupCounts {
			start := time.Now()
			m, err := measureIdle(n, libs)
			if err != nil {
				return nil, fmt.Errorf("run %d, %s: %w", run+1, GroupsRow(n), err)
			}
			r.record(run, GroupsRow(n), m, time.Since(start))
		}
	}
	return r, nil
}

// record adds the metrics of one measurement of row, and writes them to
// the progress writer.
func (r *Report) record(run int, row string, m rowMetrics, took time.Duration) {
	libs := make([]string, 0, len(m))
	for lib := range m {
		libs = append(libs, lib)
	}
	sort.Strings(libs)
	for _, lib := range libs {
		names := make([]string, 0, len(m[lib]))
		for name, v := range m[lib] {
			k := measureKey{row, lib, name}
			r.values[k] = append(r.values[k], v)
			names = append(names, name)
		}
		if r.Progress == nil {
			continue
		}
		sort.Strings(names)
		fmt.Fprintf(r.Progress, "run %d/%d %-28s %-8s", run+1, r.Runs, row, lib)
		for _, name := range names {
			fmt.Fprintf(r.Progress, " %s=%s", name, formatValue(m[lib][name]))
		}
		fmt.Fprintln(r.Progress)
	}
	if r.Progress != nil {
		fmt.Fprintf(r.Progress, "run %d/%d %-28s took %.1fs\n", run+1, r.Runs, row, took.Seconds())
	}
}

// Median returns the median over the runs of metric of row on lib, and
// whether it was measured.
func (r *Report) Median(row, lib, metric string) (float64, bool) {
	vs := r.values[measureKey{row, lib, metric}]
	return median(vs), len(vs) > 0
}

// Ratio returns the median over the runs of num's value divided by den's
// value of metric in the same run, and whether any run measured both with
// den's value not zero.
func (r *Report) Ratio(row, metric, num, den string) (float64, bool) {
	ns := r.values[measureKey{row, num, metric}]
	ds := r.values[measureKey{row, den, metric}]
	var ratios []float64
	for i := 0; i < len(ns) && i < len(ds); i++ {
		if ds[i] != 0 {
			ratios = append(ratios, ns[i]/ds[i])
		}
	}
	return median(ratios), len(ratios) > 0
}

// median returns the median of vs (the mean of the middle two when their
// number is even), or 0 for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}
