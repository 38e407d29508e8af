package kvnode

import (
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/tickclock"
)

// maxBatch bounds the messages and requests the loop takes in before it
// handles a Ready: enough to batch a busy moment's proposals into one
// write, few enough to keep ticks on time.
const maxBatch = 512

// loopState is what the event loop owns.
type loopState struct {
	sm        *stateMachine
	confState raftpb.ConfState
	// applied is the index the state machine has applied.
	applied uint64
	// pendingSnap is a snapshot of the state taken while applying, to be
	// recorded in storage once the node has acknowledged the apply.
	pendingSnap *raftpb.Snapshot
	// peerAddrs are the peers the transport knows, with their addresses.
	peerAddrs map[uint64]string
	// truncatedBytes is what the log's recovery cut, and installs the
	// snapshots installed from the leader since start, for Status.
	truncatedBytes int64
	installs       int

	writes    map[uint64]*pendingWrite // by log index
	reads     map[string]*request      // by read context, until released
	waiting   []waitingRead            // released, waiting for the apply
	transfers []*request
	nextCtx   uint64
	// removedAt is the index at which the node applied its own removal
	// (removal.go), zero while it is a member.
	removedAt uint64
	// addedAt is an index at or after the one at which this node was last
	// added: where it became a member, or the applied index it started
	// with as one (zero: it does not know; removal.go).
	addedAt uint64

	// softState is the role change of the Ready being handled, for
	// onSoftState once it is handled.
	softState *raft.SoftState

	// clock counts the ticks elapsed on the monotonic clock.
	clock *tickclock.Clock
}

func newLoopState(rec *recovered) loopState {
	return loopState{
		sm: rec.sm, confState: rec.confState, applied: rec.applied,
		peerAddrs: map[uint64]string{}, truncatedBytes: rec.truncatedBytes,
		writes: map[uint64]*pendingWrite{}, reads: map[string]*request{},
	}
}

// run is the event loop: one goroutine owns the RawNode, its reference
// loop and everything in loopState. Each turn takes one input (a tick,
// messages from peers, client requests, finished disk work, unreachable
// reports), then hands every Ready out. In the asynchronous mode the disk
// worker goroutine persists (and fsyncs) in parallel while the loop goes
// on; applying, which only touches memory, is done inline. In the
// synchronous mode everything is inline.
//
// Time follows the tick contract: the ticker only wakes the loop, and the
// node's ticks are the whole intervals elapsed on the monotonic clock
// (tickclock), handed to TickN after each input is taken off its queue
// and before it is stepped. A pause of the process (SIGSTOP, a stopped
// VM) is then seen, as the ticks it missed, before anything that waited
// during it: a paused leader's lease has run out by the time it reads a
// request that arrived meanwhile.
func (n *Node) run() {
	defer close(n.loopDone)
	ticker := time.NewTicker(n.cfg.TickInterval)
	defer ticker.Stop()
	n.clock = tickclock.New(n.cfg.TickInterval, time.Now())
	n.publishMetrics()
	for {
		select {
		case <-n.stop:
			return
		case <-ticker.C:
			now := n.catchUpClock()
			n.expire(now)
			n.publishMetrics()
		case m := <-n.tr.Receive():
			n.step(m)
			n.drainInbound()
		case r := <-n.reqs:
			n.handle(r)
			n.drainRequests()
		case <-n.results.ready():
			n.catchUpClock()
			if err := n.completeDisk(); err != nil {
				n.fail(err)
				return
			}
		case <-n.snapper.saved.ready():
			n.catchUpClock()
			n.completeSnapshots()
		case <-n.unreachable.ready():
			n.catchUpClock()
			n.reportUnreachable()
		}
		if err := n.processReady(); err != nil {
			n.fail(err)
			return
		}
		if err := n.removedErr(); err != nil {
			n.fail(err)
			return
		}
	}
}

// catchUpClock gives the node the ticks elapsed since it last read the
// clock, and returns the reading.
func (n *Node) catchUpClock() time.Time {
	now := time.Now()
	n.rn.TickN(n.clock.Elapsed(now))
	return now
}

// step hands a peer's message to the node, after the ticks elapsed
// before it was taken. A refused message changes nothing; the refusal is
// counted (kvexample_raft_messages_refused_total) and logged.
func (n *Node) step(m raftpb.Message) {
	n.catchUpClock()
	if err := n.rn.Step(m); err != nil {
		n.metrics.messagesRefused.Add(1)
		n.log.Debug("refused a message", "type", m.Type.String(), "from", m.From, "error", err)
	}
}

func (n *Node) drainInbound() {
	for i := 0; i < maxBatch; i++ {
		select {
		case m := <-n.tr.Receive():
			n.step(m)
		default:
			return
		}
	}
}

func (n *Node) drainRequests() {
	for i := 0; i < maxBatch; i++ {
		select {
		case r := <-n.reqs:
			n.handle(r)
		default:
			return
		}
	}
}

// reportUnreachable tells the node, once per peer, about the peers the
// transport could not reach since the last time.
func (n *Node) reportUnreachable() {
	ids := n.unreachable.take()
	seen := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			n.rn.ReportUnreachable(id)
		}
	}
}

// completeDisk finishes the disk worker's results in order: the in-memory
// storage learns what is now durable, then the reference loop, told the
// job completed, delivers its acknowledgements.
func (n *Node) completeDisk() error {
	for _, res := range n.results.take() {
		if res.err != nil {
			return res.err
		}
		j := &res.job.job
		switch res.job.kind {
		case jobAppend:
			if err := n.storeDurable(j.HardState, j.Entries, j.Snapshot); err != nil {
				return err
			}
		case jobChunk:
			n.metrics.chunksSaved.Add(1)
		default:
			continue // a snapshot marker: nothing waits for it
		}
		if err := n.loop.Completed(j.Seq); err != nil {
			return err
		}
	}
	return nil
}

// storeDurable records in the in-memory storage a snapshot, hard state and
// entries that are durable, for the node to read.
func (n *Node) storeDurable(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	if !snap.IsEmpty() {
		if err := n.storage.ApplySnapshot(snap); err != nil {
			n.log.Warn("in-memory storage refused a snapshot", "index", snap.Metadata.Index, "error", err)
		}
	}
	if !hs.IsEmpty() {
		if err := n.storage.SetHardState(hs); err != nil {
			return err
		}
	}
	return n.storage.Append(ents)
}
