package kvnode

import (
	"fmt"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// newSyncLoop starts the node of the synchronous mode (Config.Sync) as a
// raftloop.Loop: the reference loop persists, sends, applies and
// acknowledges each Ready, over the node's log (syncDisk), transport
// (syncNetwork) and key-value state (syncStateMachine). The event loop
// keeps its own clock and ticks the node itself (raftloop.Config.Ticks is
// nil).
func (n *Node) newSyncLoop(rc *raft.Config) (*raftloop.Loop, error) {
	return raftloop.New(raftloop.Config{
		Raft:         *rc,
		Disk:         syncDisk{n},
		Network:      syncNetwork{n},
		StateMachine: syncStateMachine{n},
		OnReady: func(rd raft.Ready) {
			if rd.SoftState != nil {
				ss := *rd.SoftState
				n.softState = &ss
			}
		},
		// A released read joins the reads waiting for the apply, which
		// serveReads answers (raftloop hands it over once applied).
		OnRead: func(rs raft.ReadState) { n.onReadStates([]raft.ReadState{rs}) },
	})
}

// handleSyncReady hands the next Ready to the reference loop, then does
// the snapshot worker's jobs it queued (serving chunk requests from the
// snapshot in memory, saving received chunks before stepping their
// acknowledgements), then records the snapshot taken while applying and
// answers the reads the apply released.
func (n *Node) handleSyncReady() error {
	if err := n.loop.HandleReady(); err != nil {
		return err
	}
	for {
		ran, err := n.loop.RunSnapshotWork()
		if err != nil {
			return err
		}
		if !ran {
			break
		}
	}
	n.afterApply()
	return nil
}

// syncDisk is the raftloop.Disk of the synchronous mode: the write-ahead
// log and snapshot store (disk.go), with the in-memory storage the node
// reads, which learns each write as it is saved.
type syncDisk struct{ n *Node }

// Storage returns the in-memory storage the node reads.
func (d syncDisk) Storage() raft.Storage { return d.n.storage }

// Save writes a snapshot the node installs (its file, then its marker),
// then the entries and hard state, to the log without an fsync, and
// copies them into the in-memory storage.
func (d syncDisk) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	installed, err := d.n.disk.persist(hs, ents, &snap, false)
	if err != nil {
		return err
	}
	return d.n.storeDurable(hs, ents, installed)
}

// Sync fsyncs the log (observed by the fsync latency metric).
func (d syncDisk) Sync() error { return d.n.disk.wal.Sync() }

// SaveChunk saves a received snapshot chunk durably in the snapshot store.
func (d syncDisk) SaveChunk(index, term, chunk uint64, data []byte) error {
	if err := d.n.disk.snaps.SaveChunk(index, term, chunk, data); err != nil {
		return err
	}
	d.n.metrics.chunksSaved.Add(1)
	return nil
}

// Chunks assembles the snapshot at index and term from the chunks staged
// for it.
func (d syncDisk) Chunks(index, term uint64) ([]byte, error) {
	snaps := d.n.disk.snaps
	staged, err := snaps.StagedChunks(index, term)
	if err != nil {
		return nil, err
	}
	if len(staged) == 0 {
		return nil, fmt.Errorf("kvnode: installing snapshot %d/%d: no chunk staged", term, index)
	}
	return snaps.AssembleChunks(index, term, uint64(len(staged)))
}

// syncNetwork is the raftloop.Network of the synchronous mode: the
// transport, with the snapshots and served chunks counted.
type syncNetwork struct{ n *Node }

// Send counts the snapshots and chunks among msgs and hands them to the
// transport.
func (s syncNetwork) Send(msgs []raftpb.Message) {
	for i := range msgs {
		if msgs[i].Type == raftpb.MsgSnapChunk {
			s.n.metrics.chunksServed.Add(1)
		}
	}
	s.n.metrics.countSent(msgs)
	s.n.tr.Send(msgs)
}

// syncStateMachine is the raftloop.StateMachine of the synchronous mode:
// the key-value state, which answers the writes proposed here and takes
// its snapshots as it applies (apply.go).
type syncStateMachine struct{ n *Node }

// Restore replaces the state with the snapshot's.
func (s syncStateMachine) Restore(snap raftpb.Snapshot) error { return s.n.restore(snap) }

// Apply applies one committed entry; the loop has handed a conf change
// to the node already, and conf says what came of it.
func (s syncStateMachine) Apply(e raftpb.Entry, conf raftloop.ConfApplied) error {
	s.n.applyEntry(&e, &conf)
	return nil
}
