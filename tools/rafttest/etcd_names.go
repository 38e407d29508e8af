package rafttest

import (
	"fmt"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/datadriven"
)

// This file holds the names etcd raft's interaction harness gives to
// options and commands this harness also has under its own names, and the
// few commands only etcd's scripts use, so that a script written for etcd
// raft runs here with its directives unchanged. The output is this
// harness's, and the terms differ by one after "index=N" (see the package
// comment).

// scanEtcdNodeOptions reads the add-nodes options that etcd raft's
// harness spells differently, into opts:
//
//	async-storage-writes=B          async-storage=B
//	inflight=N                      max-inflight-msgs=N
//	read-only=safe|lease-based      lease-reads=false|true
//	step-down-on-removal=B          keep-leader-after-removal=!B
//	max-committed-size-per-ready=B  Config.MaxCommittedSizePerReady (bytes)
func scanEtcdNodeOptions(t *testing.T, d *datadriven.TestData, opts *NodeOptions) {
	t.Helper()
	d.MaybeScanArgs(t, "async-storage-writes", &opts.AsyncStorage)
	d.MaybeScanArgs(t, "inflight", &opts.MaxInflightMsgs)
	d.MaybeScanArgs(t, "max-committed-size-per-ready", &opts.MaxCommittedSizePerReady)
	var readOnly string
	if d.MaybeScanArgs(t, "read-only", &readOnly) {
		switch readOnly {
		case "safe":
			opts.LeaseReads = false
		case "lease-based":
			opts.LeaseReads = true
		default:
			d.Fatalf(t, "add-nodes: read-only=%q is neither safe nor lease-based", readOnly)
		}
	}
	var stepDown bool
	if d.MaybeScanArgs(t, "step-down-on-removal", &stepDown) {
		opts.KeepLeaderAfterRemoval = !stepDown
	}
}

// handleSetRandomizedElectionTimeout runs "set-randomized-election-timeout
// ID timeout=T": node ID's current election timeout becomes T ticks,
// until the node draws the next one (a change of term or role).
func (env *Env) handleSetRandomizedElectionTimeout(t *testing.T, d *datadriven.TestData) string {
	id := firstID(t, d)
	var ticks int
	d.ScanArgs(t, "timeout", &ticks)
	if ticks <= 0 {
		d.Fatalf(t, "set-randomized-election-timeout: timeout=%d is not a positive number of ticks", ticks)
	}
	return errorLine(env.SetElectionTimeout(id, ticks))
}

// SetElectionTimeout sets node id's current randomized election timeout
// to ticks through Env.SetRandomizedElectionTimeout, which the library's
// own tests provide.
func (env *Env) SetElectionTimeout(id uint64, ticks int) error {
	rn, err := env.running(id)
	if err != nil {
		return err
	}
	if env.SetRandomizedElectionTimeout == nil {
		return fmt.Errorf("set-randomized-election-timeout: this Env has no SetRandomizedElectionTimeout (the raft package's tests set it)")
	}
	env.SetRandomizedElectionTimeout(rn, ticks)
	return nil
}

// handleSendSnapshot runs "send-snapshot FROM TO": a MsgSnap carrying
// node FROM's latest snapshot, at FROM's term, is queued for TO (not
// delivered), as a leader would send it.
func (env *Env) handleSendSnapshot(t *testing.T, d *datadriven.TestData) string {
	ids := bareIDs(t, d)
	if len(ids) != 2 {
		d.Fatalf(t, "send-snapshot needs the sending node and the recipient")
	}
	m, err := env.SendSnapshot(ids[0], ids[1])
	if err != nil {
		return errorLine(err)
	}
	return fmt.Sprintf("%v\n", m)
}

// SendSnapshot queues for node to a MsgSnap from node from, at from's
// current term, carrying the snapshot from's storage holds, and returns
// it. The partition applies when it is delivered.
func (env *Env) SendSnapshot(from, to uint64) (raftpb.Message, error) {
	rn, err := env.running(from)
	if err != nil {
		return raftpb.Message{}, err
	}
	if _, err := env.node(to); err != nil {
		return raftpb.Message{}, err
	}
	snap, err := env.nodes[from].Storage.Snapshot()
	if err != nil {
		return raftpb.Message{}, err
	}
	m := raftpb.Message{Type: raftpb.MsgSnap, From: from, To: to, Term: rn.BasicStatus().Term, Snapshot: &snap}
	env.queues[to] = append(env.queues[to], m)
	return m, nil
}
