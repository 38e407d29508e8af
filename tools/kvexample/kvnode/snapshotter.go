package kvnode

import (
	"errors"
	"maps"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal/snapfile"
)

// The snapshots of the asynchronous mode are taken off the event loop: at
// each multiple of SnapshotInterval the loop copies the state machine's
// maps (the values are never changed in place once applied, so the copy
// shares them: a copy of 10,000 keys costs well under a millisecond), and
// the snapshot worker serializes that copy and writes and fsyncs its file
// while the loop and the disk worker go on. Only once the file is durable
// does the loop put the snapshot into the in-memory storage, compact the
// log before it, and have the disk worker write the snapshot's marker into
// the log, which then lets older segments go. A snapshot taken while the
// worker is still busy with the previous one is skipped: the next interval
// takes one.
//
// The synchronous mode keeps taking and saving its snapshots inline
// (apply.go), as its loop does everything else.

// snapTake is a copy of the state at an applied index, for the worker.
type snapTake struct {
	sm   *stateMachine
	meta raftpb.SnapshotMetadata
}

// snapSaved is a snapshot whose file the worker wrote and fsynced, or the
// error that stopped it.
type snapSaved struct {
	snap raftpb.Snapshot
	err  error
}

// snapshotter is what the loop and the snapshot worker share.
type snapshotter struct {
	takes *queue[snapTake]
	saved *queue[snapSaved]
	done  chan struct{} // closed when the worker returns
	// busy is set by the loop while a take is with the worker.
	busy bool
}

func newSnapshotter() snapshotter {
	return snapshotter{takes: newQueue[snapTake](), saved: newQueue[snapSaved](), done: make(chan struct{})}
}

// clone returns a copy of the state machine that shares the values.
func (sm *stateMachine) clone() *stateMachine {
	return &stateMachine{kv: maps.Clone(sm.kv), members: maps.Clone(sm.members)}
}

// takeSnapshot takes a snapshot of the state at applied entry e: inline in
// the synchronous mode, through the snapshot worker in the asynchronous
// one.
func (n *Node) takeSnapshot(e *raftpb.Entry) {
	meta := raftpb.SnapshotMetadata{Index: e.Index, Term: e.Term, ConfState: cloneConfState(n.confState)}
	if n.cfg.Sync {
		n.pendingSnap = &raftpb.Snapshot{Data: n.sm.encode(), Metadata: meta}
		return
	}
	if n.snapper.busy {
		n.log.Debug("snapshot skipped: the previous one is still being written", "index", e.Index)
		return
	}
	n.snapper.busy = true
	n.snapper.takes.push(snapTake{sm: n.sm.clone(), meta: meta})
}

// runSnapshotWorker serializes the copies the loop hands it and writes
// each to its file, durably, until stop is closed. The snapshot store is
// safe for concurrent use with the disk worker.
func runSnapshotWorker(s *snapshotter, snaps *snapfile.Store, stop <-chan struct{}) {
	defer close(s.done)
	for {
		select {
		case <-stop:
			return
		case <-s.takes.ready():
		}
		for _, t := range s.takes.take() {
			snap := raftpb.Snapshot{Data: t.sm.encode(), Metadata: t.meta}
			err := snaps.Save(snap)
			select {
			case <-stop:
				return
			default:
			}
			s.saved.push(snapSaved{snap: snap, err: err})
		}
	}
}

// completeSnapshots records the snapshots whose files are durable: into
// the in-memory storage (from which chunks are served and the leader
// offers it), the log compacted up to KeepEntries before it, and its
// marker written by the disk worker. A snapshot older than one installed
// meanwhile is dropped; its file goes with the next release.
func (n *Node) completeSnapshots() {
	for _, s := range n.snapper.saved.take() {
		n.snapper.busy = false
		meta := s.snap.Metadata
		if s.err != nil {
			n.log.Error("saving a snapshot failed", "index", meta.Index, "error", s.err)
			continue
		}
		snap, err := n.storage.CreateSnapshot(meta.Index, &meta.ConfState, s.snap.Data)
		if err != nil {
			n.log.Debug("snapshot not recorded", "index", meta.Index, "error", err)
			continue
		}
		n.compactBefore(meta.Index)
		n.log.Debug("took a snapshot", "index", meta.Index, "bytes", len(snap.Data))
		n.jobs.push(diskJob{kind: jobSnapshotMarker, snap: raftpb.Snapshot{Metadata: snap.Metadata}})
	}
}

// compactBefore compacts the in-memory log up to KeepEntries before a
// snapshot at index. Only applied entries are compacted, and applied
// entries are durable and known to the node as such.
func (n *Node) compactBefore(index uint64) {
	if index <= n.cfg.KeepEntries {
		return
	}
	err := n.storage.Compact(index - n.cfg.KeepEntries)
	if err != nil && !errors.Is(err, raft.ErrCompacted) {
		n.log.Warn("compaction failed", "index", index-n.cfg.KeepEntries, "error", err)
	}
}
