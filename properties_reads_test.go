package raft

// Linearizable and local reads over random schedules (thesis §6.4). The
// cluster's state machine is, beside its digest chain, a single register:
// each proposal writes the next integer (its data is "p<n>"), and the
// register's value on a node is the write it applied last. Steps of the
// schedules of properties_test.go issue ReadIndex on a node with a unique
// context, and ReadLocal with the index the reading client last saw. A
// read is invoked at the History event of its call and returns when its
// ReadState has arrived in a Ready and the node's applied index has
// reached ReadState.Index: it reads the register there.
//
// Claim (ReadIndex): every read returns a write at least as new (in log
// order) as the newest write acknowledged to its proposer before the read
// was invoked, and as the newest write any read returned before it was
// invoked; and never a write that was not yet proposed when it returned.
// In the lease variant, Config.LeaseReads is on and the nodes' clocks never
// drift apart by more than LeaseClockDriftTicks ticks (a node ticks alone
// only within that skew; otherwise all tick together). In the follower
// variant, reads are issued on followers only. A read that comes back with
// Err, or is lost in a crash, is not counted.
//
// Claim (ReadLocal): a client's local read never returns a write older
// than one that client already read.
//
// Claim (bounds): the reads waiting on a leader, and the local reads
// waiting on a node, never exceed MaxPendingReads (readMaxPending in half
// the runs, so that the bound is reached; the default in the others,
// where fewer reads are refused and more are served). The oracle counts them from what the schedule did, never from
// Status: a leader's pending reads are those it accepted while leading
// (ReadIndex on it returned nil, or the network delivered it a forwarded
// MsgReadIndex it did not refuse) and has not yet released (a ReadState
// in its Ready, or a MsgReadIndexResp it sent, granting or refusing); a
// node's local reads are those ReadLocal accepted and whose ReadState it
// has not yet handed out. Both are judged right after each Ready: every
// read accepted before it is then either waiting or released in it, so
// the counts are exact. A crash forgets the incarnation's reads.
//
// Run long with:
//
//	go test -run TestReadsAreLinearizable -rapid.checks=5000 -rapid.steps=100

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"pgregory.net/rapid"

	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
)

// readClients is the number of clients whose local reads are tracked.
const readClients = 3

// readMaxPending is the MaxPendingReads of half the reads' schedules:
// small, so that the bounds are reached.
const readMaxPending = 3

// readVariant is how a test variant issues its reads.
type readVariant struct {
	name      string
	lease     bool
	followers bool
}

// register is the reads' model: the writes committed, what each read
// waits for, and what was observed.
type register struct {
	c *scheduleCluster
	// writes maps the index of each applied write to its value.
	writes map[uint64]uint64
	// newestAcked is the highest index of a write acknowledged so far.
	newestAcked uint64
	// newestRead is the highest write index a linearizable read returned.
	newestRead uint64
	// reads are the reads issued and not yet returned, by context.
	reads map[string]*pendingRead
	// waiting holds, per node, the reads whose ReadState arrived and
	// that wait for the applied index.
	waiting map[uint64][]waitingRead
	// seen is, per client, the newest write index its local reads saw.
	seen    [readClients]uint64
	next    int
	variant readVariant
	stats   readStats
	// onLeader and local count, per node, the reads its incarnation rn
	// accepted and has not released, by context (see the bounds claim).
	onLeader, local map[uint64]map[string]int
	rn              map[uint64]*RawNode
	// maxPending is the run's MaxPendingReads (0: the default).
	maxPending int
}

// pendingRead is an issued read.
type pendingRead struct {
	local bool
	// client issued a local read; minAcked and minRead are the bounds a
	// linearizable read must meet, fixed when it was invoked.
	client            int
	minAcked, minRead uint64
	invoked           uint64
	// minSeen is what the client of a local read had seen when it
	// invoked it; released is set once its ReadState arrived.
	minSeen  uint64
	released bool
}

// waitingRead is a read whose ReadState arrived.
type waitingRead struct {
	ctx   string
	index uint64
}

// readStats counts what the reads did.
type readStats struct {
	Issued, Refused, Served, Errored, LocalServed, Duplicates int
	// PeakPending and PeakLocal are the most reads the oracle saw
	// waiting on a leader and local reads waiting on a node; AtBound
	// counts the Readys after which either was at MaxPendingReads.
	PeakPending, PeakLocal, AtBound int
}

func (s *readStats) add(o readStats) {
	s.Issued += o.Issued
	s.Refused += o.Refused
	s.Served += o.Served
	s.Errored += o.Errored
	s.LocalServed += o.LocalServed
	s.Duplicates += o.Duplicates
	s.PeakPending = max(s.PeakPending, o.PeakPending)
	s.PeakLocal = max(s.PeakLocal, o.PeakLocal)
	s.AtBound += o.AtBound
}

// newRegister returns the model of a fresh cluster.
func newRegister(v readVariant) *register {
	return &register{writes: map[uint64]uint64{}, reads: map[string]*pendingRead{},
		waiting: map[uint64][]waitingRead{}, variant: v,
		onLeader: map[uint64]map[string]int{}, local: map[uint64]map[string]int{}, rn: map[uint64]*RawNode{}}
}

// options returns the schedule options that drive the reads.
func (g *register) options() scheduleOptions {
	return scheduleOptions{
		Configure: func(cfg *Config) {
			cfg.MaxPendingReads = g.maxPending
			if g.variant.lease {
				cfg.LeaseReads, cfg.DisableCheckQuorum = true, false
			}
		},
		Actions: func(c *scheduleCluster) map[string]func(*rapid.T) {
			g.c = c
			return map[string]func(*rapid.T){
				"read-index": g.readIndex,
				"read-local": g.readLocal,
			}
		},
		OnApply:       g.onApply,
		OnAcknowledge: g.onAcknowledge,
		OnReady:       g.onReady,
		OnDeliver:     g.onDeliver,
		MayTickAlone:  g.mayTickAlone,
	}
}

// value returns the value a proposal's data writes, if it is a write.
func writeValue(data []byte) (uint64, bool) {
	if len(data) < 2 || data[0] != 'p' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(data[1:]), 10, 64)
	return v, err == nil
}

// at returns the index and value of the newest write at or below index i.
func (g *register) at(i uint64) (index, value uint64) {
	for j := i; j > 0; j-- {
		if v, ok := g.writes[j]; ok {
			return j, v
		}
	}
	return 0, 0
}

func (g *register) onApply(nd *scheduleNode, e raftpb.Entry) {
	if v, ok := writeValue(e.Data); ok && e.Type == raftpb.EntryNormal {
		g.writes[e.Index] = v
	}
	g.serve(nd)
}

func (g *register) onAcknowledge(e raftpb.Entry) {
	g.newestAcked = max(g.newestAcked, e.Index)
}

// onReady takes the ReadStates of a Ready and serves what it can. A node
// that crashed in the middle of its Ready lost them.
func (g *register) onReady(nd *scheduleNode, rd *Ready) {
	for _, rs := range rd.ReadStates {
		ctx := string(rs.RequestCtx)
		r, ok := g.reads[ctx]
		if !ok || r.released {
			// The network duplicated the forwarded read or its answer:
			// the application serves a context once.
			g.stats.Duplicates++
			continue
		}
		r.released = true
		if rs.Err != nil {
			g.stats.Errored++
			delete(g.reads, ctx)
			continue
		}
		g.waiting[nd.id] = append(g.waiting[nd.id], waitingRead{ctx, rs.Index})
	}
	g.serve(nd)
	g.checkPending(nd, rd)
}

// incarnation returns the oracle's counts of nd's running incarnation,
// forgetting those of an earlier one.
func (g *register) incarnation(nd *scheduleNode) (onLeader, local map[string]int) {
	if g.rn[nd.id] != nd.rn || g.onLeader[nd.id] == nil {
		g.rn[nd.id] = nd.rn
		g.onLeader[nd.id], g.local[nd.id] = map[string]int{}, map[string]int{}
	}
	return g.onLeader[nd.id], g.local[nd.id]
}

// release takes one read of context ctx off counts, if it is there.
func release(counts map[string]int, ctx string) {
	if counts[ctx] > 1 {
		counts[ctx]--
	} else {
		delete(counts, ctx)
	}
}

// total returns the number of reads in counts.
func total(counts map[string]int) int {
	n := 0
	for _, k := range counts {
		n += k
	}
	return n
}

// checkPending releases the reads rd answers and checks what still waits
// on nd against MaxPendingReads (see the bounds claim).
func (g *register) checkPending(nd *scheduleNode, rd *Ready) {
	if nd.rn == nil {
		return // crashed in the middle of the Ready: its reads are gone
	}
	onLeader, local := g.incarnation(nd)
	for _, rs := range rd.ReadStates {
		ctx := string(rs.RequestCtx)
		if local[ctx] > 0 {
			release(local, ctx)
		} else {
			release(onLeader, ctx)
		}
	}
	for _, msgs := range [][]raftpb.Message{rd.Messages, rd.MessagesAfterPersist} {
		for _, m := range msgs {
			if m.Type == raftpb.MsgReadIndexResp && len(m.Entries) == 1 {
				release(onLeader, string(m.Entries[0].Data))
			}
		}
	}
	pending, waiting := total(onLeader), total(local)
	g.stats.PeakPending = max(g.stats.PeakPending, pending)
	g.stats.PeakLocal = max(g.stats.PeakLocal, waiting)
	bound := cmp.Or(g.maxPending, core.DefaultMaxPendingReads)
	if pending == bound || waiting == bound {
		g.stats.AtBound++
	}
	switch {
	case pending > bound:
		g.c.fail("oracle: node %d holds %d reads it accepted as leader and has not released (%v), bound MaxPendingReads %d",
			nd.id, pending, onLeader, bound)
	case waiting > bound:
		g.c.fail("oracle: node %d holds %d local reads it accepted and has not released (%v), bound MaxPendingReads %d",
			nd.id, waiting, local, bound)
	}
}

// onDeliver counts a forwarded read a leader accepted.
func (g *register) onDeliver(to *scheduleNode, m raftpb.Message, leader bool, err error) {
	if m.Type != raftpb.MsgReadIndex || !leader || err != nil || len(m.Entries) != 1 {
		return
	}
	onLeader, _ := g.incarnation(to)
	onLeader[string(m.Entries[0].Data)]++
}

// serve serves the reads waiting on nd whose index nd has applied.
func (g *register) serve(nd *scheduleNode) {
	if nd.rn == nil {
		// A crash loses the reads waiting on the node.
		g.waiting[nd.id] = nil
		return
	}
	applied := nd.sm.applied()
	kept := g.waiting[nd.id][:0]
	for _, w := range g.waiting[nd.id] {
		if w.index > applied {
			kept = append(kept, w)
			continue
		}
		g.check(nd, w.ctx, applied)
	}
	g.waiting[nd.id] = kept
}

// check checks the read ctx, served on nd at its applied index.
func (g *register) check(nd *scheduleNode, ctx string, applied uint64) {
	r := g.reads[ctx]
	delete(g.reads, ctx)
	index, value := g.at(applied)
	if r.local {
		g.stats.LocalServed++
		if index < r.minSeen {
			g.c.fail("local read %q of client %d on node %d at applied %d returned the write at %d (p%d), older than the write at %d it saw",
				ctx, r.client, nd.id, applied, index, value, r.minSeen)
		}
		g.seen[r.client] = max(g.seen[r.client], index)
		return
	}
	g.stats.Served++
	now := g.c.history.Events()
	switch {
	case index < r.minAcked:
		g.c.fail("read %q (invoked at event %d) on node %d returned the write at %d (p%d) at event %d: the write at %d was acknowledged before it was invoked",
			ctx, r.invoked, nd.id, index, value, now, r.minAcked)
	case index < r.minRead:
		g.c.fail("read %q (invoked at event %d) on node %d returned the write at %d (p%d) at event %d: a read returned the write at %d before it was invoked",
			ctx, r.invoked, nd.id, index, value, now, r.minRead)
	case value > uint64(g.c.stats.Proposals):
		g.c.fail("read %q on node %d returned p%d, never proposed", ctx, nd.id, value)
	}
	g.newestRead = max(g.newestRead, index)
}

// readNode draws the node to read on: in the follower variant a running
// non-leader, otherwise any running node.
func (g *register) readNode(t *rapid.T) *scheduleNode {
	var from []*scheduleNode
	for _, nd := range g.c.up() {
		if !g.variant.followers || nd.rn.BasicStatus().RaftState != StateLeader {
			from = append(from, nd)
		}
	}
	if len(from) == 0 {
		return nil
	}
	return from[rapid.IntRange(0, len(from)-1).Draw(t, "reader")]
}

func (g *register) readIndex(t *rapid.T) {
	nd := g.readNode(t)
	if nd == nil {
		return
	}
	g.next++
	ctx := fmt.Sprintf("r%d", g.next)
	g.stats.Issued++
	g.reads[ctx] = &pendingRead{minAcked: g.newestAcked, minRead: g.newestRead, invoked: g.c.history.Events()}
	leader := nd.rn.BasicStatus().RaftState == StateLeader
	err := nd.rn.ReadIndex([]byte(ctx))
	g.c.afterInput(nd, "ReadIndex")
	switch {
	case err == nil:
		if leader {
			onLeader, _ := g.incarnation(nd)
			onLeader[ctx]++
		}
		g.c.logf("read-index %d %q", nd.id, ctx)
	case errors.Is(err, ErrNoLeader), errors.Is(err, ErrTransferInProgress), errors.Is(err, ErrTooManyPendingReads):
		g.stats.Refused++
		delete(g.reads, ctx)
		g.c.logf("read-index %d %q refused: %v", nd.id, ctx, err)
	default:
		g.c.fail("node %d refused read %q without a documented error: %v", nd.id, ctx, err)
	}
}

func (g *register) readLocal(t *rapid.T) {
	nd := g.readNode(t)
	if nd == nil {
		return
	}
	client := rapid.IntRange(0, readClients-1).Draw(t, "client")
	g.next++
	ctx := fmt.Sprintf("l%d", g.next)
	g.reads[ctx] = &pendingRead{local: true, client: client, minSeen: g.seen[client]}
	err := nd.rn.ReadLocal([]byte(ctx), g.seen[client])
	g.c.afterInput(nd, "ReadLocal")
	switch {
	case err == nil:
		_, local := g.incarnation(nd)
		local[ctx]++
		g.c.logf("read-local %d %q client %d min %d", nd.id, ctx, client, g.seen[client])
	case errors.Is(err, ErrTooManyPendingReads):
		delete(g.reads, ctx)
	default:
		g.c.fail("node %d refused local read %q without a documented error: %v", nd.id, ctx, err)
	}
}

// mayTickAlone keeps the clocks of the running nodes within the drift
// allowance in the lease variant.
func (g *register) mayTickAlone(nd *scheduleNode) bool {
	if !g.variant.lease {
		return true
	}
	least := nd.ticks
	for _, o := range g.c.up() {
		least = min(least, o.ticks)
	}
	return nd.ticks+1-least <= core.DefaultLeaseClockDriftTicks // the lease variant runs with the default
}

func TestReadsAreLinearizableUnderRandomSchedules(t *testing.T) {
	for _, v := range []readVariant{{name: "safe"}, {name: "lease", lease: true}, {name: "follower", followers: true}} {
		t.Run(v.name, func(t *testing.T) {
			reads := readStats{}
			checkSchedules(t, func(t *rapid.T) *scheduleCluster {
				cfg := drawScheduleConfig(t)
				if v.lease {
					cfg.CheckQuorum = true
					cfg.ElectionTick = max(cfg.ElectionTick, 3) // the allowance must be below ElectionTick-1
				}
				g := newRegister(v)
				g.maxPending = rapid.SampledFrom([]int{0, readMaxPending}).Draw(t, "max-pending-reads")
				c := runScheduleWith(t, cfg, checkSafety, g.options())
				reads.add(g.stats)
				return c
			})
			t.Logf("reads: %+v", reads)
			if reads.Served == 0 || reads.LocalServed == 0 || reads.AtBound == 0 {
				t.Errorf("the schedules test too little: no linearizable or no local read served, or MaxPendingReads never reached")
			}
		})
	}
}
