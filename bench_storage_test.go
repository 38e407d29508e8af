package raft

// The storage-mode benchmark compares the synchronous Ready/Advance loop
// with the asynchronous storage mode (Config.AsyncStorageWrites) when
// writes take time. The model, in loop iterations rather than wall time:
//
//   - A loop iteration is: node 1 (the leader) proposes batch entries; each
//     node in turn completes the writes that are due and takes the Readys
//     it may take, until it can do neither; every message sent during the
//     iteration is delivered (stepped into its recipient). A message sent
//     in iteration i is thus handled by its recipient's Ready in i+1.
//   - Each node has an in-memory disk: a write issued in iteration i
//     becomes durable in iteration i+D, when the node's turn comes, and the
//     writes of a node complete in the order they were issued. Only a
//     write that must be synced takes the D iterations: one with entries,
//     a snapshot, or a new term or vote (Ready.MustSync). A write of the
//     commit index alone is durable as soon as the writes before it are.
//     D = 0 makes every write durable at once; the synchronous loop then
//     does what BenchmarkCommit's cluster does. The disk's bandwidth is
//     unbounded: a write of many entries costs what a write of one does.
//   - Synchronous mode: a node takes a Ready, sends its Messages at once
//     (the leader's appends go out before its own write, thesis §10.2.1)
//     and issues its write. Like the documented loop, blocked in Sync, the
//     node then takes no new Ready until the write is durable; then it
//     sends MessagesAfterPersist, applies CommittedEntries and calls
//     Advance. Messages that arrive meanwhile are stepped into it.
//   - Asynchronous mode: a MsgStorageAppend to LocalAppendThread is
//     issued as a write; when it is durable its Responses are delivered,
//     those to the node itself through Step, the others onto the network.
//     A MsgStorageApply to LocalApplyThread is applied, and its Responses
//     delivered, at once. The node takes new Readys while writes are
//     outstanding.
//
// Nothing ticks (no heartbeat or election timer fires) and no message is
// lost, so node 1 leads throughout. An entry's latency is the number of
// iterations from its proposal to its application on the leader: an entry
// proposed in iteration p and applied in iteration a took a-p.
//
// The run proposes for b.N iterations and then runs on, proposing
// nothing, until the leader has applied every proposal; entries/iter and
// entries/s count the iterations and the time of both phases. Because the
// disk's bandwidth is unbounded, both modes keep up with any offered load
// by batching, and entries/iter falls short of batch only by the drain,
// whose length is about the latency.

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// The shapes the storage-mode benchmark runs: write delays in loop
// iterations and proposals per loop iteration, on 3 nodes with 128-byte
// entries.
var (
	storageDelays  = []int{0, 1, 4, 16}
	storageBatches = []int{1, 64}
)

const (
	storageNodes     = 3
	storageEntrySize = 128
	// storageDrainLimit bounds the iterations the drain may take.
	storageDrainLimit = 100000
)

// BenchmarkStorageModes measures commit throughput and commit latency of
// a 3-node cluster whose disks take D loop iterations to make a write
// durable, in the synchronous and the asynchronous storage modes (see the
// model at the top of this file). Each benchmark iteration is one loop
// iteration proposing batch entries of 128 bytes. It reports the committed
// entries per loop iteration and per second, the mean and p99 latency in
// loop iterations from Propose to the entry being applied on the leader,
// and the messages, time and allocations per committed entry. The
// sub-benchmarks of both modes run side by side for each delay and batch.
func BenchmarkStorageModes(b *testing.B) {
	for _, delay := range storageDelays {
		for _, batch := range storageBatches {
			for _, async := range []bool{false, true} {
				mode := "sync"
				if async {
					mode = "async"
				}
				name := fmt.Sprintf("mode=%s/delay=%d/batch=%d", mode, delay, batch)
				b.Run(name, func(b *testing.B) { benchmarkStorageMode(b, async, delay, batch) })
			}
		}
	}
}

func benchmarkStorageMode(b *testing.B, async bool, delay, batch int) {
	c := newStorageCluster(b, async, delay, batch)
	c.elect(b)
	c.bc.sent, c.bc.appliedData = 0, 0
	data := make([]byte, storageEntrySize)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	c.proposedFrom = c.iter
	for i := 0; i < b.N; i++ {
		c.bc.propose(b, data, batch)
		c.iterate(b)
	}
	committed := b.N * batch
	for drained := 0; c.bc.appliedData < committed; drained++ {
		if drained > storageDrainLimit {
			b.Fatalf("%d entries proposed, %d applied by the leader after %d iterations of drain",
				committed, c.bc.appliedData, drained)
		}
		c.iterate(b)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	reportPerEntry(b, committed, c.bc.sent, after.Mallocs-before.Mallocs)
	b.ReportMetric(float64(committed)/float64(c.iter-c.proposedFrom), "entries/iter")
	b.ReportMetric(c.latency.mean(), "latency-iters")
	b.ReportMetric(float64(c.latency.quantile(0.99)), "p99-latency-iters")
}

// storageCluster drives a benchCluster's nodes through disks that take
// delay loop iterations to make a write durable, in either storage mode.
// It reuses the benchCluster's network (inbox, delivery, message count),
// its proposals, its count of the leader's applied proposals and its
// compaction.
type storageCluster struct {
	bc    *benchCluster
	disks []*storageDisk
	async bool
	// delay is D, the iterations a synced write takes.
	delay int
	// iter is the loop iteration being run.
	iter int
	// proposedFrom is the iteration of the first proposal, and batch the
	// proposals of each iteration since, so that the k-th proposal (from
	// 0) was made in iteration proposedFrom + k/batch.
	proposedFrom, batch int
	latency             latencyHistogram
}

// storageDisk is the stable storage of one node, with the writes it has
// been asked for and has not yet made durable.
type storageDisk struct {
	nd *clusterNode
	// In the synchronous mode: the Ready whose write is outstanding, if
	// waiting, and the iteration its write is durable.
	ready    Ready
	readyDue int
	waiting  bool
	// In the asynchronous mode: the MsgStorageAppends not yet durable, in
	// the order they were issued, and the term and vote of the last one
	// that carried a hard state.
	appends    []delayedAppend
	term, vote uint64
}

// delayedAppend is a MsgStorageAppend and the iteration it is durable.
type delayedAppend struct {
	m   raftpb.Message
	due int
}

func newStorageCluster(tb testing.TB, async bool, delay, batch int) *storageCluster {
	nodes := newClusterNodes(tb, storageNodes, func(cfg *Config) { cfg.AsyncStorageWrites = async })
	c := &storageCluster{bc: &benchCluster{nodes: nodes}, async: async, delay: delay, batch: batch}
	for _, nd := range nodes {
		c.disks = append(c.disks, &storageDisk{nd: nd})
	}
	return c
}

// elect makes node 1 the leader and runs the cluster until nothing moves.
func (c *storageCluster) elect(tb testing.TB) {
	tb.Helper()
	if err := c.bc.nodes[0].rn.Campaign(); err != nil {
		tb.Fatal(err)
	}
	for n := 0; c.busy(); n++ {
		if n > 10000 {
			tb.Fatal("the cluster does not quiesce")
		}
		c.iterate(tb)
	}
	if s := c.bc.nodes[0].rn.BasicStatus(); s.RaftState != StateLeader {
		tb.Fatalf("node 1 is %v after its campaign", s.RaftState)
	}
}

// busy reports whether a message, a write or a Ready is outstanding.
func (c *storageCluster) busy() bool {
	if len(c.bc.inbox) > 0 {
		return true
	}
	for _, d := range c.disks {
		if d.waiting || len(d.appends) > 0 || d.nd.rn.HasReady() {
			return true
		}
	}
	return false
}

// iterate runs one loop iteration: each node's turn, then the network.
func (c *storageCluster) iterate(tb testing.TB) {
	for _, d := range c.disks {
		c.turn(tb, d)
	}
	c.bc.compact(tb)
	c.bc.deliver(tb)
	c.iter++
}

// turn completes d's due writes and takes the node's Readys until neither
// moves: a write durable at once (D = 0, or nothing to sync) may let the
// node take its next Ready in the same iteration.
func (c *storageCluster) turn(tb testing.TB, d *storageDisk) {
	for {
		moved := c.completeDue(tb, d)
		if c.async || !d.waiting {
			if d.nd.rn.HasReady() {
				c.takeReady(tb, d)
				moved = true
			}
		}
		if !moved {
			return
		}
	}
}

func (c *storageCluster) takeReady(tb testing.TB, d *storageDisk) {
	rd := d.nd.rn.Ready()
	if c.async {
		c.routeAsync(tb, d, rd.Messages)
		return
	}
	c.send(rd.Messages)
	d.ready, d.waiting, d.readyDue = rd, true, c.iter
	if rd.MustSync {
		d.readyDue += c.delay
	}
}

// routeAsync hands the messages of an asynchronous Ready to the append
// worker (the delayed disk), the apply worker (at once) and the network.
func (c *storageCluster) routeAsync(tb testing.TB, d *storageDisk, msgs []raftpb.Message) {
	for i := range msgs {
		switch m := msgs[i]; m.To {
		case LocalAppendThread:
			c.issueAppend(d, m)
		case LocalApplyThread:
			c.apply(d, m.Entries)
			c.respond(tb, d, m.Responses)
		default:
			c.send(msgs[i : i+1])
		}
	}
}

// issueAppend queues m on d's disk: durable D iterations from now if it
// must be synced, and in any case not before the writes issued before it.
func (c *storageCluster) issueAppend(d *storageDisk, m raftpb.Message) {
	due := c.iter
	if d.mustSync(m) {
		due += c.delay
	}
	if n := len(d.appends); n > 0 {
		due = max(due, d.appends[n-1].due)
	}
	d.appends = append(d.appends, delayedAppend{m: m, due: due})
}

// mustSync reports whether the write of m must be synced, as
// Ready.MustSync would: it carries entries, a snapshot, or a term or vote
// other than the last written.
func (d *storageDisk) mustSync(m raftpb.Message) bool {
	sync := len(m.Entries) > 0 || m.Snapshot != nil
	if !(raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}).IsEmpty() {
		sync = sync || m.Term != d.term || m.Vote != d.vote
		d.term, d.vote = m.Term, m.Vote
	}
	return sync
}

// completeDue makes the writes of d that are due durable and does what
// waited for them. It reports whether any was.
func (c *storageCluster) completeDue(tb testing.TB, d *storageDisk) bool {
	if !c.async {
		if !d.waiting || d.readyDue > c.iter {
			return false
		}
		c.completeReady(tb, d)
		return true
	}
	done := 0
	for done < len(d.appends) && d.appends[done].due <= c.iter {
		c.completeAppend(tb, d, d.appends[done].m)
		done++
	}
	n := copy(d.appends, d.appends[done:])
	clear(d.appends[n:]) // drop references to entries for the collector
	d.appends = d.appends[:n]
	return done > 0
}

// completeReady finishes the synchronous Ready whose write is durable.
func (c *storageCluster) completeReady(tb testing.TB, d *storageDisk) {
	rd := &d.ready
	d.nd.persist(tb, rd)
	c.send(rd.MessagesAfterPersist)
	c.apply(d, rd.CommittedEntries)
	d.nd.rn.Advance()
	d.ready, d.waiting = Ready{}, false
}

// completeAppend writes m to storage and delivers its Responses.
func (c *storageCluster) completeAppend(tb testing.TB, d *storageDisk, m raftpb.Message) {
	rd := Ready{Entries: m.Entries, HardState: raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}}
	if m.Snapshot != nil {
		rd.Snapshot = *m.Snapshot
	}
	d.nd.persist(tb, &rd)
	c.respond(tb, d, m.Responses)
}

// respond delivers a worker's responses: to the node itself through Step,
// to others onto the network.
func (c *storageCluster) respond(tb testing.TB, d *storageDisk, resps []raftpb.Message) {
	for i := range resps {
		if resps[i].To != d.nd.id {
			c.send(resps[i : i+1])
			continue
		}
		if err := d.nd.rn.Step(resps[i]); err != nil {
			tb.Fatalf("node %d: step %s: %v", d.nd.id, resps[i].Type, err)
		}
	}
}

// send puts msgs on the network, to be delivered at the end of the
// iteration.
func (c *storageCluster) send(msgs []raftpb.Message) {
	c.bc.inbox = append(c.bc.inbox, msgs...)
	c.bc.sent += len(msgs)
}

// apply applies committed entries on d's node and, on the leader, records
// the latency of the proposals among them.
func (c *storageCluster) apply(d *storageDisk, ents []raftpb.Entry) {
	n := len(ents)
	if n == 0 {
		return
	}
	d.nd.applied = ents[n-1].Index
	if d.nd.id != 1 {
		return
	}
	k := c.bc.appliedData
	c.bc.countData(ents)
	for ; k < c.bc.appliedData; k++ {
		c.latency.add(c.iter - (c.proposedFrom + k/c.batch))
	}
}

// latencyHistogram counts latencies in loop iterations: counts[l] is the
// number of entries that took l iterations.
type latencyHistogram struct {
	counts []int
	n, sum int
}

func (h *latencyHistogram) add(l int) {
	for len(h.counts) <= l {
		h.counts = append(h.counts, 0)
	}
	h.counts[l]++
	h.n++
	h.sum += l
}

func (h *latencyHistogram) mean() float64 {
	if h.n == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.n)
}

// quantile returns the smallest latency that at least a fraction q of the
// entries did not exceed (the nearest-rank method).
func (h *latencyHistogram) quantile(q float64) int {
	rank := int(math.Ceil(q * float64(h.n)))
	seen := 0
	for l, count := range h.counts {
		seen += count
		if seen >= rank && seen > 0 {
			return l
		}
	}
	return 0
}
