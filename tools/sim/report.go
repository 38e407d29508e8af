package sim

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/tools/checker"
)

// Class names the kind of a failure: the property a checker found broken
// (a checker.Property), or one of the classes below.
type Class string

// The failure classes that are not a checker's property.
const (
	// ClassPanic: the library (or the simulator) panicked.
	ClassPanic Class = "panic"
	// ClassRefusal: the library broke its contract with the application:
	// it refused a correct peer's message, handed out a Ready the mode
	// does not allow, or gave work that cannot be done.
	ClassRefusal Class = "contract"
	// ClassLiveness: a calm phase without progress, or a final calm
	// phase in which the cluster did not converge.
	ClassLiveness Class = "liveness"
	// ClassExtra: the extra checker of Options.Check failed.
	ClassExtra Class = "extra check"
	// ClassUntyped: a refusal that is none of the library's typed errors
	// (errors.Is finds no sentinel of core or confchange in it).
	ClassUntyped Class = "untyped error"
	// ClassInvariant: RawNode.CheckInvariants found the library's own
	// state broken after an input.
	ClassInvariant Class = "invariant"
	// ClassOracle: a bound judged from the simulator's own network,
	// Readys and disk was passed (see oracle.go, oracle_reads.go).
	ClassOracle Class = "oracle"
	// ClassTransfer: a leader sent MsgTimeoutNow to a target that lacked
	// its last index (see transfer.go).
	ClassTransfer Class = "transfer"
	// ClassLeaderConfChange: a conf change the leader generated itself
	// (the automatic leave of a joint configuration) was refused when
	// applied.
	ClassLeaderConfChange Class = "leader conf change refused"
)

// Failure is the first failure of a run.
type Failure struct {
	// Step is the step of virtual time at which it was found.
	Step  uint64
	Class Class
	Err   error
}

// Error returns "class at step N: error".
func (f *Failure) Error() string { return fmt.Sprintf("%s at step %d: %v", f.Class, f.Step, f.Err) }

// FaultKind is one kind of fault, for the statistics.
type FaultKind uint8

// The kinds of fault.
const (
	FaultDrop FaultKind = iota
	FaultDuplicate
	FaultReorder
	FaultPartition
	FaultOneWay
	FaultIsolate
	FaultHeal
	FaultCrash
	FaultRestart
	FaultDiskStall
	FaultConfChange
	FaultTransfer
	FaultForgetLeader
	FaultCampaign
	FaultPause
	FaultLoseLog
	FaultLongStall
	FaultLoseOverwrite
	numFaultKinds
)

var faultNames = [numFaultKinds]string{
	"drop", "duplicate", "reorder", "partition", "one-way", "isolate", "heal",
	"crash", "restart", "disk-stall", "conf-change", "transfer", "forget-leader", "campaign", "pause", "lose-log", "long-stall",
	"lose-overwrite",
}

// String returns the kind's name.
func (k FaultKind) String() string {
	if k < numFaultKinds {
		return faultNames[k]
	}
	return fmt.Sprintf("FaultKind(%d)", uint8(k))
}

// Stats counts what a run did.
type Stats struct {
	// Faults counts the faults injected, by kind.
	Faults [numFaultKinds]int
	// UnavailableAfterLoss counts the runs whose final calm phase found no
	// quorum of voters that lost nothing, so elected no leader (loss.go).
	UnavailableAfterLoss int
	// Messages sent and delivered.
	Messages, Delivered int
	// Crashes, the writes a crash (or a retirement) tore, restarts, and
	// nodes shut down in a calm phase because no configuration needs them.
	Crashes, TornWrites, Restarts, Retired int
	// Elections counts the leaders elected; SnapshotsApplied, the
	// snapshots a state machine installed; Compactions, the logs
	// compacted.
	Elections, SnapshotsApplied, Compactions int
	// Conf changes proposed (and accepted by a leader), applied (counted
	// per node) and refused on apply; transfers asked and accepted.
	ConfProposals, ConfAccepted, ConfChangesApplied, ConfChangesRefused int
	Transfers, TransfersAccepted                                        int
	// Transfers as the wire saw them: MsgTimeoutNow sent, and transfers
	// accepted by a leader that ended with the target elected, with
	// another leader, or without a new leader (liveness, not failures).
	TransfersHandedOver, TransfersCompleted, TransfersOtherLeader, TransfersNoLeader int
	// Client operations: writes invoked, acknowledged and of unknown
	// outcome; linearizable reads served, and refused or aborted; local
	// reads served.
	Writes, WritesAcked, WritesPending int
	Reads, ReadsFailed, LocalReads     int
	// LivenessWindows counts the calm phases long enough to be judged.
	LivenessWindows int
	// SlowestElectionTicks is the longest a calm phase waited for a
	// leader; LongestUnavailableTicks the longest time writes were
	// waiting and none was acknowledged.
	SlowestElectionTicks, LongestUnavailableTicks uint64
	// Peaks of the back-pressure bounds' use on any leader, as Status
	// reports them; and as the oracles measure them: the bytes in flight
	// to a follower on the wire, the payload handed out to apply.
	PeakInflightBytes, PeakUncommittedBytes  uint64
	PeakWireInflightBytes, PeakApplyingBytes uint64
	// FullChecks counts the runs of the whole-History checkers.
	FullChecks int
	// LongPauses counts the pauses longer than an election timeout.
	LongPauses int
	// ChunkedSnapshots counts the snapshots installed from chunks,
	// ChunksSaved the chunks the snapshot workers saved.
	// ChunksFromFollowers counts the chunks a follower served.
	ChunkedSnapshots, ChunksSaved, ChunksFromFollowers int
	// Long stalls of a leader's disk (longstall.go) ended by a new
	// leader's entry applied within the bound, in each storage mode;
	// lifted because no write waited, cut short by a calm phase, or
	// lifted because a conf change applied meanwhile left the stalled node
	// in every quorum; and the slowest verdict, in ticks from the moment a
	// write waited.
	LongStallsAsync, LongStallsSync, LongStallsIdle, LongStallsCut, LongStallsExcused int
	SlowestStallHandoverTicks                                                         uint64
	// SnapshotsLostUnreported counts the MsgSnaps lost in runs whose
	// transport never reports snapshots (Options.NoSnapshotReports).
	SnapshotsLostUnreported int
	// QuiescedTicks counts the ticks nodes spent asleep (Options.Quiesce),
	// SkippedTicks those their hosts skipped and handed over at the wake,
	// PeerDownReports the leaders the failure detector reported down.
	QuiescedTicks, SkippedTicks, PeerDownReports int
	// Counted from the run's event log: the wakes at which a host handed
	// over the ticks it skipped, and the ReportPeerDown calls on a leader
	// the network model could not reach and on one it could (a false
	// suspicion).
	LoggedTickHandovers, LoggedPeerDownUnreachable, LoggedFalseSuspicions int
}

// Add adds o to s; the maxima take the larger.
func (s *Stats) Add(o Stats) {
	for k := range s.Faults {
		s.Faults[k] += o.Faults[k]
	}
	ints := []*int{&s.UnavailableAfterLoss, &s.Messages, &s.Delivered, &s.Crashes, &s.TornWrites, &s.Restarts, &s.Retired, &s.Elections,
		&s.SnapshotsApplied, &s.Compactions, &s.ConfProposals, &s.ConfAccepted, &s.ConfChangesApplied,
		&s.ConfChangesRefused, &s.Transfers, &s.TransfersAccepted, &s.Writes, &s.WritesAcked,
		&s.WritesPending, &s.Reads, &s.ReadsFailed, &s.LocalReads, &s.LivenessWindows, &s.FullChecks,
		&s.TransfersHandedOver, &s.TransfersCompleted, &s.TransfersOtherLeader, &s.TransfersNoLeader, &s.LongPauses,
		&s.ChunkedSnapshots, &s.ChunksSaved, &s.ChunksFromFollowers,
		&s.LongStallsAsync, &s.LongStallsSync, &s.LongStallsIdle, &s.LongStallsCut, &s.LongStallsExcused, &s.SnapshotsLostUnreported,
		&s.QuiescedTicks, &s.SkippedTicks, &s.PeerDownReports,
		&s.LoggedTickHandovers, &s.LoggedPeerDownUnreachable, &s.LoggedFalseSuspicions}
	others := []int{o.UnavailableAfterLoss, o.Messages, o.Delivered, o.Crashes, o.TornWrites, o.Restarts, o.Retired, o.Elections,
		o.SnapshotsApplied, o.Compactions, o.ConfProposals, o.ConfAccepted, o.ConfChangesApplied,
		o.ConfChangesRefused, o.Transfers, o.TransfersAccepted, o.Writes, o.WritesAcked,
		o.WritesPending, o.Reads, o.ReadsFailed, o.LocalReads, o.LivenessWindows, o.FullChecks,
		o.TransfersHandedOver, o.TransfersCompleted, o.TransfersOtherLeader, o.TransfersNoLeader, o.LongPauses,
		o.ChunkedSnapshots, o.ChunksSaved, o.ChunksFromFollowers,
		o.LongStallsAsync, o.LongStallsSync, o.LongStallsIdle, o.LongStallsCut, o.LongStallsExcused, o.SnapshotsLostUnreported,
		o.QuiescedTicks, o.SkippedTicks, o.PeerDownReports,
		o.LoggedTickHandovers, o.LoggedPeerDownUnreachable, o.LoggedFalseSuspicions}
	for i, p := range ints {
		*p += others[i]
	}
	s.SlowestElectionTicks = max(s.SlowestElectionTicks, o.SlowestElectionTicks)
	s.LongestUnavailableTicks = max(s.LongestUnavailableTicks, o.LongestUnavailableTicks)
	s.SlowestStallHandoverTicks = max(s.SlowestStallHandoverTicks, o.SlowestStallHandoverTicks)
	s.PeakInflightBytes = max(s.PeakInflightBytes, o.PeakInflightBytes)
	s.PeakUncommittedBytes = max(s.PeakUncommittedBytes, o.PeakUncommittedBytes)
	s.PeakWireInflightBytes = max(s.PeakWireInflightBytes, o.PeakWireInflightBytes)
	s.PeakApplyingBytes = max(s.PeakApplyingBytes, o.PeakApplyingBytes)
}

// DescribeFaults lists the faults by kind, "drop=12 duplicate=3 ...".
func (s *Stats) DescribeFaults() string {
	var b strings.Builder
	for k, n := range s.Faults {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", FaultKind(k), n)
	}
	return b.String()
}

// Result is what a run did and how it ended.
type Result struct {
	// Options are the run's settings, defaults filled in: with them,
	// Run replays the run exactly.
	Options Options
	// Steps and Ticks of virtual time run, the final calm phase included.
	Steps, Ticks uint64
	// Events is the number of events; Hash digests them all, in order.
	Events, Hash uint64
	// Faults lists the ordinals of the faults injected (the draws of
	// faults that Options.Skip does not skip).
	Faults []uint64
	Stats  Stats
	// Windows are the calm phases, with when they saw a leader and a new
	// commit.
	Windows []checker.CalmWindow
	// Failure is the first failure, or nil.
	Failure *Failure
}

// result returns the run's result so far.
func (s *Sim) result() Result {
	st := s.stats
	st.LoggedTickHandovers = int(s.log.kinds[evOwedTicks])
	st.LoggedPeerDownUnreachable = int(s.log.kinds[evPeerDown])
	st.LoggedFalseSuspicions = int(s.log.kinds[evFalseSuspicion])
	return Result{
		Options: s.opts, Steps: s.now, Ticks: s.Tick(), Events: s.log.count, Hash: s.log.hash,
		Faults: s.injected, Stats: st, Windows: s.phase.windows, Failure: s.failure,
	}
}

// classOf returns the class of a checker's error: the property of its
// violation.
func classOf(err error) Class {
	var v *checker.Violation
	if errors.As(err, &v) {
		return Class(v.Property)
	}
	return ClassRefusal
}

// describeReady summarizes a Ready for the trace, in the notation of the
// transcripts.
func describeReady(rd *raft.Ready) string {
	var b strings.Builder
	if rd.SoftState != nil {
		fmt.Fprintf(&b, " %v lead=%d", rd.SoftState.RaftState, rd.SoftState.Lead)
	}
	if !rd.HardState.IsEmpty() {
		fmt.Fprintf(&b, " HardState %v", rd.HardState)
	}
	if !rd.Snapshot.IsEmpty() {
		fmt.Fprintf(&b, " Snapshot %v", rd.Snapshot)
	}
	if k := len(rd.Entries); k > 0 {
		fmt.Fprintf(&b, " Entries %d/%d..%d/%d", rd.Entries[0].Term, rd.Entries[0].Index, rd.Entries[k-1].Term, rd.Entries[k-1].Index)
	}
	if k := len(rd.CommittedEntries); k > 0 {
		fmt.Fprintf(&b, " CommittedEntries %d..%d", rd.CommittedEntries[0].Index, rd.CommittedEntries[k-1].Index)
	}
	for _, rs := range rd.ReadStates {
		fmt.Fprintf(&b, " ReadState{%q at %d", rs.RequestCtx, rs.Index)
		if rs.Err != nil {
			fmt.Fprintf(&b, " err: %v", rs.Err)
		}
		b.WriteString("}")
	}
	fmt.Fprintf(&b, " msgs=%d+%d", len(rd.Messages), len(rd.MessagesAfterPersist))
	return b.String()
}
