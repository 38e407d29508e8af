package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// Choice is a setting of a Mix that may be off, on, or drawn per seed.
type Choice uint8

// The choices.
const (
	Off Choice = iota
	On
	Both
)

// String returns "off", "on" or "both".
func (c Choice) String() string {
	switch c {
	case Off:
		return "off"
	case On:
		return "on"
	}
	return "both"
}

// Set parses "off", "on" or "both" (flag.Value).
func (c *Choice) Set(s string) error {
	switch s {
	case "off", "false":
		*c = Off
	case "on", "true":
		*c = On
	case "both":
		*c = Both
	default:
		return fmt.Errorf("want off, on or both, not %q", s)
	}
	return nil
}

// Mix draws the settings of each run of a batch from its seed: the node
// count among Sizes, each Choice that is Both by a coin, the election
// timeout (when Base leaves it zero) in [5, 10], and, when Bounds is on,
// small back-pressure limits that the workload reaches. Everything else
// comes from Base. The same seed gives the same Options.
type Mix struct {
	Base                                       Options
	Sizes                                      []int
	Async, Lease, PreVote, CheckQuorum, Bounds Choice
	// Chunks turns on the chunked snapshot transfer, with a chunk size of
	// 16, 32 or 64 bytes and a snapshot interval of 4, 8 or 16 entries.
	Chunks Choice
	// Quiesce turns on quiescence (Options.Quiesce).
	Quiesce Choice
	// SnapshotReports is whether the transport calls ReportSnapshot;
	// off is drawn only for seeds with whole-snapshot transfer, whose
	// lost snapshots the library must then send again by itself.
	SnapshotReports Choice
}

// DefaultFaults are the fault rates of the bounded runs in CI and the
// command line's defaults.
func DefaultFaults() Faults {
	return Faults{
		Drop: 0.05, Duplicate: 0.02, Reorder: 0.05,
		Partition: 0.02, Heal: 0.05, Crash: 0.01, Restart: 0.05, DiskStall: 0.01,
		ConfChange: 0.02, Transfer: 0.01, ForgetLeader: 0.005, Campaign: 0.005, Pause: 0.01,
		LoseLog: 0.2, LongStall: 0.02,
	}
}

// DefaultWorkload is the workload of the bounded runs in CI and the
// command line's defaults.
func DefaultWorkload() Workload {
	return Workload{Clients: 4, Keys: 3, OpRate: 0.5, ReadShare: 0.3, LocalReadShare: 0.1, LargeWrites: 0.05, Compact: 0.02}
}

// DefaultMix varies everything: 3, 5 or 7 nodes, both storage modes,
// lease reads, pre-vote, check-quorum and bounds on and off, with the
// default faults and workload.
func DefaultMix() Mix {
	return Mix{
		Base:  Options{Faults: DefaultFaults(), Workload: DefaultWorkload()},
		Sizes: []int{3, 5, 7}, Async: Both, Lease: Both, PreVote: Both, CheckQuorum: Both, Bounds: Both,
		Chunks: Both, SnapshotReports: Both, Quiesce: Both,
	}
}

// Options returns the settings of the run of seed.
func (m Mix) Options(seed uint64) Options {
	r := newRNG(seed, streamMix)
	o := m.Base
	o.Seed = seed
	coin := func(c Choice) bool {
		heads := r.IntN(2) == 1 // drawn whatever c, so that draws line up
		return c == On || (c == Both && heads)
	}
	size := r.IntN(1 << 20)
	if len(m.Sizes) > 0 {
		o.Nodes = m.Sizes[size%len(m.Sizes)]
	}
	o.Async = coin(m.Async)
	o.LeaseReads = coin(m.Lease)
	o.DisablePreVote = !coin(m.PreVote)
	o.DisableCheckQuorum = !coin(m.CheckQuorum) && !o.LeaseReads
	tick := r.between(5, 10)
	if o.ElectionTick == 0 {
		o.ElectionTick = tick
	}
	bounds := coin(m.Bounds)
	draws := [6]int{r.IntN(3), r.IntN(3), r.IntN(3), r.IntN(3), r.IntN(3), r.IntN(3)}
	if bounds {
		o.Bounds = Bounds{
			MaxSizePerMsg:             [3]uint64{0, 64, 1024}[draws[0]],
			MaxInflightMsgs:           [3]int{0, 1, 4}[draws[1]],
			MaxInflightBytes:          [3]uint64{0, 1 << 10, 4 << 10}[draws[2]],
			MaxUncommittedEntriesSize: [3]uint64{0, 2 << 10, 8 << 10}[draws[3]],
			MaxCommittedSizePerReady:  [3]uint64{0, 256, 4 << 10}[draws[4]],
			MaxPendingReads:           [3]int{0, 2, 8}[draws[5]],
		}
	}
	chunks, size, interval := coin(m.Chunks), r.IntN(3), r.IntN(3)
	if chunks && o.SnapshotChunkSize == 0 {
		o.SnapshotChunkSize = [3]uint64{16, 32, 64}[size]
		o.SnapshotInterval = [3]uint64{4, 8, 16}[interval]
	}
	if !coin(m.SnapshotReports) && o.SnapshotChunkSize == 0 {
		o.NoSnapshotReports = true
	}
	// Drawn last, so that the draws above are those of the runs before
	// quiescence existed.
	o.Quiesce = o.Quiesce || coin(m.Quiesce)
	return o
}

// Command returns the command line of tools/raftsim that replays the run
// of o exactly: every setting explicit, nothing drawn.
func (o Options) Command() string {
	o = o.withDefaults()
	f, w, b := o.Faults, o.Workload, o.Bounds
	onOff := func(v bool) string { return Choice(boolBit(v)).String() }
	p := func(v Probability) string { return strconv.FormatFloat(float64(v), 'g', -1, 64) }
	args := []string{
		"go run ./tools/raftsim", "-seed", fmt.Sprint(o.Seed), "-seeds 1",
		"-steps", fmt.Sprint(o.Steps), "-steps-per-tick", fmt.Sprint(o.StepsPerTick),
		"-nodes", fmt.Sprint(o.Nodes), "-spares", fmt.Sprint(o.Spares),
		"-async", onOff(o.Async), "-lease", onOff(o.LeaseReads), "-quiesce", onOff(o.Quiesce),
		"-prevote", onOff(!o.DisablePreVote), "-checkquorum", onOff(!o.DisableCheckQuorum),
		"-election-tick", fmt.Sprint(o.ElectionTick),
		"-latency", fmt.Sprintf("%d,%d,%d", o.LatencyMin, o.LatencyMax, o.Jitter),
		"-reorder-ticks", fmt.Sprint(o.ReorderTicks), "-disk-latency", fmt.Sprint(o.DiskLatency),
		"-stall-ticks", fmt.Sprint(o.StallTicks), "-storage-stall-ticks", fmt.Sprint(o.StorageStallTicks),
		"-phases", fmt.Sprintf("%d,%d,%d", o.ChaosTicks, o.CalmTicks, o.LivenessTicks),
		"-drop", p(f.Drop), "-dup", p(f.Duplicate), "-reorder", p(f.Reorder),
		"-partition", p(f.Partition), "-heal", p(f.Heal), "-crash", p(f.Crash), "-restart", p(f.Restart),
		"-stall", p(f.DiskStall), "-confchange", p(f.ConfChange), "-transfer", p(f.Transfer), "-forget", p(f.ForgetLeader), "-campaign", p(f.Campaign), "-pause", p(f.Pause), "-lose-log", p(f.LoseLog), "-lose-overwrite", p(f.LoseOverwrite), "-long-stall", p(f.LongStall),
		"-clients", fmt.Sprint(w.Clients), "-keys", fmt.Sprint(w.Keys), "-op-rate", p(w.OpRate),
		"-reads", p(w.ReadShare), "-local-reads", p(w.LocalReadShare), "-large", p(w.LargeWrites), "-compact", p(w.Compact),
		"-chunks off", "-report-snapshots", onOff(!o.NoSnapshotReports), "-chunk-size", fmt.Sprint(o.SnapshotChunkSize), "-snapshot-interval", fmt.Sprint(o.SnapshotInterval),
		"-bounds off", "-limits", fmt.Sprintf("%d,%d,%d,%d,%d,%d", b.MaxSizePerMsg, b.MaxInflightMsgs, b.MaxInflightBytes,
			b.MaxUncommittedEntriesSize, b.MaxCommittedSizePerReady, b.MaxPendingReads),
	}
	if o.FullCheckEvery > 0 {
		args = append(args, "-full-check-every", fmt.Sprint(o.FullCheckEvery))
	}
	if len(o.Skip) > 0 {
		args = append(args, "-skip", joinUints(o.Skip))
	}
	return strings.Join(args, " ")
}

// joinUints returns vs as "1,2,3".
func joinUints(vs []uint64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.FormatUint(v, 10)
	}
	return strings.Join(parts, ",")
}
