package sim

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// uintList is a flag of comma-separated unsigned integers.
type uintList []uint64

// String returns the list as "1,2,3" (flag.Value).
func (l *uintList) String() string { return joinUints(*l) }

// Set parses a list like "1,2,3" (flag.Value).
func (l *uintList) Set(s string) error {
	*l = nil
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		v, err := strconv.ParseUint(part, 10, 64)
		if err != nil {
			return err
		}
		*l = append(*l, v)
	}
	return nil
}

// probFlag is a flag of a Probability.
type probFlag struct{ p *Probability }

// String returns the probability (flag.Value).
func (f probFlag) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.FormatFloat(float64(*f.p), 'g', -1, 64)
}

// Set parses a probability in [0, 1] (flag.Value).
func (f probFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1 {
		return fmt.Errorf("want a probability in [0, 1], not %q", s)
	}
	*f.p = Probability(v)
	return nil
}

// BindFlags defines on fs the flags that set a Mix (the flags Command
// prints, and -nodes as a list) with DefaultMix's values as defaults. The
// returned function builds the Mix once fs is parsed.
func BindFlags(fs *flag.FlagSet) func() (Mix, error) {
	m := DefaultMix()
	o := &m.Base
	fs.Uint64Var(&o.Seed, "seed", 1, "the seed of the first run")
	fs.IntVar(&o.Steps, "steps", defaultSteps, "steps of virtual time per run, before the final calm phase")
	fs.IntVar(&o.StepsPerTick, "steps-per-tick", defaultStepsPerTick, "steps per tick")
	nodes := uintList{3, 5, 7}
	fs.Var(&nodes, "nodes", "node counts to draw from, e.g. 3,5")
	fs.IntVar(&o.Spares, "spares", 0, "nodes outside the boot configuration (0: 2 with conf changes)")
	for _, c := range []struct {
		name string
		p    *Choice
	}{{"async", &m.Async}, {"lease", &m.Lease}, {"prevote", &m.PreVote}, {"checkquorum", &m.CheckQuorum}, {"bounds", &m.Bounds}, {"chunks", &m.Chunks}, {"report-snapshots", &m.SnapshotReports}, {"quiesce", &m.Quiesce}} {
		fs.Var(c.p, c.name, "off, on or both (drawn per seed)")
	}
	fs.IntVar(&o.ElectionTick, "election-tick", 0, "election timeout in ticks (0: drawn in [5, 10])")
	latency := uintList{1, 4, 2}
	fs.Var(&latency, "latency", "link latency: least and most base steps, and jitter steps")
	fs.IntVar(&o.ReorderTicks, "reorder-ticks", 3, "longest delay of a reordered message, in ticks")
	fs.IntVar(&o.DiskLatency, "disk-latency", 3, "longest time a write takes to be durable, in steps")
	fs.IntVar(&o.StallTicks, "stall-ticks", 3, "length of a disk stall, in ticks")
	fs.IntVar(&o.StorageStallTicks, "storage-stall-ticks", 0, "Config.StorageStallTicks (0: 3 election timeouts)")
	fs.Uint64Var(&o.SnapshotChunkSize, "chunk-size", 0, "with -chunks off: the chunked snapshot transfer's chunk size in bytes (0: whole snapshots)")
	fs.Uint64Var(&o.SnapshotInterval, "snapshot-interval", 0, "with -chunk-size: the snapshot interval in entries (0: 8)")
	phases := uintList{}
	fs.Var(&phases, "phases", "chaos, calm and liveness-budget ticks (see sim.Options)")
	bindFaults(fs, &o.Faults)
	bindWorkload(fs, &o.Workload)
	limits := uintList{}
	fs.Var(&limits, "limits", "with -bounds off: MaxSizePerMsg, MaxInflightMsgs, MaxInflightBytes, MaxUncommittedEntriesSize, MaxCommittedSizePerReady, MaxPendingReads")
	fs.IntVar(&o.FullCheckEvery, "full-check-every", 0, "run the whole-History checkers every N steps too (0: at phase changes only)")
	skip := uintList{}
	fs.Var(&skip, "skip", "fault ordinals not to inject (from a shrunk failure)")
	return func() (Mix, error) {
		m.Sizes = m.Sizes[:0]
		for _, n := range nodes {
			m.Sizes = append(m.Sizes, int(n))
		}
		if len(latency) != 3 || (len(phases) != 0 && len(phases) != 3) || (len(limits) != 0 && len(limits) != 6) {
			return Mix{}, fmt.Errorf("-latency takes 3 numbers, -phases 3 and -limits 6")
		}
		o.LatencyMin, o.LatencyMax, o.Jitter = int(latency[0]), int(latency[1]), int(latency[2])
		if len(phases) == 3 {
			o.ChaosTicks, o.CalmTicks, o.LivenessTicks = int(phases[0]), int(phases[1]), int(phases[2])
		}
		if len(limits) == 6 {
			o.Bounds = Bounds{MaxSizePerMsg: limits[0], MaxInflightMsgs: int(limits[1]), MaxInflightBytes: limits[2],
				MaxUncommittedEntriesSize: limits[3], MaxCommittedSizePerReady: limits[4], MaxPendingReads: int(limits[5])}
		}
		o.Skip = nil
		if len(skip) > 0 {
			o.Skip = skip
		}
		return m, nil
	}
}

// probDef is the flag of one Probability: its name, the field it sets
// and what it is.
type probDef struct {
	name string
	p    *Probability
	what string
}

// bindProbs defines the flags of defs, note closing each usage line.
func bindProbs(fs *flag.FlagSet, note string, defs ...probDef) {
	for _, d := range defs {
		fs.Var(probFlag{d.p}, d.name, d.what+note)
	}
}

// bindFaults defines the flags of the fault rates.
func bindFaults(fs *flag.FlagSet, f *Faults) {
	bindProbs(fs, " (chaos phases)",
		probDef{"drop", &f.Drop, "chance a message is lost"},
		probDef{"dup", &f.Duplicate, "chance a message is delivered twice"},
		probDef{"reorder", &f.Reorder, "chance a message is held back"},
		probDef{"partition", &f.Partition, "chance per tick of a new partition"},
		probDef{"heal", &f.Heal, "chance per tick that the network heals"},
		probDef{"crash", &f.Crash, "chance per tick that a node crashes"},
		probDef{"restart", &f.Restart, "chance per tick that a crashed node restarts"},
		probDef{"stall", &f.DiskStall, "chance per tick that a disk stalls"},
		probDef{"confchange", &f.ConfChange, "chance per tick of a conf change"},
		probDef{"transfer", &f.Transfer, "chance per tick of a leadership transfer"},
		probDef{"forget", &f.ForgetLeader, "chance per tick that a follower forgets its leader"},
		probDef{"campaign", &f.Campaign, "chance per tick that a node is told to campaign"},
		probDef{"pause", &f.Pause, "chance per tick that a node's process pauses"},
		probDef{"lose-log", &f.LoseLog, "chance that a restarting node's disk lost a suffix of its log (it recovers)"},
		probDef{"lose-overwrite", &f.LoseOverwrite, "chance that a restarting node's disk silently lost its last overwrite (an older term's tail is back)"},
		probDef{"long-stall", &f.LongStall, "chance per tick that the leader's disk stops for longer than -storage-stall-ticks"},
	)
}

// bindWorkload defines the flags of the workload.
func bindWorkload(fs *flag.FlagSet, w *Workload) {
	fs.IntVar(&w.Clients, "clients", w.Clients, "clients, one operation at a time each")
	fs.IntVar(&w.Keys, "keys", w.Keys, "keys written and read")
	bindProbs(fs, "",
		probDef{"op-rate", &w.OpRate, "chance per tick that an idle client starts an operation"},
		probDef{"reads", &w.ReadShare, "share of operations that are linearizable reads"},
		probDef{"local-reads", &w.LocalReadShare, "share of operations that are local reads"},
		probDef{"large", &w.LargeWrites, "share of writes with a large payload"},
		probDef{"compact", &w.Compact, "chance per tick and node of a compaction"},
	)
}
