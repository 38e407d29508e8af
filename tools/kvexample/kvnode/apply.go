package kvnode

import (
	"fmt"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// applyMessage does the apply worker's work for a MsgStorageApply: install
// a snapshot, or apply committed entries.
func (n *Node) applyMessage(m raftpb.Message) error {
	if m.Snapshot != nil {
		return n.restore(*m.Snapshot)
	}
	n.applyEntries(m.Entries)
	return nil
}

// restore replaces the state machine with a snapshot's. A snapshot handed
// out by the node may carry no data (it arrived in chunks): its data is
// then the one the in-memory storage (or the snapshot store) holds.
func (n *Node) restore(snap raftpb.Snapshot) error {
	meta := snap.Metadata
	data := snap.Data
	if len(data) == 0 {
		held, _ := n.storage.Snapshot()
		if held.Metadata.Index == meta.Index && held.Metadata.Term == meta.Term {
			data = held.Data
		} else {
			s, err := n.disk.snaps.LoadAt(meta.Index, meta.Term)
			if err != nil {
				return fmt.Errorf("restoring snapshot %d/%d: %w", meta.Term, meta.Index, err)
			}
			data = s.Data
		}
	}
	sm, err := decodeState(data)
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

// applyEntries applies committed entries in order, answers the writes
// proposed here, and takes a snapshot at each multiple of
// SnapshotInterval.
func (n *Node) applyEntries(ents []raftpb.Entry) {
	for i := range ents {
		e := &ents[i]
		if e.Index <= n.applied {
			continue
		}
		switch {
		case e.Type == raftpb.EntryNormal && len(e.Data) > 0:
			if err := n.sm.apply(e.Data); err != nil {
				n.log.Warn("skipped a malformed command", "index", e.Index, "error", err)
			}
		case e.IsConfChange():
			n.applyConfChange(e)
		}
		n.applied = e.Index
		n.answerWrite(e.Index, e.Term)
		if e.Index%n.cfg.SnapshotInterval == 0 {
			n.takeSnapshot(e)
		}
	}
}

// applyConfChange applies a membership change: the state machine learns
// the addresses it carries, the transport the new peer, then the node the
// new configuration. A change the node refuses is refused on every member
// alike, and logged.
func (n *Node) applyConfChange(e *raftpb.Entry) {
	cc, err := e.ConfChange()
	if err != nil {
		n.log.Error("skipped a malformed conf change", "index", e.Index, "error", err)
		return
	}
	v2 := cc.AsV2()
	n.sm.applyConfChange(v2)
	n.syncPeers() // before the node sends to a new member
	cs, err := n.rn.ApplyConfChange(cc)
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
