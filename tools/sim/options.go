package sim

import (
	"fmt"
	"io"
	"slices"
)

// Probability is the chance of an event, from 0 (never) to 1 (always).
type Probability float64

// Faults are the rates at which the chaos phases inject faults. The
// message faults apply to every message sent; the others are drawn once
// per tick of virtual time. The calm phases inject none.
type Faults struct {
	// Drop loses a message, Duplicate delivers it twice, Reorder delays
	// it by up to ReorderTicks beyond its latency so that later messages
	// overtake it.
	Drop, Duplicate, Reorder Probability
	// Partition cuts the network: in two groups, one way between two
	// nodes, or around one node. Heal removes every cut.
	Partition, Heal Probability
	// Crash stops a running node, losing every write not yet durable
	// (the oldest one torn); Restart starts a crashed node again.
	Crash, Restart Probability
	// DiskStall makes one node's writes take several ticks for a while.
	DiskStall Probability
	// ConfChange proposes a membership change, Transfer a leadership
	// transfer, ForgetLeader makes a follower forget its leader (never
	// with lease reads, whose safety it would void), Campaign makes a
	// node start an election (RawNode.Campaign).
	ConfChange, Transfer, ForgetLeader, Campaign Probability
	// Pause stops a node's process for between one tick and three
	// election timeouts: no ticks, no messages stepped (they are held
	// until it resumes), nothing sent (see pause.go).
	Pause Probability
	// LoseLog is the chance that a crashed node's disk, when it restarts,
	// has lost a suffix of its durable log (the hard state and snapshot
	// intact): it restarts in recovering mode (Config.Recovering). Never
	// on a second node while one still recovers, so that fewer than a
	// quorum ever lost data (see loss.go).
	LoseLog Probability
	// LoseOverwrite is the chance that a crashed node's disk, when it
	// restarts, silently lost the last write that overwrote entries of
	// its log and every write after it: the older term's entries that
	// write replaced are back, and the node boots normally, as over a
	// storage that did not notice. Drawn before LoseLog, and only when
	// a majority of the other voters hold durably what the node lost, so
	// that the fault alone loses nothing (see loss.go). Zero draws
	// nothing, so runs without it are those of before it existed.
	LoseOverwrite Probability
	// LongStall stops the current leader's disk completing any write
	// for longer than Options.StorageStallTicks, then lets it resume; a
	// new leader must serve writes within a bound (see longstall.go).
	LongStall Probability
}

// Workload is what the clients do, in every phase.
type Workload struct {
	// Clients is the number of clients, each with one operation at a
	// time; Keys the number of keys they write and read.
	Clients, Keys int
	// OpRate is the chance, per tick, that an idle client starts an
	// operation (zero: none, but for the calm phases' probe writes; see
	// DefaultWorkload): a linearizable read (ReadIndex) with probability
	// ReadShare, a local read (ReadLocal) with LocalReadShare, a write
	// otherwise. LargeWrites is the share of writes that carry a large
	// payload, to reach the back-pressure bounds.
	OpRate, ReadShare, LocalReadShare, LargeWrites Probability
	// Compact is the chance, per tick and node, that the application
	// snapshots its state machine and compacts its log.
	Compact Probability
}

// Bounds are the back-pressure limits every node is configured with (the
// raft.Config fields of the same names; zero is the library's default).
type Bounds struct {
	MaxSizePerMsg             uint64
	MaxInflightMsgs           int
	MaxInflightBytes          uint64
	MaxUncommittedEntriesSize uint64
	MaxCommittedSizePerReady  uint64
	MaxPendingReads           int
}

// Options are the settings of one run. With the same Options (the seed
// included) a run is identical, event for event. The zero value of each
// field but Seed means its default.
type Options struct {
	// Seed seeds every random choice of the run.
	Seed uint64
	// Nodes is the number of voters the cluster boots with (default 3);
	// Spares the nodes outside it, running, that conf changes may add
	// (default 2 when ConfChange is set, else 0).
	Nodes, Spares int
	// Steps is the length of the run in steps of virtual time (default
	// 2000), before a final calm phase in which the cluster must
	// converge. StepsPerTick is the number of steps in a tick (default
	// 4): message and disk latencies are counted in steps.
	Steps, StepsPerTick int
	// Async runs every node with Config.AsyncStorageWrites.
	Async bool
	// LeaseReads turns on Config.LeaseReads (which requires CheckQuorum).
	LeaseReads bool
	// Quiesce turns on Config.Quiesce, with client lulls, hosts that skip
	// sleeping nodes' ticks and a failure detector (see quiesce.go).
	Quiesce bool
	// DisablePreVote and DisableCheckQuorum are the Config fields.
	DisablePreVote, DisableCheckQuorum bool
	// ElectionTick is Config.ElectionTick (default 6; HeartbeatTick is 1).
	ElectionTick int
	// LatencyMin and LatencyMax bound the base latency of each link, in
	// steps (defaults 1 and 4); Jitter adds up to that many steps to each
	// message (default 2), ReorderTicks is the longest delay of a
	// reordered message, in ticks (default 3).
	LatencyMin, LatencyMax, Jitter, ReorderTicks int
	// DiskLatency is the longest time a write takes to become durable,
	// in steps (default 3); a stalled disk adds StallTicks ticks.
	DiskLatency, StallTicks int
	// StorageStallTicks is Config.StorageStallTicks (default 3 election
	// timeouts, shorter than the library's default so that runs stay
	// short; well above StallTicks).
	StorageStallTicks int
	// NoSnapshotReports makes the transport never call ReportSnapshot,
	// with whole-snapshot transfer only: a lost MsgSnap is recovered by
	// the library's resend (Config.SnapshotRetryTicks) or not at all.
	NoSnapshotReports bool
	// ChaosTicks and CalmTicks are the lengths of the phases, which
	// alternate from the start (defaults 16 election timeouts, and the
	// liveness budget plus 4).
	ChaosTicks, CalmTicks int
	// LivenessTicks is the budget of a calm phase: within it a leader
	// must be elected and a write invoked in the phase must commit.
	// Default: 16 election timeouts with pre-vote, 30 without, where
	// candidates that cannot win still bump the term and split votes (in
	// 600 calm phases measured, the slowest took 3.5 and 9 election
	// timeouts to elect, 8 and 9.4 to commit).
	LivenessTicks int
	Faults        Faults
	Workload      Workload
	Bounds        Bounds
	// SnapshotChunkSize, if not zero, turns on the chunked snapshot
	// transfer (Config.SnapshotChunkSize), with SnapshotInterval
	// (Config.SnapshotInterval; default 8 when chunks are on) so that
	// followers serve chunks too; see chunks.go.
	SnapshotChunkSize, SnapshotInterval uint64
	// FullCheckEvery, if not zero, is the number of steps between two
	// runs of the whole-History checkers of tools/checker, besides the
	// runs at each phase change and at the end. Their cost grows with the
	// square of the run's length (they go over the whole History, and
	// CheckDurability compares every acknowledged write with every log
	// observed), so by default they
	// run only then; the cheap incremental checks run after every step.
	FullCheckEvery int
	// Skip lists fault ordinals (see Result.Faults) not to inject: the
	// draws are made, the fault is not. The shrinker sets it.
	Skip []uint64
	// Trace, if set, receives every event of the run, one per line.
	Trace io.Writer
	// Check, if set, is an extra checker called after every step; an
	// error fails the run. Tests use it to inject failures.
	Check func(*Sim) error
}

// Default settings.
const (
	defaultNodes        = 3
	defaultSteps        = 2000
	defaultStepsPerTick = 4
	defaultElectionTick = 6
	defaultSpares       = 2
)

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	setInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setInt(&o.Nodes, defaultNodes)
	setInt(&o.Steps, defaultSteps)
	setInt(&o.StepsPerTick, defaultStepsPerTick)
	setInt(&o.ElectionTick, defaultElectionTick)
	setInt(&o.LatencyMin, 1)
	setInt(&o.LatencyMax, 4)
	setInt(&o.Jitter, 2)
	setInt(&o.ReorderTicks, 3)
	setInt(&o.DiskLatency, 3)
	setInt(&o.StallTicks, 3)
	setInt(&o.StorageStallTicks, 3*o.ElectionTick)
	liveness := 16
	if o.DisablePreVote {
		liveness = 30
	}
	setInt(&o.LivenessTicks, liveness*o.ElectionTick)
	setInt(&o.ChaosTicks, 16*o.ElectionTick)
	setInt(&o.CalmTicks, o.LivenessTicks+4*o.ElectionTick)
	setInt(&o.Workload.Clients, 4)
	setInt(&o.Workload.Keys, 3)
	if o.SnapshotChunkSize > 0 && o.SnapshotInterval == 0 {
		o.SnapshotInterval = 8
	}
	if o.Spares == 0 && o.Faults.ConfChange > 0 {
		o.Spares = defaultSpares
	}
	return o
}

// maxNodes bounds Nodes+Spares.
const maxNodes = 9

// validate reports the first setting a run cannot use.
func (o Options) validate() error {
	switch {
	case o.Nodes < 1 || o.Nodes+o.Spares > maxNodes || o.Spares < 0:
		return fmt.Errorf("sim: %d nodes and %d spares: want at least 1 node and at most %d in all", o.Nodes, o.Spares, maxNodes)
	case o.Steps < 0 || o.StepsPerTick < 1:
		return fmt.Errorf("sim: %d steps of %d per tick", o.Steps, o.StepsPerTick)
	case o.ElectionTick < 3:
		return fmt.Errorf("sim: ElectionTick %d: want at least 3", o.ElectionTick)
	case o.LeaseReads && o.DisableCheckQuorum:
		return fmt.Errorf("sim: lease reads require CheckQuorum")
	case o.LatencyMin < 1 || o.LatencyMax < o.LatencyMin || o.Jitter < 0 || o.DiskLatency < 0:
		return fmt.Errorf("sim: latencies: link [%d, %d] steps, jitter %d, disk %d: the link latency must be at least 1 step",
			o.LatencyMin, o.LatencyMax, o.Jitter, o.DiskLatency)
	case o.Workload.Keys < 1 || o.Workload.Clients < 0:
		return fmt.Errorf("sim: %d keys, %d clients", o.Workload.Keys, o.Workload.Clients)
	case o.NoSnapshotReports && o.SnapshotChunkSize > 0:
		return fmt.Errorf("sim: the runs without snapshot reports use whole snapshots: chunk size %d", o.SnapshotChunkSize)
	case o.StorageStallTicks < 1:
		return fmt.Errorf("sim: StorageStallTicks %d: want at least 1", o.StorageStallTicks)
	case o.LivenessTicks > o.CalmTicks:
		return fmt.Errorf("sim: a liveness budget of %d ticks does not fit in calm phases of %d", o.LivenessTicks, o.CalmTicks)
	}
	return nil
}

// skipped reports whether fault ordinal n is to be skipped.
func (o *Options) skipped(n uint64) bool {
	_, found := slices.BinarySearch(o.Skip, n)
	return found
}
