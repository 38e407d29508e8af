// Command raftsim runs the seeded fault simulator of tools/sim over many
// seeds and reports what it found.
//
//	go run ./tools/raftsim -seeds 1000 -steps 2000 -nodes 3,5 -drop 0.05
//
// Each seed runs a whole cluster of real RawNodes through alternating
// phases of chaos (lost, duplicated and reordered messages, partitions,
// crashes with torn writes, slow disks, process pauses, membership
// changes, leadership transfers) and calm, under a client workload of
// writes and reads, with whole or chunked snapshot transfer, and with the
// library's invariants after every input, every safety checker,
// linearizability, liveness and the memory bounds (judged from the
// simulator's own network and Readys too) checked along the way. The settings of each seed are drawn from the
// flags (see -h); a failure prints the seed and the command line that
// replays it exactly, which -trace prints event by event and -shrink
// reduces to a shorter failing run.
//
// While it runs, a progress line goes to stderr; at the end, a summary to
// stdout: seeds and steps run, faults by kind, reads and writes checked,
// violations, the slowest election and the longest unavailability. The
// exit status is 1 if any run failed, 2 for a usage error.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/tickraft/raft/tools/sim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// settings are the flags of the command beside those of the Mix.
type settings struct {
	seeds              uint64
	trace, shrink, all bool
	parallel           int
	shrinkRuns         int
}

// run runs the command with args and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("raftsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mixOf := sim.BindFlags(fs)
	var st settings
	fs.Uint64Var(&st.seeds, "seeds", 100, "number of seeds to run, from -seed on")
	fs.BoolVar(&st.trace, "trace", false, "print every event of each run (use with -seeds 1)")
	fs.BoolVar(&st.shrink, "shrink", false, "shrink each failing run to a shorter one that fails alike")
	fs.IntVar(&st.shrinkRuns, "shrink-runs", 300, "most runs one shrink may make")
	fs.BoolVar(&st.all, "v", false, "print one line per seed")
	fs.IntVar(&st.parallel, "parallel", runtime.GOMAXPROCS(0), "seeds run at once")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	mix, err := mixOf()
	if err != nil || fs.NArg() > 0 || st.parallel < 1 {
		fmt.Fprintf(stderr, "raftsim: bad flags: %v %v\n", err, fs.Args())
		return 2
	}
	if st.trace {
		mix.Base.Trace = stdout
		st.parallel = 1
	}
	sum := runSeeds(mix, st, stderr)
	sum.print(stdout)
	for _, r := range sum.failures {
		report(stdout, r, st)
	}
	if len(sum.failures) > 0 {
		return 1
	}
	return 0
}

// summary gathers the results of the runs.
type summary struct {
	runs, steps, ticks uint64
	stats              sim.Stats
	failures           []sim.Result
	elapsed            time.Duration
}

// runSeeds runs every seed, st.parallel at a time, printing progress.
func runSeeds(mix sim.Mix, st settings, stderr io.Writer) summary {
	first := mix.Base.Seed
	results := make([]sim.Result, st.seeds)
	var (
		wg                  sync.WaitGroup
		mu                  sync.Mutex
		next, done          uint64
		doneSteps, violated uint64 // for the progress line only
	)
	start := time.Now()
	lastPrint := start
	for w := 0; w < st.parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= st.seeds {
					return
				}
				r, err := sim.Run(mix.Options(first + i))
				if err != nil {
					r.Failure = &sim.Failure{Class: "settings", Err: err}
				}
				mu.Lock()
				results[i] = r
				done++
				doneSteps += r.Steps
				if r.Failure != nil {
					violated++
				}
				if time.Since(lastPrint) > time.Second || done == st.seeds {
					lastPrint = time.Now()
					fmt.Fprintf(stderr, "\rraftsim: %d/%d seeds, %d steps, %d violations, %s ",
						done, st.seeds, doneSteps, violated, time.Since(start).Round(time.Second))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Fprintln(stderr)
	sum := summary{elapsed: time.Since(start)}
	for _, r := range results {
		sum.runs++
		sum.steps += r.Steps
		sum.ticks += r.Ticks
		sum.stats.Add(r.Stats)
		if r.Failure != nil {
			sum.failures = append(sum.failures, r) // in seed order
		}
		if st.all {
			fmt.Fprintf(stderr, "seed %d: %d steps, %d events, hash %016x, %v\n", r.Options.Seed, r.Steps, r.Events, r.Hash, describeFailure(r))
		}
	}
	return sum
}

// describeFailure returns "ok" or the failure.
func describeFailure(r sim.Result) string {
	if r.Failure == nil {
		return "ok"
	}
	return r.Failure.Error()
}

// print writes the summary.
func (s summary) print(w io.Writer) {
	st := s.stats
	fmt.Fprintf(w, "seeds:       %d (%d steps, %d ticks of virtual time, %s)\n", s.runs, s.steps, s.ticks, s.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "faults:      %s\n", st.DescribeFaults())
	fmt.Fprintf(w, "nodes:       %d crashes (%d torn writes), %d restarts, %d elections, %d snapshots applied, %d compactions\n",
		st.Crashes, st.TornWrites, st.Restarts, st.Elections, st.SnapshotsApplied, st.Compactions)
	fmt.Fprintf(w, "membership:  %d conf changes proposed, %d accepted, %d applied on nodes; %d transfers, %d accepted\n",
		st.ConfProposals, st.ConfAccepted, st.ConfChangesApplied, st.Transfers, st.TransfersAccepted)
	fmt.Fprintf(w, "checked:     %d writes (%d acknowledged, %d of unknown outcome), %d linearizable reads, %d local reads, %d calm phases\n",
		st.Writes, st.WritesAcked, st.WritesPending, st.Reads, st.LocalReads, st.LivenessWindows)
	fmt.Fprintf(w, "timing:      slowest election %d ticks, longest unavailability %d ticks\n", st.SlowestElectionTicks, st.LongestUnavailableTicks)
	fmt.Fprintf(w, "liveness:    transfers accepted by a leader: %d elected their target, %d another leader, %d ended without a new leader; %d MsgTimeoutNow sent; %d pauses beyond an election timeout\n",
		st.TransfersCompleted, st.TransfersOtherLeader, st.TransfersNoLeader, st.TransfersHandedOver, st.LongPauses)
	fmt.Fprintf(w, "snapshots:   %d chunked transfers installed, %d chunks saved, %d chunks served by followers\n", st.ChunkedSnapshots, st.ChunksSaved, st.ChunksFromFollowers)
	fmt.Fprintf(w, "stalls:      %d long leader disk stalls ended by a new leader's entry (%d async, %d sync; slowest %d ticks after a write waited), %d lifted idle, %d cut short by calm, %d lifted as a conf change made the stalled node needed; %d snapshots lost unreported\n",
		st.LongStallsAsync+st.LongStallsSync, st.LongStallsAsync, st.LongStallsSync, st.SlowestStallHandoverTicks, st.LongStallsIdle, st.LongStallsCut, st.LongStallsExcused, st.SnapshotsLostUnreported)
	fmt.Fprintf(w, "quiescence:  %d node-ticks asleep, %d ticks skipped by hosts and handed over at wake, %d leaders reported down\n",
		st.QuiescedTicks, st.SkippedTicks, st.PeerDownReports)
	fmt.Fprintf(w, "bounds:      peak inflight %d bytes (on the wire %d), peak uncommitted %d bytes, peak handed out to apply %d bytes\n",
		st.PeakInflightBytes, st.PeakWireInflightBytes, st.PeakUncommittedBytes, st.PeakApplyingBytes)
	fmt.Fprintf(w, "violations:  %d\n", len(s.failures))
}

// report prints one failure with the command that replays it, shrunk
// first if asked.
func report(w io.Writer, r sim.Result, st settings) {
	fmt.Fprintf(w, "\nFAIL seed %d: %v\nreplay: %s -trace\n", r.Options.Seed, r.Failure, r.Options.Command())
	if !st.shrink {
		return
	}
	small := sim.Shrink(r, st.shrinkRuns)
	fmt.Fprintf(w, "shrunk to %d steps, %d nodes, %d faults: %v\nreplay: %s -trace\n",
		small.Options.Steps, small.Options.Nodes, len(small.Faults), small.Failure, small.Options.Command())
}
