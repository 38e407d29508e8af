package rafttest

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/tickraft/raft/tools/datadriven"
)

// handler runs one transcript command and returns its output.
type handler func(env *Env, t *testing.T, d *datadriven.TestData) string

// handlers maps each transcript command to its handler; the package
// comment documents them.
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"add-nodes":           (*Env).handleAddNodes,
		"campaign":            (*Env).handleCampaign,
		"propose":             (*Env).handlePropose,
		"propose-conf-change": (*Env).handleProposeConfChange,
		"tick-election":       (*Env).handleTickElection,
		"tick-heartbeat":      (*Env).handleTickHeartbeat,
		"deliver-msgs":        (*Env).handleDeliverMsgs,
		"process-ready":       (*Env).handleProcessReady,
		"stabilize":           (*Env).handleStabilize,
		"partition":           (*Env).handlePartition,
		"heal":                (*Env).handleHeal,
		"crash":               (*Env).handleCrash,
		"restart":             (*Env).handleRestart,
		"compact":             (*Env).handleCompact,
		"transfer-leadership": (*Env).handleTransferLeadership,
		"report-unreachable":  (*Env).handleReportUnreachable,
		"report-peer-down":    (*Env).handleReportPeerDown,
		"tick":                (*Env).handleTick,
		"forget-leader":       (*Env).handleForgetLeader,
		"status":              (*Env).handleStatus,
		"raft-state":          (*Env).handleRaftState,
		"raft-log":            (*Env).handleRaftLog,
		"log-level":           (*Env).handleLogLevel,
		"step":                (*Env).handleStep,

		"read-index":              (*Env).handleReadIndex,
		"read-local":              (*Env).handleReadLocal,
		"process-append-thread":   (*Env).handleProcessAppendThread,
		"process-apply-thread":    (*Env).handleProcessApplyThread,
		"process-snapshot-thread": (*Env).handleProcessSnapshotThread,

		"set-randomized-election-timeout": (*Env).handleSetRandomizedElectionTimeout,
		"send-snapshot":                   (*Env).handleSendSnapshot,
	}
}

// Handle runs one transcript block against env and returns its output.
// Errors of the library and of the cluster are part of the output, as a
// line "error: ..."; a block the harness cannot read (an unknown command,
// a missing or malformed argument) fails the test.
func (env *Env) Handle(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	h, ok := handlers[d.Cmd]
	if !ok {
		d.Fatalf(t, "unknown command %q", d.Cmd)
		return ""
	}
	out := h(env, t, d)
	if unread := d.UnreadArgs(); len(unread) > 0 {
		out += fmt.Sprintf("error: %s does not take %v\n", d.Cmd, unread)
	}
	return out
}

// errorLine returns err as an output line, or "" for nil.
func errorLine(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprintf("error: %v\n", err)
}

func (env *Env) handleAddNodes(t *testing.T, d *datadriven.TestData) string {
	count := firstID(t, d)
	opts := NodeOptions{}
	d.MaybeScanArgs(t, "voters", &opts.Voters)
	d.MaybeScanArgs(t, "learners", &opts.Learners)
	d.MaybeScanArgs(t, "index", &opts.Index)
	d.MaybeScanArgs(t, "election-tick", &opts.ElectionTick)
	d.MaybeScanArgs(t, "heartbeat-tick", &opts.HeartbeatTick)
	d.MaybeScanArgs(t, "max-size-per-msg", &opts.MaxSizePerMsg)
	d.MaybeScanArgs(t, "max-inflight-msgs", &opts.MaxInflightMsgs)
	d.MaybeScanArgs(t, "seed", &opts.Seed)
	preVote, checkQuorum := true, true
	d.MaybeScanArgs(t, "prevote", &preVote)
	d.MaybeScanArgs(t, "checkquorum", &checkQuorum)
	d.MaybeScanArgs(t, "keep-leader-after-removal", &opts.KeepLeaderAfterRemoval)
	d.MaybeScanArgs(t, "lease-reads", &opts.LeaseReads)
	d.MaybeScanArgs(t, "async-storage", &opts.AsyncStorage)
	d.MaybeScanArgs(t, "max-inflight-bytes", &opts.MaxInflightBytes)
	d.MaybeScanArgs(t, "max-uncommitted-size", &opts.MaxUncommittedSize)
	d.MaybeScanArgs(t, "max-uncommitted-entries", &opts.MaxUncommittedEntries)
	d.MaybeScanArgs(t, "max-committed-per-ready", &opts.MaxCommittedPerReady)
	d.MaybeScanArgs(t, "snapshot-chunk-size", &opts.SnapshotChunkSize)
	d.MaybeScanArgs(t, "snapshot-interval", &opts.SnapshotInterval)
	d.MaybeScanArgs(t, "snapshot-size", &opts.SnapshotSize)
	d.MaybeScanArgs(t, "max-snapshot-chunks-inflight", &opts.MaxSnapshotChunksInflight)
	d.MaybeScanArgs(t, "max-snapshot-chunks-per-source", &opts.MaxSnapshotChunksPerSource)
	d.MaybeScanArgs(t, "quiesce", &opts.Quiesce)
	scanEtcdNodeOptions(t, d, &opts)
	opts.DisablePreVote, opts.DisableCheckQuorum = !preVote, !checkQuorum
	ids, err := env.AddNodes(int(count), opts)
	if err != nil {
		return errorLine(err)
	}
	return describeAdded(env, ids)
}

// describeAdded writes one line per new node: its configuration and
// where its log starts.
func describeAdded(env *Env, ids []uint64) string {
	var out string
	for _, id := range ids {
		n := env.nodes[id]
		hs, _, _ := n.Storage.InitialState()
		last, _ := n.Storage.LastIndex()
		out += fmt.Sprintf("%d: %v last=%d applied=%d %v\n", id, hs, last, n.AppliedIndex, n.ConfState)
	}
	return out
}

func (env *Env) handleCampaign(t *testing.T, d *datadriven.TestData) string {
	return errorLine(env.Campaign(firstID(t, d)))
}

func (env *Env) handlePropose(t *testing.T, d *datadriven.TestData) string {
	id := firstID(t, d)
	if len(d.CmdArgs) < 2 {
		d.Fatalf(t, "propose needs a node ID and a value")
	}
	index, term, err := env.Propose(id, []byte(d.CmdArgs[1].Key))
	if err != nil {
		return errorLine(err)
	}
	return describeProposed(index, term)
}

// describeProposed says where the leader put a proposal; a forwarded
// proposal has no place yet.
func describeProposed(index, term uint64) string {
	if index == 0 {
		return "forwarded\n"
	}
	return fmt.Sprintf("proposed at %d/%d\n", term, index)
}

func (env *Env) handleProposeConfChange(t *testing.T, d *datadriven.TestData) string {
	cc, err := parseConfChange(t, d)
	if err != nil {
		return errorLine(err)
	}
	index, term, err := env.ProposeConfChange(firstID(t, d), cc)
	if err != nil {
		return errorLine(err)
	}
	return describeProposed(index, term)
}

func (env *Env) handleTickElection(t *testing.T, d *datadriven.TestData) string {
	var out string
	for _, id := range bareIDs(t, d) {
		out += errorLine(env.TickElection(id))
	}
	return out
}

func (env *Env) handleTickHeartbeat(t *testing.T, d *datadriven.TestData) string {
	var out string
	for _, id := range bareIDs(t, d) {
		out += errorLine(env.TickHeartbeat(id))
	}
	return out
}

func (env *Env) handleDeliverMsgs(t *testing.T, d *datadriven.TestData) string {
	ids := bareIDs(t, d)
	if len(ids) == 0 {
		ids = []uint64{0}
	}
	f := parseFilter(t, d)
	var out string
	for _, id := range ids {
		out += env.DeliverMsgs(id, f)
	}
	return out
}

func (env *Env) handleProcessReady(t *testing.T, d *datadriven.TestData) string {
	return forEachNode(t, d, env.ProcessReady)
}

func (env *Env) handleStabilize(t *testing.T, d *datadriven.TestData) string {
	var level string
	d.MaybeScanArgs(t, "log-level", &level) // accepted, as log-level is: no log lines
	out, err := env.Stabilize(bareIDs(t, d)...)
	return out + errorLine(err)
}

func (env *Env) handlePartition(t *testing.T, d *datadriven.TestData) string {
	env.Partition(parseGroups(t, d)...)
	return ""
}

func (env *Env) handleHeal(*testing.T, *datadriven.TestData) string {
	env.Heal()
	return ""
}

func (env *Env) handleCrash(t *testing.T, d *datadriven.TestData) string {
	return errorLine(env.Crash(firstID(t, d)))
}

func (env *Env) handleRestart(t *testing.T, d *datadriven.TestData) string {
	id := firstID(t, d)
	if err := env.Restart(id); err != nil {
		return errorLine(err)
	}
	return describeAdded(env, []uint64{id})
}

func (env *Env) handleCompact(t *testing.T, d *datadriven.TestData) string {
	ids := bareIDs(t, d)
	if len(ids) != 2 {
		d.Fatalf(t, "compact needs a node ID and an index")
	}
	if err := env.Compact(ids[0], ids[1]); err != nil {
		return errorLine(err)
	}
	out, err := env.RaftLog(ids[0])
	return out + errorLine(err)
}

func (env *Env) handleTransferLeadership(t *testing.T, d *datadriven.TestData) string {
	var from, to uint64
	d.ScanArgs(t, "from", &from)
	d.ScanArgs(t, "to", &to)
	return errorLine(env.TransferLeader(from, to))
}

func (env *Env) handleReportUnreachable(t *testing.T, d *datadriven.TestData) string {
	ids := bareIDs(t, d)
	if len(ids) != 2 {
		d.Fatalf(t, "report-unreachable needs the reporting node and the peer")
	}
	return errorLine(env.ReportUnreachable(ids[0], ids[1]))
}

func (env *Env) handleReportPeerDown(t *testing.T, d *datadriven.TestData) string {
	ids := bareIDs(t, d)
	if len(ids) != 2 {
		d.Fatalf(t, "report-peer-down needs the reporting node and the peer")
	}
	return errorLine(env.ReportPeerDown(ids[0], ids[1]))
}

func (env *Env) handleTick(t *testing.T, d *datadriven.TestData) string {
	var n int
	d.ScanArgs(t, "n", &n)
	var out string
	for _, id := range bareIDs(t, d) {
		out += errorLine(env.TickN(id, n))
	}
	return out
}

func (env *Env) handleForgetLeader(t *testing.T, d *datadriven.TestData) string {
	return errorLine(env.ForgetLeader(firstID(t, d)))
}

func (env *Env) handleStatus(t *testing.T, d *datadriven.TestData) string {
	out, err := env.StatusString(firstID(t, d))
	return out + errorLine(err)
}

func (env *Env) handleRaftState(*testing.T, *datadriven.TestData) string {
	return env.RaftState()
}

func (env *Env) handleRaftLog(t *testing.T, d *datadriven.TestData) string {
	out, err := env.RaftLog(firstID(t, d))
	return out + errorLine(err)
}

// handleLogLevel accepts the command other harnesses use to show log
// lines, and prints nothing: transcripts here show state, not logs.
func (env *Env) handleLogLevel(*testing.T, *datadriven.TestData) string {
	return ""
}

func (env *Env) handleStep(t *testing.T, d *datadriven.TestData) string {
	id := firstID(t, d)
	m := parseMessage(t, d)
	return fmt.Sprintf("%v\n", m) + errorLine(env.Step(id, m))
}

func (env *Env) handleReadIndex(t *testing.T, d *datadriven.TestData) string {
	id := firstID(t, d)
	if len(d.CmdArgs) != 2 {
		d.Fatalf(t, "read-index needs a node ID and a context")
	}
	return errorLine(env.ReadIndex(id, []byte(d.CmdArgs[1].Key)))
}

func (env *Env) handleReadLocal(t *testing.T, d *datadriven.TestData) string {
	id := firstID(t, d)
	if len(d.CmdArgs) != 3 {
		d.Fatalf(t, "read-local needs a node ID, a context and a minimum index")
	}
	minIndex, err := strconv.ParseUint(d.CmdArgs[2].Key, 10, 64)
	if err != nil {
		d.Fatalf(t, "read-local: %q is not an index", d.CmdArgs[2].Key)
	}
	return errorLine(env.ReadLocal(id, []byte(d.CmdArgs[1].Key), minIndex))
}

func (env *Env) handleProcessAppendThread(t *testing.T, d *datadriven.TestData) string {
	return forEachNode(t, d, env.ProcessAppendThread)
}

func (env *Env) handleProcessApplyThread(t *testing.T, d *datadriven.TestData) string {
	return forEachNode(t, d, env.ProcessApplyThread)
}

func (env *Env) handleProcessSnapshotThread(t *testing.T, d *datadriven.TestData) string {
	return forEachNode(t, d, env.ProcessSnapshotThread)
}

// forEachNode runs op on every node named on the directive line and joins
// what it prints, errors included.
func forEachNode(t *testing.T, d *datadriven.TestData, op func(id uint64) (string, error)) string {
	var out string
	for _, id := range bareIDs(t, d) {
		s, err := op(id)
		out += s + errorLine(err)
	}
	return out
}
