// Command compare runs the write-ahead log comparison of package walbench:
// tickraft's log against etcd's, hashicorp's raft-boltdb/v2 and
// raft-wal, each written as its own Raft library writes it, at 1, 64 and
// 1,024 entries per save of 128 B and 1 KiB entries, and the time to
// reopen and read back a log of 100,000 entries. It prints Markdown
// tables of the medians and of tickraft's ratios to each peer.
//
// Every measurement runs in a child process of its own (this program,
// started again as a worker) under perf stat or strace, which count its
// fsyncs and write calls from outside; the bytes come from the kernel's
// /proc/self/io. The libraries take turns within a run, and the order
// turns by one between runs.
//
// Usage, from tools/walbench:
//
//	go run ./cmd/compare [-runs 5] [-count-runs 1] [-budget 1s] [-dir DIR] [-points REGEXP] [-drivers a,b] [-replay 100000]
//
// DIR must be on a disk (not tmpfs); its default is the system's
// temporary directory. Progress goes to standard error, the tables to
// standard output.
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/tickraft/raft/tools/walbench"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == walbench.WorkerFlag {
		if err := walbench.WorkerMain(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "compare worker:", err)
			os.Exit(1)
		}
		return
	}
	runs := flag.Int("runs", 5, "times every measurement runs")
	budget := flag.Duration("budget", time.Second, "time one save measurement runs its timed saves")
	maxSaves := flag.Int("max-saves", 100000, "most timed saves of one measurement")
	dir := flag.String("dir", os.TempDir(), "directory (on a disk) under which the logs are written")
	points := flag.String("points", "", "measure only the points whose name matches, e.g. 'size=128/per-save=1$'")
	drivers := flag.String("drivers", "tickraft,etcd,raft-boltdb,raft-wal", "libraries to measure, comma-separated")
	replay := flag.Int("replay", 100000, "entries of the replay measurement; 0 for none")
	countRuns := flag.Int("count-runs", 1, "how many of the runs also count system calls")
	flag.Parse()
	if err := run(*runs, *countRuns, *budget, *maxSaves, *dir, *points, *drivers, *replay); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run(runs, countRuns int, budget time.Duration, maxSaves int, dir, points, drivers string, replay int) error {
	match, err := regexp.Compile(points)
	if err != nil {
		return fmt.Errorf("-points: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	counter, err := walbench.FindCounter()
	if err != nil {
		return err
	}
	opts := walbench.Options{Runs: runs, Budget: budget, MaxSaves: maxSaves, Dir: dir, Exe: exe,
		Counter: counter, CountRuns: countRuns, Progress: os.Stderr, ReplayEntries: replay, ReplayPayloads: []int{128, 1024}}
	for _, p := range walbench.Points() {
		if match.MatchString(p.String()) {
			opts.Points = append(opts.Points, p)
		}
	}
	if len(opts.Points) == 0 {
		return fmt.Errorf("-points %q matches no point", points)
	}
	for _, name := range strings.Split(drivers, ",") {
		if _, err := walbench.DriverByName(strings.TrimSpace(name)); err != nil {
			return err
		}
		opts.Drivers = append(opts.Drivers, strings.TrimSpace(name))
	}
	rep, err := walbench.Compare(opts)
	if err != nil {
		return err
	}
	return rep.WriteMarkdown(os.Stdout)
}
