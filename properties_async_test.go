package raft

// The asynchronous storage mode over random schedules (thesis §10.2.1). The
// schedules of properties_test.go run with Config.AsyncStorageWrites: a
// node's Ready carries only Messages, and the storage work it hands out
// to its append and apply workers waits in a queue per node and worker
// until a step of the schedule completes the oldest item of one. Several
// writes and applies may thus be outstanding while the node goes on
// stepping, sending and receiving; a crash loses both queues (the writes
// never acknowledged, the applies never done). Advance is never called.
//
// Claim: the safety properties of tools/checker hold after every step,
// acknowledged writes survive crashes, and a leader keeps within its
// bounds: every follower's inflight payload at most MaxInflightBytes plus
// the largest entry (one message may reach the bound whole), its
// uncommitted tail at most MaxUncommittedEntriesSize plus one proposal,
// and the payload queued for the apply worker at most
// MaxCommittedSizePerReady (or one entry). Once healed, with the queues
// drained, the cluster converges.
//
// The bounds are judged by the oracle of schedule_oracle_test.go, from
// the messages the network carried and the worker messages the nodes
// handed out (the apply worker's queue is the outstanding payload);
// checkBounds below also reads the same bounds from Status, which only
// shows that the library reports what it enforces: a library that stops
// counting passes it.
//
// Run long with:
//
//	go test -run TestAsyncStorage -rapid.checks=2000 -rapid.nofailfile

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/tickraft/raft/raftpb"
)

// The bounds of the asynchronous test, small enough that large proposals
// reach them.
const (
	asyncMaxInflightBytes    = 4 << 10
	asyncMaxUncommittedBytes = 8 << 10
	// asyncMaxProposal bounds the payload of a large proposal.
	asyncMaxProposal = 3 << 10
	// asyncMaxApplying is the MaxCommittedSizePerReady of the runs that
	// do not draw a tiny one (see drawScheduleConfig), below the largest
	// proposals: a large entry is handed out alone.
	asyncMaxApplying = 2 << 10
)

// asyncWorkers runs the append and apply workers of every node of a
// scheduleCluster whose nodes use Config.AsyncStorageWrites.
type asyncWorkers struct {
	c                *scheduleCluster
	appends, applies map[uint64][]raftpb.Message
	// maxEntry is the largest payload proposed so far: the largest entry
	// and the largest proposal batch (Propose takes one entry).
	maxEntry uint64
	stats    asyncStats
}

// asyncStats counts what the workers and the large proposals did.
type asyncStats struct {
	Appends, Applies, LostAppends, LostApplies int
	MaxQueued                                  int
	BigProposals, BigAccepted, BigRefused      int
	PeakInflightBytes, PeakUncommittedBytes    uint64
}

func (s *asyncStats) add(o asyncStats) {
	s.Appends += o.Appends
	s.Applies += o.Applies
	s.LostAppends += o.LostAppends
	s.LostApplies += o.LostApplies
	s.MaxQueued = max(s.MaxQueued, o.MaxQueued)
	s.BigProposals += o.BigProposals
	s.BigAccepted += o.BigAccepted
	s.BigRefused += o.BigRefused
	s.PeakInflightBytes = max(s.PeakInflightBytes, o.PeakInflightBytes)
	s.PeakUncommittedBytes = max(s.PeakUncommittedBytes, o.PeakUncommittedBytes)
}

// asyncOptions returns the options of the asynchronous schedules, whose
// workers w becomes once the cluster exists.
func asyncOptions(w *asyncWorkers) scheduleOptions {
	return scheduleOptions{
		Configure: func(cfg *Config) {
			cfg.AsyncStorageWrites = true
			cfg.MaxInflightBytes = asyncMaxInflightBytes
			cfg.MaxUncommittedEntriesSize = asyncMaxUncommittedBytes
			cfg.MaxCommittedSizePerReady = cmp.Or(cfg.MaxCommittedSizePerReady, asyncMaxApplying)
		},
		Actions: func(c *scheduleCluster) map[string]func(*rapid.T) {
			w.c = c
			return map[string]func(*rapid.T){
				"append-worker": func(t *rapid.T) { w.stepWorker(t, true) },
				"apply-worker":  func(t *rapid.T) { w.stepWorker(t, false) },
				"propose-large": func(t *rapid.T) { w.stepProposeLarge(t) },
			}
		},
		OnCheck: func() { w.checkBounds() },
		Async:   w,
	}
}

func newAsyncWorkers() *asyncWorkers {
	return &asyncWorkers{
		appends: map[uint64][]raftpb.Message{}, applies: map[uint64][]raftpb.Message{},
		maxEntry: uint64(len("liveness marker")),
	}
}

// handleReady routes nd's Ready: worker messages to nd's queues, the
// rest to the network. Nothing else may be in it.
func (w *asyncWorkers) handleReady(nd *scheduleNode) string {
	c := w.c
	rd := nd.rn.Ready()
	c.afterInput(nd, "Ready")
	if len(rd.Entries) > 0 || len(rd.CommittedEntries) > 0 || !rd.HardState.IsEmpty() ||
		!rd.Snapshot.IsEmpty() || len(rd.MessagesAfterPersist) > 0 {
		c.fail("node %d in the asynchronous mode handed out a Ready with more than Messages:%s", nd.id, describeReady(&rd))
	}
	var appends, applies, sent int
	for _, m := range rd.Messages {
		switch m.To {
		case LocalAppendThread:
			w.appends[nd.id] = append(w.appends[nd.id], m)
			appends++
		case LocalApplyThread:
			w.applies[nd.id] = append(w.applies[nd.id], m)
			applies++
		default:
			c.send([]raftpb.Message{m})
			sent++
		}
	}
	// The oracle learns what was handed out once the messages are sent
	// (a MsgTimeoutNow is judged against the log from before the Ready).
	c.oracle.readyOut(nd)
	for _, m := range rd.Messages {
		switch m.To {
		case LocalAppendThread:
			c.oracle.handedOut(nd, m.Entries, m.Commit, m.Snapshot)
		case LocalApplyThread:
			c.oracle.handedToApply(nd, m.Entries)
		}
	}
	w.stats.MaxQueued = max(w.stats.MaxQueued, len(w.appends[nd.id])+len(w.applies[nd.id]))
	if c.opts.OnReady != nil {
		c.opts.OnReady(nd, &rd)
	}
	c.opts.Chunks.drain(nd)
	return fmt.Sprintf(" msgs=%d to-append=%d to-apply=%d (queued %d+%d)",
		sent, appends, applies, len(w.appends[nd.id]), len(w.applies[nd.id]))
}

// crash loses nd's queues. The worker messages of a Ready the crash cut
// short, which the cluster put on the network with the rest when the
// Messages left, are lost with the workers.
func (w *asyncWorkers) crash(nd *scheduleNode) {
	w.stats.LostAppends += len(w.appends[nd.id])
	w.stats.LostApplies += len(w.applies[nd.id])
	delete(w.appends, nd.id)
	delete(w.applies, nd.id)
	w.c.net = slices.DeleteFunc(w.c.net, func(m raftpb.Message) bool {
		return m.To == LocalAppendThread || m.To == LocalApplyThread
	})
}

// quiet reports whether nd has no write queued.
func (w *asyncWorkers) quiet(nd *scheduleNode) bool { return len(w.appends[nd.id]) == 0 }

// drain completes every queued write of nd, then every queued apply.
func (w *asyncWorkers) drain(nd *scheduleNode) bool {
	moved := false
	for nd.rn != nil && len(w.appends[nd.id]) > 0 {
		w.completeAppend(nd)
		moved = true
	}
	for nd.rn != nil && len(w.applies[nd.id]) > 0 {
		w.completeApply(nd)
		moved = true
	}
	return moved
}

// stepWorker lets the append (or apply) worker of each running node
// complete from none to three of the oldest items of its queue.
func (w *asyncWorkers) stepWorker(t *rapid.T, appendWorker bool) {
	c := w.c
	queues, name := w.applies, "apply-worker"
	if appendWorker {
		queues, name = w.appends, "append-worker"
	}
	counts := make([]int, len(c.nodes))
	for i := range counts {
		counts[i] = rapid.IntRange(0, 3).Draw(t, "worker-items")
	}
	c.stats.Steps++
	for i, nd := range c.nodes {
		for k := 0; k < counts[i] && nd.rn != nil && len(queues[nd.id]) > 0; k++ {
			var what string
			if appendWorker {
				what = w.completeAppend(nd)
			} else {
				what = w.completeApply(nd)
			}
			c.logf("%s %d:%s", name, nd.id, what)
		}
	}
}

// completeAppend persists the oldest write queued for nd, then delivers
// its responses. A snapshot is only persisted here: the node hands it to
// the apply worker once it is durable.
func (w *asyncWorkers) completeAppend(nd *scheduleNode) string {
	c := w.c
	q := w.appends[nd.id]
	m := q[0]
	w.appends[nd.id] = q[1:]
	w.stats.Appends++
	rd := Ready{Entries: m.Entries, HardState: raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}}
	desc := ""
	if s := m.Snapshot; s != nil {
		rd.Snapshot = c.opts.Chunks.assemble(nd, *s)
		desc += fmt.Sprintf(" snapshot=%d/%d", s.Metadata.Term, s.Metadata.Index)
	}
	if n := len(m.Entries); n > 0 {
		desc += fmt.Sprintf(" entries=%d/%d..%d/%d", m.Entries[0].Term, m.Entries[0].Index, m.Entries[n-1].Term, m.Entries[n-1].Index)
	}
	if !rd.HardState.IsEmpty() {
		desc += fmt.Sprintf(" hard={%v}", rd.HardState)
	}
	c.persist(nd, &rd, len(rd.Entries)+2) // the whole write
	return desc + w.respond(nd, m.Responses)
}

// completeApply applies the oldest committed entries queued for nd, then
// delivers the responses.
func (w *asyncWorkers) completeApply(nd *scheduleNode) string {
	c := w.c
	q := w.applies[nd.id]
	m := q[0]
	w.applies[nd.id] = q[1:]
	w.stats.Applies++
	desc := ""
	if s := m.Snapshot; s != nil {
		c.apply(nd, &Ready{Snapshot: c.opts.Chunks.assemble(nd, *s)})
		desc = fmt.Sprintf(" install=%d/%d", s.Metadata.Term, s.Metadata.Index)
	}
	c.applyEntries(nd, m.Entries)
	c.oracle.applied(nd, m.Entries)
	if n := len(m.Entries); n > 0 {
		desc = fmt.Sprintf(" apply=%d..%d", m.Entries[0].Index, m.Entries[n-1].Index)
	}
	return desc + w.respond(nd, m.Responses)
}

// respond delivers a worker's responses: those to nd through Step, the
// others onto the network.
func (w *asyncWorkers) respond(nd *scheduleNode, resps []raftpb.Message) string {
	c := w.c
	stepped, sent := 0, 0
	for _, r := range resps {
		if r.To != nd.id {
			c.send([]raftpb.Message{r})
			sent++
			continue
		}
		if err := nd.rn.Step(r); err != nil {
			c.fail("node %d refused %v from its own worker: %v", nd.id, r, err)
		}
		c.afterInput(nd, "Step "+r.Type.String())
		stepped++
	}
	return fmt.Sprintf(" responses: stepped=%d sent=%d", stepped, sent)
}

// stepProposeLarge proposes a payload of up to asyncMaxProposal bytes,
// mostly on the leader, so that the bounds are reached.
func (w *asyncWorkers) stepProposeLarge(t *rapid.T) {
	c := w.c
	size := rapid.IntRange(1, asyncMaxProposal).Draw(t, "large-size")
	nd := c.proposer(t)
	if nd == nil {
		return
	}
	c.stats.Steps++
	w.stats.BigProposals++
	c.stats.Proposals++
	data := make([]byte, size)
	copy(data, fmt.Sprintf("p%d", c.stats.Proposals))
	w.maxEntry = max(w.maxEntry, uint64(size))
	outcome, desc := c.proposeData(nd, data)
	switch outcome {
	case proposeRefused:
		w.stats.BigRefused++
	case proposeAccepted:
		w.stats.BigAccepted++
	}
	c.logf("propose-large %d: %d bytes %s", nd.id, size, desc)
}

// checkBounds checks every running leader's inflight and uncommitted
// bytes, as Status reports them, against its bounds. It is not the judge
// of the bounds (the oracle is; see the file comment), only of what the
// library tells its application.
func (w *asyncWorkers) checkBounds() {
	c := w.c
	for _, nd := range c.up() {
		st := nd.rn.Status()
		if st.RaftState != StateLeader {
			continue
		}
		w.stats.PeakUncommittedBytes = max(w.stats.PeakUncommittedBytes, st.UncommittedBytes)
		if st.UncommittedBytes > asyncMaxUncommittedBytes+w.maxEntry {
			c.fail("leader %d holds %d uncommitted bytes, above MaxUncommittedEntriesSize %d + one proposal %d",
				nd.id, st.UncommittedBytes, asyncMaxUncommittedBytes, w.maxEntry)
		}
		for id, pr := range st.Progress {
			if id == nd.id {
				continue
			}
			b := pr.Inflights.Bytes()
			w.stats.PeakInflightBytes = max(w.stats.PeakInflightBytes, b)
			if b > asyncMaxInflightBytes+w.maxEntry {
				c.fail("leader %d has %d bytes in flight to %d, above MaxInflightBytes %d + the largest entry %d",
					nd.id, b, id, asyncMaxInflightBytes, w.maxEntry)
			}
		}
	}
}

func TestAsyncStorageKeepsSafetyUnderRandomSchedules(t *testing.T) {
	async := asyncStats{}
	checkSchedules(t, func(t *rapid.T) *scheduleCluster {
		w := newAsyncWorkers()
		c := runScheduleWith(t, drawScheduleConfig(t), checkSafety, asyncOptions(w))
		async.add(w.stats)
		return c
	})
	t.Logf("async: %+v", async)
	if async.Appends == 0 || async.Applies == 0 || async.LostAppends == 0 || async.BigAccepted == 0 {
		t.Errorf("the asynchronous schedules test too little: %+v", async)
	}
}
