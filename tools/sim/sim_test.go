package sim

import (
	"os"
	"strconv"
	"sync"
	"testing"
)

// The bounded run of CI: ciSeeds seeds of ciSteps steps of DefaultMix
// (3, 5 and 7 nodes, both storage modes, lease reads, pre-vote,
// check-quorum and tight bounds on and off, the default faults and
// workload). TICKRAFT_SOAK=N runs N seeds of defaultSteps instead:
//
//	TICKRAFT_SOAK=5000 go test ./tools/sim -run TestSimulatedClusters -v
const (
	ciSeeds = 200
	ciSteps = 1200
)

func TestSimulatedClustersKeepSafetyLinearizabilityAndLiveness(t *testing.T) {
	seeds, steps := uint64(ciSeeds), ciSteps
	if soak := os.Getenv("TICKRAFT_SOAK"); soak != "" {
		n, err := strconv.ParseUint(soak, 10, 64)
		if err != nil {
			t.Fatalf("TICKRAFT_SOAK=%q: %v", soak, err)
		}
		seeds, steps = n, defaultSteps
	}
	mix := DefaultMix()
	mix.Base.Steps = steps
	var (
		mu    sync.Mutex
		total Stats
		runs  int
	)
	const workers = 2
	t.Run("workers", func(t *testing.T) {
		for w := uint64(0); w < workers; w++ {
			t.Run(strconv.FormatUint(w, 10), func(t *testing.T) {
				t.Parallel()
				for seed := 1 + w; seed <= seeds; seed += workers {
					r, err := Run(mix.Options(seed))
					if err != nil {
						t.Fatal(err)
					}
					mu.Lock()
					total.Add(r.Stats)
					runs++
					mu.Unlock()
					if r.Failure != nil {
						t.Errorf("seed %d: %v\nreplay: %s -trace\nshrink: %s -shrink", seed, r.Failure, r.Options.Command(), r.Options.Command())
					}
				}
			})
		}
	})
	t.Logf("%d runs of %d steps: faults %s", runs, steps, total.DescribeFaults())
	t.Logf("%+v", total)
	requireCoverage(t, total)
}

// requireCoverage fails the test if the runs missed a path they claim to
// test.
func requireCoverage(t *testing.T, s Stats) {
	t.Helper()
	for name, n := range map[string]int{
		"torn writes": s.TornWrites, "snapshots applied": s.SnapshotsApplied, "conf changes applied": s.ConfChangesApplied,
		"transfers accepted": s.TransfersAccepted, "writes acknowledged": s.WritesAcked, "writes of unknown outcome": s.WritesPending,
		"linearizable reads": s.Reads, "local reads": s.LocalReads, "liveness windows judged": s.LivenessWindows,
		"partitions": s.Faults[FaultPartition], "one-way cuts": s.Faults[FaultOneWay], "crashes": s.Faults[FaultCrash],
		"disk stalls": s.Faults[FaultDiskStall], "pauses": s.Faults[FaultPause], "lost logs": s.Faults[FaultLoseLog],
		"pauses beyond an election timeout": s.LongPauses, "snapshots installed from chunks": s.ChunkedSnapshots,
		"chunks served by followers": s.ChunksFromFollowers, "MsgTimeoutNow sent": s.TransfersHandedOver,
		"long stalls of an asynchronous leader's disk judged": s.LongStallsAsync, "long stalls of a synchronous leader's disk judged": s.LongStallsSync,
		"snapshots lost without a report": s.SnapshotsLostUnreported,
		// Quiescence's host paths, counted from the event log and the
		// network model (not from BasicStatus.Quiesced or the counters
		// kept beside the calls): skipped ticks handed over at a wake, and
		// ReportPeerDown on a leader out of reach and on one within it.
		"skipped ticks handed over at a wake":                        s.LoggedTickHandovers,
		"peer-down reports of an unreachable leader":                 s.LoggedPeerDownUnreachable,
		"peer-down reports of a reachable leader (false suspicions)": s.LoggedFalseSuspicions,
	} {
		if n == 0 {
			t.Errorf("the runs test too little: no %s", name)
		}
	}
}
