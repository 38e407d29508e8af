package e2ebench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options configure a comparison.
type Options struct {
	// A and B are the systems compared; ratios are A ÷ B.
	A, B System
	// Loads are run in order, each on both systems, in every round.
	Loads []Load
	// Rounds is how many times every load runs on each system. Odd rounds
	// run B first.
	Rounds int
	// Warmup and Duration of every load point.
	Warmup, Duration time.Duration
	// Dir holds the data directories (on the disk measured).
	Dir string
	// Keep leaves each round's data directories and server logs in Dir.
	Keep bool
	// Log receives a line per measured point.
	Log io.Writer
	// Profile, if set, is called on A's cluster when the measured window of
	// each load starts, in its own goroutine (to fetch a profile over it).
	Profile func(c Cluster, round int, l Load, d time.Duration)
}

// Point is one load measured on both systems in one round.
type Point struct {
	// Round counts from 0; odd rounds ran B first.
	Round int
	// Load is what both systems ran.
	Load Load
	// A and B are what each system measured.
	A, B Result
}

// Compare runs the comparison. Each round starts a fresh cluster of each
// system (both stay up for the round, the idle one only heartbeating), runs
// every load on both, alternating which goes first, and stops both.
func Compare(ctx context.Context, o Options) ([]Point, error) {
	var points []Point
	for round := range o.Rounds {
		ps, err := compareRound(ctx, o, round)
		points = append(points, ps...)
		if err != nil {
			return points, err
		}
	}
	return points, nil
}

func compareRound(ctx context.Context, o Options, round int) ([]Point, error) {
	dir := filepath.Join(o.Dir, fmt.Sprintf("round%d", round))
	if !o.Keep {
		defer os.RemoveAll(dir)
	}
	ca, err := o.A.Start(ctx, filepath.Join(dir, "a"))
	if err != nil {
		return nil, err
	}
	defer ca.Close()
	cb, err := o.B.Start(ctx, filepath.Join(dir, "b"))
	if err != nil {
		return nil, err
	}
	defer cb.Close()
	var points []Point
	for li, l := range o.Loads {
		p := Point{Round: round, Load: l}
		seed := uint64(round*100 + li)
		first, second := &p.A, &p.B
		cf, cs, nf, ns := ca, cb, o.A.Name(), o.B.Name()
		if round%2 == 1 {
			first, second, cf, cs, nf, ns = second, first, cb, ca, ns, nf
		}
		hook := func(c Cluster) func() {
			if o.Profile == nil || c != ca {
				return nil
			}
			return func() { go o.Profile(c, round, l, o.Duration) }
		}
		if *first, err = run(ctx, cf, l, o.Warmup, o.Duration, seed, hook(cf)); err != nil {
			return points, fmt.Errorf("round %d, %s, %s: %w", round, nf, l.Name, err)
		}
		if *second, err = run(ctx, cs, l, o.Warmup, o.Duration, seed, hook(cs)); err != nil {
			return points, fmt.Errorf("round %d, %s, %s: %w", round, ns, l.Name, err)
		}
		if o.Log != nil {
			fmt.Fprintf(o.Log, "round %d %-22s %s: %s | %s: %s\n", round, l.Name, o.A.Name(), describe(p.A), o.B.Name(), describe(p.B))
		}
		points = append(points, p)
	}
	return points, nil
}

func describe(r Result) string {
	return fmt.Sprintf("%7.0f ops/s p50 %6.2fms p99 %6.2fms p99.9 %6.2fms cpu/op %5.0fµs disk/write %6.0fB writes/fsync %5.1f err %d",
		r.OpsPerSec(), ms(r.P50), ms(r.P99), ms(r.P999), r.CPUPerOp(), r.DiskPerWrite(), r.WritesPerFsync(), r.Errors)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// metric is one column of the tables.
type metric struct {
	name string
	of   func(Result) float64
}

var metrics = []metric{
	{"ops/s", Result.OpsPerSec},
	{"p50", func(r Result) float64 { return ms(r.P50) }},
	{"p99", func(r Result) float64 { return ms(r.P99) }},
	{"p99.9", func(r Result) float64 { return ms(r.P999) }},
	{"CPU/op", Result.CPUPerOp},
	{"disk B/write", Result.DiskPerWrite},
	{"writes/fsync", Result.WritesPerFsync},
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Table writes, per load, the median over rounds of each system's values and
// of the same-round ratios A ÷ B with their range, as Markdown.
func Table(w io.Writer, a, b string, points []Point) {
	var loads []Load
	for _, p := range points {
		if !slices.Contains(loads, p.Load) {
			loads = append(loads, p.Load)
		}
	}
	head := []string{"load", "rounds"}
	for _, m := range metrics {
		head = append(head, m.name)
	}
	row := func(cells []string) { fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | ")) }
	fmt.Fprintf(w, "Same-round ratios %s ÷ %s: median [min–max] over rounds\n\n", a, b)
	row(head)
	row(slices.Repeat([]string{"---"}, len(head)))
	for _, l := range loads {
		cells := []string{l.Name, ""}
		n := 0
		for _, m := range metrics {
			var rs []float64
			for _, p := range points {
				if p.Load == l && m.of(p.B) > 0 {
					rs = append(rs, m.of(p.A)/m.of(p.B))
				}
			}
			n = len(rs)
			if n == 0 {
				cells = append(cells, "–")
				continue
			}
			cells = append(cells, fmt.Sprintf("%.2f [%.2f–%.2f]", median(rs), slices.Min(rs), slices.Max(rs)))
		}
		cells[1] = fmt.Sprint(n)
		row(cells)
	}
	fmt.Fprintf(w, "\nMedians over rounds (ms for latencies, µs of server CPU per request, bytes written to disk per write, acknowledged writes per log fsync of one member)\n\n")
	head[1] = "system"
	row(head)
	row(slices.Repeat([]string{"---"}, len(head)))
	for _, l := range loads {
		for _, side := range []struct {
			name string
			of   func(Point) Result
		}{{a, func(p Point) Result { return p.A }}, {b, func(p Point) Result { return p.B }}} {
			cells := []string{l.Name, side.name}
			for _, m := range metrics {
				var xs []float64
				for _, p := range points {
					if p.Load == l {
						xs = append(xs, m.of(side.of(p)))
					}
				}
				cells = append(cells, format(median(xs)))
			}
			row(cells)
		}
	}
}

func format(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}
