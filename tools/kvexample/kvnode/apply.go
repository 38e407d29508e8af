package kvnode

import (
	"fmt"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// restore replaces the state machine with a snapshot's, its data
// assembled by the reference loop when it arrived in chunks.
func (n *Node) restore(snap raftpb.Snapshot) error {
	meta := snap.Metadata
	sm, err := decodeState(snap.Data)
	if err != nil {
		return fmt.Errorf("restoring snapshot %d/%d: %w", meta.Term, meta.Index, err)
	}
	n.noteMembership(meta.Index, n.confState, meta.ConfState)
	n.sm, n.confState, n.applied = sm, cloneConfState(meta.ConfState), meta.Index
	n.pendingSnap = nil
	n.installs++
	n.metrics.installs.Add(1)
	n.abandonWrites(meta.Index)
	n.syncPeers()
	n.log.Info("restored a snapshot", "index", meta.Index, "term", meta.Term, "keys", len(sm.kv),
		"voters", meta.ConfState.Voters, "learners", meta.ConfState.Learners)
	return nil
}

// applyEntry applies one committed entry, answers the write if it was
// proposed here, and takes a snapshot at each multiple of
// SnapshotInterval. For a conf change entry the reference loop has handed
// the change to the node already; conf says what came of it.
func (n *Node) applyEntry(e *raftpb.Entry, conf raftloop.ConfApplied) {
	if e.Index <= n.applied {
		return
	}
	switch {
	case e.Type == raftpb.EntryNormal && len(e.Data) > 0:
		if err := n.sm.apply(e.Data); err != nil {
			n.log.Warn("skipped a malformed command", "index", e.Index, "error", err)
		}
	case e.IsConfChange():
		n.applyConfChange(e, conf)
	}
	n.applied = e.Index
	n.answerWrite(e.Index, e.Term)
	if e.Index%n.cfg.SnapshotInterval == 0 {
		n.takeSnapshot(e)
	}
}

// applyConfChange applies a membership change the node has taken (or
// refused, as every member does alike: logged): the state machine learns
// the addresses it carries, the transport the new peers before the node
// sends to them at its next Ready, and the departed ones are dropped.
func (n *Node) applyConfChange(e *raftpb.Entry, conf raftloop.ConfApplied) {
	cc := conf.Change
	v2 := cc.AsV2()
	n.sm.applyConfChange(v2)
	n.syncPeers() // before the node sends to a new member
	cs, err := conf.State, conf.Err
	if err != nil {
		n.log.Error("conf change refused", "index", e.Index, "change", cc.String(), "error", err)
		return
	}
	n.noteMembership(e.Index, n.confState, cs)
	n.confState = cloneConfState(cs)
	for _, c := range v2.Changes {
		if c.Type == raftpb.ConfChangeRemoveNode {
			n.removePeer(c.NodeID)
		}
	}
	n.noteOwnRemoval(e.Index, v2.Changes, cs)
	n.syncPeers()
	n.log.Info("applied a conf change", "index", e.Index, "change", cc.String(),
		"voters", cs.Voters, "learners", cs.Learners)
}

// afterApply runs once the node has been told of an apply: it records the
// snapshot taken while applying and serves the reads the apply released.
func (n *Node) afterApply() {
	n.recordSnapshot()
	n.serveReads()
}

// recordSnapshot puts the snapshot the synchronous loop took while
// applying into the in-memory storage (from which chunks are served and
// the leader offers it), compacts the log up to KeepEntries before it, and
// saves it. The asynchronous mode takes its snapshots off the loop
// (snapshotter.go) and never sets pendingSnap.
func (n *Node) recordSnapshot() {
	s := n.pendingSnap
	if s == nil {
		return
	}
	n.pendingSnap = nil
	meta := s.Metadata
	snap, err := n.storage.CreateSnapshot(meta.Index, &meta.ConfState, s.Data)
	if err != nil {
		n.log.Debug("snapshot not recorded", "index", meta.Index, "error", err)
		return
	}
	n.compactBefore(meta.Index)
	n.log.Debug("took a snapshot", "index", meta.Index, "bytes", len(snap.Data))
	if err := n.disk.saveOwnSnapshot(snap); err != nil {
		n.log.Error("saving a snapshot failed", "index", meta.Index, "error", err)
	}
}

// onSoftState logs role changes and answers the leadership transfers that
// completed.
func (n *Node) onSoftState(ss raft.SoftState) {
	n.log.Info("role changed", "state", ss.RaftState.String(), "leader", ss.Lead)
	n.checkTransfers(ss.Lead)
	n.noteLeader(ss.Lead)
}
