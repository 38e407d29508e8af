// Command compare runs the workloads of package benchcmp on tickraft and on
// etcd raft v3.6.0, interleaved, several times, and prints for every row
// the medians of both libraries and the median of their ratios in the
// same run, the append-only floor, and the targets as met or
// missed.
//
// Each measurement runs both libraries (and the floor) in one process,
// interleaved in chunks of about 20 ms, each chunk after a garbage
// collection; ratios are taken between values of the same run.
//
// Usage, from tools/benchcmp:
//
//	go run ./cmd/compare [-runs 5] [-benchtime 1s] [-rows REGEXP] [-groups 1000,10000] [-markdown]
//
// Progress goes to standard error, the tables to standard output. It exits
// with status 1 if a driver's check fails (an entry not applied on every
// node, a group that lost its leader).
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tickraft/raft/tools/benchcmp"
)

func main() {
	runs := flag.Int("runs", 5, "times every row runs on every library")
	benchtime := flag.Duration("benchtime", time.Second, "time each library runs in one measurement of a replication row")
	rows := flag.String("rows", "", "run only the rows whose name matches this regular expression, e.g. 'nodes=3/size=128' or 'groups'")
	groups := flag.String("groups", "1000", "comma-separated group counts of the idle workload, e.g. 1000,10000; empty for none")
	markdown := flag.Bool("markdown", false, "print Markdown tables")
	flag.Parse()
	if err := run(*runs, *benchtime, *rows, *groups, *markdown); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run(runs int, benchtime time.Duration, rows, groups string, markdown bool) error {
	match, err := regexp.Compile(rows)
	if err != nil {
		return fmt.Errorf("-rows: %w", err)
	}
	opts := benchcmp.Options{Runs: runs, Benchtime: benchtime, Progress: os.Stderr}
	for _, s := range benchcmp.Shapes() {
		if match.MatchString(s.Name()) {
			opts.Shapes = append(opts.Shapes, s)
		}
	}
	for _, field := range strings.Split(groups, ",") {
		if field = strings.TrimSpace(field); field == "" {
			continue
		}
		n, err := strconv.Atoi(field)
		if err != nil || n <= 0 {
			return fmt.Errorf("-groups: %q is not a positive count", field)
		}
		if match.MatchString(benchcmp.GroupsRow(n)) {
			opts.GroupCounts = append(opts.GroupCounts, n)
		}
	}
	report, err := benchcmp.Compare(opts)
	if err != nil {
		return err
	}
	return report.Write(os.Stdout, markdown)
}
