// Command e2e compares the example server built on tickraft with the etcd
// server end to end: three processes of each on loopback with real fsync,
// the same closed-loop loads, several rounds alternating which system runs
// first, and a table of same-round ratios (tickraft ÷ etcd).
//
// From tools/e2ebench:
//
//	go run ./cmd/e2e -short                 # a few seconds per point
//	go run ./cmd/e2e -rounds 3 -warmup 5s -duration 30s -markdown
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tickraft/raft/tools/e2ebench"
)

func main() {
	os.Exit(run())
}

func run() int {
	rounds := flag.Int("rounds", 3, "rounds; odd rounds run etcd first")
	warmup := flag.Duration("warmup", 5*time.Second, "warm-up of every load point")
	duration := flag.Duration("duration", 30*time.Second, "measured time of every load point")
	short := flag.Bool("short", false, "1 s warm-up and 3 s per point")
	loads := flag.String("loads", "", "comma-separated indexes of the loads to run (0: 1 writer, 1: 16, 2: 64, 3: 64 clients 90% reads); empty for all")
	dir := flag.String("dir", "", "directory for binaries and data (on the disk to measure; default a new one under $TMPDIR)")
	repo := flag.String("repo", "../..", "the tickraft repository (for tools/kvexample)")
	kvFlags := flag.String("kv-flags", "", "extra flags of every kvexample process, space-separated")
	etcdFlags := flag.String("etcd-flags", "", "extra flags of every etcd member, space-separated")
	profile := flag.String("profile", "", "directory to save a CPU profile of the tickraft leader over every measured window, and its /metrics after it")
	kvEnv := flag.String("kv-env", "", "extra environment of every kvexample process, space-separated (e.g. GODEBUG=gctrace=1; the lines go to the logs under -dir)")
	keep := flag.Bool("keep", false, "keep the data directories and server logs (with -dir)")
	flag.Parse()
	if *short {
		*warmup, *duration = time.Second, 3*time.Second
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer e2ebench.StopAll()
	if *dir == "" {
		d, err := os.MkdirTemp("", "e2ebench")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if !*keep {
			defer os.RemoveAll(d)
		}
		*dir = d
	}
	wd, _ := os.Getwd()
	bins, err := e2ebench.Build(*repo, wd, filepath.Join(*dir, "bin"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	o := e2ebench.Options{
		A:      &e2ebench.KVExample{Bin: bins.KVExample, Extra: strings.Fields(*kvFlags), Env: strings.Fields(*kvEnv)},
		B:      &e2ebench.Etcd{Bin: bins.Etcd, Extra: strings.Fields(*etcdFlags)},
		Rounds: *rounds, Warmup: *warmup, Duration: *duration,
		Dir: *dir, Keep: *keep, Log: os.Stdout,
	}
	if *profile != "" {
		if err := os.MkdirAll(*profile, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		o.A.(*e2ebench.KVExample).AdminToken = fmt.Sprintf("e2ebench-%d", time.Now().UnixNano())
		o.Profile = func(c e2ebench.Cluster, round int, l e2ebench.Load, d time.Duration) {
			name := filepath.Join(*profile, fmt.Sprintf("r%d-%s", round, strings.ReplaceAll(l.Name, " ", "_")))
			secs := max(1, int(d.Seconds())-1)
			if err := e2ebench.FetchProfile(c, "profile", fmt.Sprintf("seconds=%d", secs), name+".cpu"); err != nil {
				fmt.Fprintln(os.Stderr, "profile:", err)
			}
			if err := e2ebench.FetchMetrics(c, name+".metrics"); err != nil {
				fmt.Fprintln(os.Stderr, "metrics:", err)
			}
		}
	}
	if *loads == "" {
		o.Loads = e2ebench.Loads
	} else {
		for _, s := range strings.Split(*loads, ",") {
			var i int
			if _, err := fmt.Sscan(s, &i); err != nil || i < 0 || i >= len(e2ebench.Loads) {
				fmt.Fprintf(os.Stderr, "-loads: bad index %q\n", s)
				return 2
			}
			o.Loads = append(o.Loads, e2ebench.Loads[i])
		}
	}
	fmt.Printf("tickraft (kvexample %s) vs etcd server: %d rounds, %v warm-up + %v per point, data in %s\n",
		*kvFlags, o.Rounds, o.Warmup, o.Duration, *dir)
	points, err := e2ebench.Compare(ctx, o)
	fmt.Println()
	e2ebench.Table(os.Stdout, "tickraft", "etcd", points)
	if err != nil {
		fmt.Fprintln(os.Stderr, "comparison stopped:", err)
		return 1
	}
	return 0
}
