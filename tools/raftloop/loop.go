package raftloop

import (
	"errors"
	"fmt"
	"time"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/tickclock"
)

// Disk is a node's stable storage as the loop writes it.
type Disk interface {
	// Storage returns the Storage the node reads. It holds what Save
	// wrote by the time the write is durable (a disk may also show it
	// at once).
	Storage() raft.Storage
	// Save writes snap (unless empty), then ents (replacing any stored
	// entries at the same or later indexes), then hs (unless empty), in
	// that order, as one write. It need not be durable before Sync. The
	// loop calls it only for a Ready that has something to write. With
	// raft.Config.ReuseEntryArrays, a disk that keeps ents in memory past
	// the Ready's Advance copies them: the node refills their array once
	// they are applied.
	Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error
	// Sync makes every write saved so far durable.
	Sync() error
}

// ChunkDisk is the part of a Disk the chunked snapshot transfer
// (raft.Config.SnapshotChunkSize) needs.
type ChunkDisk interface {
	// SaveChunk makes chunk number chunk of the snapshot at index and
	// term durable before it returns. It copies data, which belongs to
	// the network.
	SaveChunk(index, term, chunk uint64, data []byte) error
	// Chunks returns the data of the snapshot at index and term: its
	// chunks saved, in order. The loop calls it when the node installs
	// that snapshot; chunks of snapshots below index may be discarded
	// from then on.
	Chunks(index, term uint64) ([]byte, error)
}

// SnapshotSource is what a Disk implements, optionally, to serve chunk
// requests for snapshots other than the one its Storage holds: an
// application that keeps its previous snapshots a while after compacting
// past them serves a transfer in flight to its end, even when it
// snapshots faster than a transfer takes (with raft.Config.SnapshotInterval
// short and a busy group, the latest snapshot moves on before the last
// chunk is asked for, and a source holding only the latest refuses it).
type SnapshotSource interface {
	// ServedSnapshot returns the data of the snapshot at index and term,
	// and false if the Disk no longer holds it.
	ServedSnapshot(index, term uint64) (data []byte, held bool)
}

// Network sends messages to peers. It must copy the Message values it
// keeps after Send returns (the node reuses the arrays behind a Ready's
// messages) and, with raft.Config.ReuseEntryArrays, their Entries (the
// node then reuses the arrays behind the entries it sends once they are
// applied). Payloads are never reused, and must not be modified. A
// network that encodes each message in Send keeps nothing.
type Network interface {
	Send(msgs []raftpb.Message)
}

// StateMachine is the application's state, which committed entries
// change.
type StateMachine interface {
	// Restore replaces the state with the snapshot's data.
	Restore(snap raftpb.Snapshot) error
	// Apply applies one committed entry, in log order. For a conf change
	// entry the loop has handed the change to the node first; conf says
	// what came of it.
	Apply(e raftpb.Entry, conf ConfApplied) error
}

// ConfApplied is what the node made of a committed conf change entry.
type ConfApplied struct {
	// Change is the change the entry carries, nil for a normal entry.
	Change raftpb.ConfChangeI
	// State is the configuration from now on, when Err is nil.
	State raftpb.ConfState
	// Err is the membership math's refusal: the same on every member,
	// and the configuration did not change.
	Err error
}

// Config is what a Loop runs on.
type Config struct {
	// Raft is the node's configuration. When its Storage is nil the
	// loop sets it to Disk.Storage(). CheckContract is turned on unless
	// Unchecked is set.
	Raft raft.Config
	// Disk, Network and StateMachine are required.
	Disk         Disk
	Network      Network
	StateMachine StateMachine
	// Ticks returns the ticks elapsed since its previous call: TicksOf
	// a tickclock.Clock in production, a counter in tests. Every input
	// method hands them to the node first. Nil: the driver ticks the
	// node itself.
	Ticks func() int
	// OnReady, when set, sees every Ready before the loop handles it.
	// It must not modify what its slices hold.
	OnReady func(rd raft.Ready)
	// OnRead, when set, is handed each released read once the state
	// machine has applied up to its Index, or at once when its Err is
	// set (a read that failed).
	OnRead func(rs raft.ReadState)
	// OnSnapshotWork, when set, takes each message to the snapshot worker
	// instead of the loop's queue: the driver completes it when it
	// chooses (a simulator's worker with latency) with DoSnapshotWork.
	OnSnapshotWork func(m raftpb.Message)
	// HandOff, when set in the asynchronous storage mode, takes the
	// writes (MsgStorageAppend) and the snapshot chunks to save
	// (MsgSnapChunk) as Jobs, instead of the loop's append queue and
	// snapshot queue (or OnSnapshotWork; chunk requests still go there):
	// the application's worker makes each durable on a goroutine of its
	// own, and the loop's goroutine then calls Loop.Completed. It must
	// not block, nor call the Loop.
	HandOff func(j Job)
	// OnApplied, when set, sees each batch of committed entries once the
	// state machine has applied it, before the node is told.
	OnApplied func(ents []raftpb.Entry)
	// AfterStep, when set, is called after the node stepped a worker's
	// acknowledgement, for checks after every input.
	AfterStep func(m raftpb.Message)
	// Unchecked turns the library's checked mode off, for benchmarks
	// that compare the loop's cost with another library's.
	Unchecked bool
}

// hooks is what a Loop keeps of its Config: its parts and callbacks, and
// the storage mode, without the raft.Config the node was built from (some
// 300 bytes per node a process with many groups would hold for nothing).
// The optional callbacks and the storage mode are behind a pointer,
// shared by every Loop that sets no callback (one of noCallbacks, by its
// mode), so that such a Loop holds one word for them.
type hooks struct {
	Disk         Disk
	Network      Network
	StateMachine StateMachine
	*callbacks
}

// callbacks are a Config's optional callbacks, and the storage mode.
type callbacks struct {
	Ticks          func() int
	OnReady        func(rd raft.Ready)
	OnRead         func(rs raft.ReadState)
	OnSnapshotWork func(m raftpb.Message)
	HandOff        func(j Job)
	OnApplied      func(ents []raftpb.Entry)
	AfterStep      func(m raftpb.Message)
	// async is raft.Config.AsyncStorageWrites; chunked is set when the
	// node fetches snapshots in chunks (raft.Config.SnapshotChunkSize).
	async, chunked bool
}

// noCallbacks are the callbacks of every Loop whose Config sets none,
// one for each storage mode: [async][chunked]. They are only read.
var noCallbacks = [2][2]callbacks{
	{{}, {chunked: true}},
	{{async: true}, {async: true, chunked: true}},
}

// hooksOf returns what a Loop keeps of c.
func hooksOf(c Config) hooks {
	async, chunked := c.Raft.AsyncStorageWrites, c.Raft.SnapshotChunkSize > 0
	h := hooks{Disk: c.Disk, Network: c.Network, StateMachine: c.StateMachine,
		callbacks: &noCallbacks[b2i(async)][b2i(chunked)]}
	cb := callbacks{Ticks: c.Ticks, OnReady: c.OnReady, OnRead: c.OnRead, OnSnapshotWork: c.OnSnapshotWork,
		HandOff: c.HandOff, OnApplied: c.OnApplied, AfterStep: c.AfterStep, async: async, chunked: chunked}
	if cb.Ticks != nil || cb.OnReady != nil || cb.OnRead != nil || cb.OnSnapshotWork != nil ||
		cb.HandOff != nil || cb.OnApplied != nil || cb.AfterStep != nil {
		h.callbacks = &cb
	}
	return h
}

// b2i returns 1 for true and 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ErrConfig is wrapped by the error New returns for a Config that lacks
// a required part.
var ErrConfig = errors.New("raftloop: invalid config")

// Loop is the application loop around one RawNode.
type Loop struct {
	rn  *raft.RawNode
	cfg hooks
	// applied is the index the state machine has reached.
	applied uint64
	// q is the loop's queues, nil until the first job or read is queued:
	// a process with many idle groups holds a Loop per node and queues
	// nothing for most of them.
	q *queues
}

// queues are what a Loop queues for its workers and its reads.
type queues struct {
	// reads are the released reads waiting for applied.
	reads []raft.ReadState
	// appends, applies and snapWork are the workers' queues.
	appends, applies, snapWork []raftpb.Message
	// handed are the jobs handed to Config.HandOff whose
	// acknowledgements wait, oldest first; handedSeq numbers them.
	handed    []handoff
	handedSeq uint64
}

// noQueues stands for the queues of a Loop that has queued nothing; it
// is only read.
var noQueues queues

// qs returns the Loop's queues, allocating them on first use.
func (l *Loop) qs() *queues {
	if l.q == nil {
		l.q = &queues{}
	}
	return l.q
}

// peek returns the Loop's queues to read, without allocating them.
func (l *Loop) peek() *queues {
	if l.q == nil {
		return &noQueues
	}
	return l.q
}

// New starts the node c describes, from what its Disk holds.
func New(c Config) (*Loop, error) {
	if c.Disk == nil || c.Network == nil || c.StateMachine == nil {
		return nil, fmt.Errorf("%w: Disk, Network and StateMachine are required", ErrConfig)
	}
	if c.HandOff != nil && !c.Raft.AsyncStorageWrites {
		return nil, fmt.Errorf("%w: HandOff needs raft.Config.AsyncStorageWrites", ErrConfig)
	}
	rc := c.Raft
	if rc.Storage == nil {
		rc.Storage = c.Disk.Storage()
	}
	rc.CheckContract = rc.CheckContract || !c.Unchecked
	rn, err := raft.NewRawNode(&rc)
	if err != nil {
		return nil, err
	}
	l := &Loop{rn: rn, cfg: hooksOf(c)}
	l.applied = rn.BasicStatus().Applied
	return l, nil
}

// RawNode returns the node. A driver may call its methods directly; the
// input methods of Loop first catch up on the elapsed ticks.
func (l *Loop) RawNode() *raft.RawNode { return l.rn }

// Applied returns the index the state machine has reached.
func (l *Loop) Applied() uint64 { return l.applied }

// catchUp hands the node every tick elapsed since the last input: every
// elapsed tick reaches the node before anything else is stepped.
func (l *Loop) catchUp() {
	if l.cfg.Ticks != nil {
		l.rn.TickN(l.cfg.Ticks())
	}
}

// Tick hands the node the ticks elapsed (Config.Ticks), or one tick when
// the loop has no clock.
func (l *Loop) Tick() {
	if l.cfg.Ticks == nil {
		l.rn.Tick()
		return
	}
	l.catchUp()
}

// Step steps a message received from a peer.
func (l *Loop) Step(m raftpb.Message) error { l.catchUp(); return l.rn.Step(m) }

// stepLocal steps a worker's acknowledgement.
func (l *Loop) stepLocal(m raftpb.Message) error {
	if err := l.Step(m); err != nil {
		return err
	}
	if l.cfg.AfterStep != nil {
		l.cfg.AfterStep(m)
	}
	return nil
}

// Propose proposes data; see raft.RawNode.Propose.
func (l *Loop) Propose(data []byte) (index, term uint64, err error) {
	l.catchUp()
	return l.rn.Propose(data)
}

// ProposeConfChange proposes a membership change; see
// raft.RawNode.ProposeConfChange.
func (l *Loop) ProposeConfChange(cc raftpb.ConfChangeI) (index, term uint64, err error) {
	l.catchUp()
	return l.rn.ProposeConfChange(cc)
}

// ReadIndex asks for a linearizable read; Config.OnRead is handed it once
// it may be served.
func (l *Loop) ReadIndex(ctx []byte) error { l.catchUp(); return l.rn.ReadIndex(ctx) }

// ReadLocal asks for a monotonic read at or after minIndex; Config.OnRead
// is handed it once it may be served.
func (l *Loop) ReadLocal(ctx []byte, minIndex uint64) error {
	l.catchUp()
	return l.rn.ReadLocal(ctx, minIndex)
}

// Campaign makes the node start an election.
func (l *Loop) Campaign() error { l.catchUp(); return l.rn.Campaign() }

// ReportUnreachable tells the node the transport could not reach id.
func (l *Loop) ReportUnreachable(id uint64) { l.catchUp(); l.rn.ReportUnreachable(id) }

// ReportSnapshot tells the node how sending a snapshot to id ended.
func (l *Loop) ReportSnapshot(id uint64, failed bool) { l.catchUp(); l.rn.ReportSnapshot(id, failed) }

// Busy reports whether the node has a Ready or a worker of the loop has a
// job. Jobs handed to Config.HandOff are not counted (HandedOff).
func (l *Loop) Busy() bool {
	q := l.peek()
	return l.rn.HasReady() || len(q.appends) > 0 || len(q.applies) > 0 || len(q.snapWork) > 0
}

// Run handles Readys and runs the workers' jobs until none is left, and
// reports whether there was any work.
func (l *Loop) Run() (bool, error) {
	moved := false
	for l.Busy() {
		moved = true
		if err := l.HandleReady(); err != nil {
			return moved, err
		}
		if err := l.runWorkers(); err != nil {
			return moved, err
		}
	}
	return moved, nil
}

// runWorkers completes every job queued on the workers: the snapshot
// worker's, then the writes, then the applies.
func (l *Loop) runWorkers() error {
	for _, run := range []func() (bool, error){l.RunSnapshotWork, l.RunAppend, l.RunApply} {
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
	return nil
}

// TicksOf returns a Config.Ticks that reads the monotonic clock: the
// ticks of c elapsed since its previous call (tools/tickclock).
func TicksOf(c *tickclock.Clock) func() int {
	return func() int { return c.Elapsed(time.Now()) }
}
