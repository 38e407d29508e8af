package walbench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Options says what Compare measures and how.
type Options struct {
	// Runs is how many times every measurement runs (medians are taken
	// over them); the order of the libraries turns by one between runs.
	Runs int
	// Budget is how long one save measurement runs its timed saves.
	Budget time.Duration
	// MaxSaves caps the timed saves of one measurement.
	MaxSaves int
	// Points are the save workloads; Drivers the libraries, by name.
	Points  []Point
	Drivers []string
	// ReplayEntries is how many entries the replay measurement reopens
	// (zero: none), at each of ReplayPayloads.
	ReplayEntries  int
	ReplayPayloads []int
	// Dir is where the logs go: a directory on a real disk.
	Dir string
	// Exe is the program that runs a worker when started with WorkerFlag.
	Exe string
	// Counter counts the workers' system calls.
	Counter Counter
	// CountRuns is how many of the runs (the first ones) also count each
	// library's system calls per save; the counts depend on the library's
	// code and the workload, not on the state of the disk, and counting
	// takes two more workers per library and point.
	CountRuns int
	// Progress receives a line per measurement; nil discards them.
	Progress io.Writer
}

// SaveSample is one save measurement with the system calls its process
// made per timed save: the measurement's counts less those of the same
// measurement with no timed save (the log's creation, warm-up and close).
// Counted is false when the run counted no system calls.
type SaveSample struct {
	SaveResult
	Counted        bool
	SyncsPerSave   float64
	WritesPerSave  float64
	FallocsPerSave float64
}

// Report holds every sample Compare took, by point and library, in run
// order.
type Report struct {
	Options Options
	FSType  string
	Saves   map[Point]map[string][]SaveSample
	Replays map[int]map[string][]ReplayResult
}

// Compare runs every measurement of opts in worker processes: at each
// point of a run, one worker measures every library, interleaved (see
// MeasureInterleaved), and then a worker per library counts its system
// calls; each replay runs in a worker of its own, the libraries one after
// the other. The first library of a run is the second of the run before.
func Compare(opts Options) (*Report, error) {
	fsType, err := checkRealDisk(opts.Dir)
	if err != nil {
		return nil, err
	}
	rep := &Report{Options: opts, FSType: fsType,
		Saves: map[Point]map[string][]SaveSample{}, Replays: map[int]map[string][]ReplayResult{}}
	for run := range opts.Runs {
		order := rotate(opts.Drivers, run)
		for _, p := range opts.Points {
			samples, err := measureSaveSamples(opts, order, p, run < opts.CountRuns)
			if err != nil {
				return nil, err
			}
			if rep.Saves[p] == nil {
				rep.Saves[p] = map[string][]SaveSample{}
			}
			for _, s := range samples {
				rep.Saves[p][s.Driver] = append(rep.Saves[p][s.Driver], s)
				progress(opts, "run %d %s %-11s %10.0f entries/s p50 %v\n", run+1, p, s.Driver, s.EntriesPerSecond(), s.P50)
			}
		}
		if opts.ReplayEntries == 0 {
			continue
		}
		for _, size := range opts.ReplayPayloads {
			for _, name := range order {
				r, err := measureReplaySample(opts, name, size)
				if err != nil {
					return nil, err
				}
				if rep.Replays[size] == nil {
					rep.Replays[size] = map[string][]ReplayResult{}
				}
				rep.Replays[size][name] = append(rep.Replays[size][name], r)
				progress(opts, "run %d replay size=%d %-11s cold %v warm %v\n", run+1, size, name, r.Cold, r.Warm)
			}
		}
	}
	return rep, nil
}

// rotate returns names turned left by k.
func rotate(names []string, k int) []string {
	out := make([]string, 0, len(names))
	for i := range names {
		out = append(out, names[(i+k)%len(names)])
	}
	return out
}

func progress(opts Options, format string, args ...any) {
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, format, args...)
	}
}

// CountSaves caps the saves of the runs that count a library's system
// calls.
const CountSaves = 200

// measureSaveSamples measures the libraries of order at p in one worker,
// interleaved, then counts each one's system calls per save in workers
// of its own: one that makes as many saves as the library made in the
// interleaved measurement (at most CountSaves) and one that makes none
// (creation, warm-up and close), the difference divided by the saves.
func measureSaveSamples(opts Options, order []string, p Point, count bool) ([]SaveSample, error) {
	job := workerJob{kind: "interleaved", driver: strings.Join(order, ","), point: p, budget: opts.Budget, maxSaves: opts.MaxSaves, dir: opts.Dir}
	var results []SaveResult
	if _, err := runWorker(opts, job, &results); err != nil {
		return nil, err
	}
	samples := make([]SaveSample, 0, len(results))
	for _, res := range results {
		if res.Saves == 0 {
			return nil, fmt.Errorf("walbench: %s made no save at %s", res.Driver, p)
		}
		if !count {
			samples = append(samples, SaveSample{SaveResult: res})
			continue
		}
		n := min(res.Saves, CountSaves)
		count := workerJob{kind: "save", driver: res.Driver, point: p, budget: time.Hour, maxSaves: n, dir: opts.Dir}
		var ignored SaveResult
		counts, err := runWorker(opts, count, &ignored)
		if err != nil {
			return nil, err
		}
		count.maxSaves = 0
		base, err := runWorker(opts, count, &ignored)
		if err != nil {
			return nil, err
		}
		per := func(names []string) float64 {
			return float64(counts.sum(names)-base.sum(names)) / float64(n)
		}
		samples = append(samples, SaveSample{SaveResult: res, Counted: true,
			SyncsPerSave:   per(syncSyscalls),
			WritesPerSave:  per(writeSyscalls),
			FallocsPerSave: per([]string{"fallocate"}),
		})
	}
	return samples, nil
}

// measureReplaySample runs the replay measurement of name at size.
func measureReplaySample(opts Options, name string, size int) (ReplayResult, error) {
	job := workerJob{kind: "replay", driver: name, point: Point{Payload: size, PerSave: replayFillPerSave}, entries: opts.ReplayEntries, dir: opts.Dir}
	var res ReplayResult
	_, err := runWorker(opts, job, &res)
	return res, err
}

// runWorker runs job in a worker process under the counter and decodes
// its result into res.
func runWorker(opts Options, job workerJob, res any) (SyscallCounts, error) {
	var out strings.Builder
	counts, err := opts.Counter.Run(append([]string{opts.Exe}, job.args()...), &out)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(out.String()), res); err != nil {
		return nil, fmt.Errorf("walbench: worker %v printed %q: %w", job.args(), out.String(), err)
	}
	return counts, nil
}

// checkRealDisk refuses a directory on a file system held in memory, and
// returns the name of the one it is on.
func checkRealDisk(dir string) (string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", fmt.Errorf("walbench: %s is not a directory", dir)
	}
	name, inMemory, err := fsTypeOf(dir)
	if err != nil {
		return "", err
	}
	if inMemory {
		return "", fmt.Errorf("walbench: %s is on %s, held in memory: give a directory on a disk with -dir", dir, name)
	}
	return name, nil
}
