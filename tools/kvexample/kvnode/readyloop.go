package kvnode

import (
	"fmt"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// newLoop starts the node as a raftloop.Loop, in either storage mode: the
// reference loop routes each Ready, persists, sends, applies and
// acknowledges, over the node's log (loopDisk), transport (loopNetwork)
// and key-value state (loopStateMachine). In the asynchronous mode it
// hands the writes and the received snapshot chunks to the disk worker
// goroutine (handOff), which reports them back through completeDisk. The
// event loop keeps its own clock and ticks the node itself
// (raftloop.Config.Ticks is nil).
func (n *Node) newLoop(rc *raft.Config) (*raftloop.Loop, error) {
	var handOff func(raftloop.Job)
	if !n.cfg.Sync {
		handOff = n.handOff
	}
	return raftloop.New(raftloop.Config{
		Raft:         *rc,
		Disk:         loopDisk{n},
		Network:      loopNetwork{n},
		StateMachine: loopStateMachine{n},
		HandOff:      handOff,
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

// handOff queues a write or a received chunk the reference loop hands
// off to the disk worker, which persists it while the loop goes on.
func (n *Node) handOff(j raftloop.Job) {
	kind := jobAppend
	if j.Chunk != nil {
		kind = jobChunk
	}
	n.jobs.push(diskJob{kind: kind, job: j})
}

// handleReady hands the next Ready to the reference loop, then does the
// jobs it queued on the loop: the applies of the asynchronous mode
// (applying touches only memory), and the snapshot worker's (serving
// chunk requests from the snapshot in memory; in the synchronous mode
// also saving received chunks before stepping their acknowledgements).
// Then it records the snapshot taken while applying and answers the reads
// the apply released.
func (n *Node) handleReady() error {
	if err := n.loop.HandleReady(); err != nil {
		return err
	}
	for _, run := range []func() (bool, error){n.loop.RunApply, n.loop.RunSnapshotWork} {
		for {
			ran, err := run()
			if err != nil {
				return err
			}
			if !ran {
				break
			}
		}
	}
	n.afterApply()
	return nil
}

// loopDisk is the raftloop.Disk of the node: the write-ahead log and
// snapshot store (disk.go), with the in-memory storage the node reads.
// The synchronous mode saves through it, and the storage learns each
// write as it is saved; the asynchronous mode hands its writes to the
// disk worker, and reads the storage and the staged chunks through it.
type loopDisk struct{ n *Node }

// Storage returns the in-memory storage the node reads.
func (d loopDisk) Storage() raft.Storage { return d.n.storage }

// Save writes a snapshot the node installs (its file, then its marker),
// then the entries and hard state, to the log without an fsync, and
// copies them into the in-memory storage.
func (d loopDisk) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	if err := d.n.disk.persist(hs, ents, snap, false); err != nil {
		return err
	}
	return d.n.storeDurable(hs, ents, snap)
}

// Sync fsyncs the log (observed by the fsync latency metric).
func (d loopDisk) Sync() error { return d.n.disk.wal.Sync() }

// SaveChunk saves a received snapshot chunk durably in the snapshot store.
func (d loopDisk) SaveChunk(index, term, chunk uint64, data []byte) error {
	if err := d.n.disk.snaps.SaveChunk(index, term, chunk, data); err != nil {
		return err
	}
	d.n.metrics.chunksSaved.Add(1)
	return nil
}

// Chunks assembles the snapshot at index and term from the chunks staged
// for it.
func (d loopDisk) Chunks(index, term uint64) ([]byte, error) {
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

// loopNetwork is the raftloop.Network of the node: the transport, with
// the snapshots and served chunks counted.
type loopNetwork struct{ n *Node }

// Send counts the snapshots and chunks among msgs and hands them to the
// transport.
func (s loopNetwork) Send(msgs []raftpb.Message) {
	for i := range msgs {
		if msgs[i].Type == raftpb.MsgSnapChunk {
			s.n.metrics.chunksServed.Add(1)
		}
	}
	s.n.metrics.countSent(msgs)
	s.n.tr.Send(msgs)
}

// loopStateMachine is the raftloop.StateMachine of the node: the
// key-value state, which answers the writes proposed here and takes its
// snapshots as it applies (apply.go).
type loopStateMachine struct{ n *Node }

// Restore replaces the state with the snapshot's.
func (s loopStateMachine) Restore(snap raftpb.Snapshot) error { return s.n.restore(snap) }

// Apply applies one committed entry; the loop has handed a conf change
// to the node already, and conf says what came of it.
func (s loopStateMachine) Apply(e raftpb.Entry, conf raftloop.ConfApplied) error {
	s.n.applyEntry(&e, conf)
	return nil
}
