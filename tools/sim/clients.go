package sim

import (
	"errors"
	"fmt"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

// opKind is what a client operation does.
type opKind uint8

const (
	opWrite opKind = iota
	opRead         // ReadIndex: linearizable
	opLocal        // ReadLocal: read-your-writes and monotonic
)

// clientOp is a client's operation in progress.
type clientOp struct {
	kind opKind
	// node is the node the client sent it to, in its incarnation.
	node        *node
	incarnation int
	key, value  string
	ctx         string
	// invoke is the logical time of the call; invokeTick its tick;
	// deadline the tick at which the client gives up.
	invoke, invokeTick, deadline uint64
	// minIndex is the index a local read asked for; hist is the write's
	// place in the history.
	minIndex uint64
	hist     int
}

// client issues one operation at a time.
type client struct {
	id, seq uint64
	op      *clientOp
	// seen is the newest log index the client has seen: of its
	// acknowledged writes, and of the states its reads were served at.
	seen uint64
	// probe is the client that writes in the calm phases, so that
	// liveness is measured whatever the workload does.
	probe bool
}

// clients runs the workload and records the client history: the
// linearizable operations for checker.CheckLinearizable, the local reads
// and the writes that took effect for checker.CheckLocalReads.
type clients struct {
	s    *Sim
	rng  rng
	list []*client
	// clock is the logical time of invocations and returns: every one
	// gets its own.
	clock     uint64
	ops       []checker.Op
	local     []checker.LocalRead
	effective []checker.WriteAt
	// tookEffectOnce holds the values in effective.
	tookEffectOnce map[string]bool
	// largest is the largest payload proposed.
	largest uint64
	// waitFrom is the tick since which writes have been waiting with
	// none acknowledged, or 0.
	waitFrom uint64
}

// timeoutElections is a client's patience, in election timeouts.
const timeoutElections = 4

func newClients(s *Sim, r rng) *clients {
	c := &clients{s: s, rng: r, tookEffectOnce: map[string]bool{}}
	for i := 1; i <= s.opts.Workload.Clients+1; i++ {
		c.list = append(c.list, &client{id: uint64(i), probe: i == s.opts.Workload.Clients+1})
	}
	return c
}

// tick gives up on operations past their deadline and starts new ones.
func (c *clients) tick() {
	s := c.s
	tick := s.Tick()
	if c.waitFrom != 0 {
		s.stats.LongestUnavailableTicks = max(s.stats.LongestUnavailableTicks, tick-c.waitFrom)
	}
	w := s.opts.Workload
	// Once the final calm phase has committed a write of its own, the
	// clients stop, so that every node can catch up with the leader.
	quiesce := s.phase.final && s.phase.cur != nil && s.phase.cur.Committed && !s.phase.nudge
	for _, cl := range c.list {
		if cl.op != nil && tick >= cl.op.deadline {
			c.abandon(cl, "timed out")
		}
		start := c.rng.chance(w.OpRate)
		kind := c.rng.Float64()
		if cl.op != nil || quiesce {
			continue
		}
		if s.quiet.lull(tick) && !cl.probe {
			start = false
		}
		switch {
		case cl.probe && s.phase.chaos:
		case cl.probe:
			s.phase.nudge = false
			c.startWrite(cl, "probe")
		case !start:
		case kind < float64(w.ReadShare):
			c.startRead(cl, opRead)
		case kind < float64(w.ReadShare+w.LocalReadShare):
			c.startRead(cl, opLocal)
		default:
			c.startWrite(cl, fmt.Sprintf("k%d", c.rng.pick(w.Keys)))
		}
	}
}

// target returns the node a client sends to: the leader it would be
// redirected to most of the time, else any running node.
func (c *clients) target() *node {
	up, lead := c.s.callable(), c.s.leader()
	pick, other := c.rng.Float64(), 0
	if len(up) > 0 {
		other = c.rng.pick(len(up))
	}
	switch {
	case lead != nil && pick < 0.6:
		return lead
	case len(up) > 0:
		return up[other]
	}
	return nil
}

// begin starts cl's operation op on n.
func (c *clients) begin(cl *client, op *clientOp, n *node) {
	c.clock++
	op.node, op.incarnation, op.invoke = n, n.incarnation, c.clock
	op.invokeTick = c.s.Tick()
	op.deadline = op.invokeTick + uint64(timeoutElections*c.s.opts.ElectionTick)
	cl.op = op
}

// startWrite proposes a write of a fresh value to key.
func (c *clients) startWrite(cl *client, key string) {
	s := c.s
	size := 0
	if c.rng.chance(s.opts.Workload.LargeWrites) {
		size = c.rng.between(256, 2048)
	}
	n := c.target()
	if n == nil {
		return
	}
	cl.seq++
	value := fmt.Sprintf("c%d.%d", cl.id, cl.seq)
	data := encodeWrite(key, value, size)
	op := &clientOp{kind: opWrite, key: key, value: value}
	c.begin(cl, op, n)
	c.largest = max(c.largest, uint64(len(data)))
	c.s.payOwed(n)
	_, _, err := n.rn.Propose(data)
	s.checkInvariants(n, "Propose")
	c.logInvoke(cl, n, fmt.Sprintf("put %s=%s (%d bytes)", key, value, len(data)), err)
	if err != nil {
		cl.op = nil
		if !errors.Is(err, raft.ErrProposalDropped) {
			s.failf(ClassRefusal, "node %d refused a proposal without ErrProposalDropped: %v", n.id, err)
		}
		return
	}
	s.stats.Writes++
	op.hist = len(c.ops)
	c.ops = append(c.ops, checker.Op{Client: cl.id, Kind: checker.OpWrite, Key: key, Value: value, Invoke: op.invoke, Return: checker.Pending})
	if c.waitFrom == 0 {
		c.waitFrom = s.Tick()
	}
}

// startRead asks for a read of a random key, linearizable or local.
func (c *clients) startRead(cl *client, kind opKind) {
	s := c.s
	key := fmt.Sprintf("k%d", c.rng.pick(s.opts.Workload.Keys))
	n := c.target()
	if n == nil {
		return
	}
	cl.seq++
	op := &clientOp{kind: kind, key: key, ctx: fmt.Sprintf("r%d.%d", cl.id, cl.seq), minIndex: cl.seen}
	c.begin(cl, op, n)
	s.payOwed(n)
	var err error
	if kind == opLocal {
		err = n.rn.ReadLocal([]byte(op.ctx), op.minIndex)
		s.checkInvariants(n, "ReadLocal")
		if err == nil {
			s.localReadQueued(n, []byte(op.ctx))
		}
		c.logInvoke(cl, n, fmt.Sprintf("read-local %s min %d (%s)", key, op.minIndex, op.ctx), err)
	} else {
		leads := n.rn.BasicStatus().RaftState == raft.StateLeader
		err = n.rn.ReadIndex([]byte(op.ctx))
		s.checkInvariants(n, "ReadIndex")
		switch {
		case err != nil:
		case leads:
			s.readQueued(n, []byte(op.ctx))
		default:
			s.readForwarded(n, []byte(op.ctx))
		}
		c.logInvoke(cl, n, fmt.Sprintf("read-index %s (%s)", key, op.ctx), err)
	}
	if err == nil {
		return
	}
	cl.op = nil
	s.stats.ReadsFailed++
	if !errors.Is(err, raft.ErrNoLeader) && !errors.Is(err, raft.ErrTransferInProgress) && !errors.Is(err, raft.ErrTooManyPendingReads) {
		s.failf(ClassRefusal, "node %d refused read %q without a documented error: %v", n.id, op.ctx, err)
	}
}

// logInvoke records a client's call in the event log.
func (c *clients) logInvoke(cl *client, n *node, what string, err error) {
	s := c.s
	s.log.add(s.now, evInvoke, n.id, cl.id, cl.seq, boolBit(err == nil))
	if s.log.tracing() {
		refused := ""
		if err != nil {
			refused = fmt.Sprintf(" refused: %v", err)
		}
		s.log.printf(s.now, "client %d on %d: %s%s", cl.id, n.id, what, refused)
	}
}

// boolBit is 1 for true.
func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// abandon gives up cl's operation: a write's outcome stays unknown (it is
// pending in the history for ever), a read is forgotten.
func (c *clients) abandon(cl *client, why string) {
	s := c.s
	if cl.op.kind == opWrite {
		s.stats.WritesPending++
	} else {
		s.stats.ReadsFailed++
	}
	s.log.add(s.now, evReturn, cl.op.node.id, cl.id, 0)
	if s.log.tracing() {
		s.log.printf(s.now, "client %d gives up on %s: %s", cl.id, describeOp(cl.op), why)
	}
	cl.op = nil
	c.rewait()
}

// rewait restarts the wait for an acknowledgement once an operation
// ended: from now if writes are still waiting, or not at all.
func (c *clients) rewait() {
	tick := c.s.Tick()
	if c.waitFrom != 0 {
		c.s.stats.LongestUnavailableTicks = max(c.s.stats.LongestUnavailableTicks, tick-c.waitFrom)
	}
	waiting := false
	for _, o := range c.list {
		waiting = waiting || (o.op != nil && o.op.kind == opWrite)
	}
	if !waiting {
		c.waitFrom = 0
	}
}

// describeOp names an operation in the trace.
func describeOp(op *clientOp) string {
	switch op.kind {
	case opWrite:
		return fmt.Sprintf("put %s=%s", op.key, op.value)
	case opLocal:
		return "read-local " + op.ctx
	}
	return "read-index " + op.ctx
}

// nodeDown abandons every operation waiting on n, which crashed.
func (c *clients) nodeDown(n *node) {
	for _, cl := range c.list {
		if cl.op != nil && cl.op.node == n {
			c.abandon(cl, fmt.Sprintf("node %d crashed", n.id))
		}
	}
}

// clientOf returns the client whose operation in progress is the read
// ctx on n, or nil (a late or duplicated answer).
func (c *clients) clientOf(n *node, ctx []byte) *client {
	for _, cl := range c.list {
		if op := cl.op; op != nil && op.kind != opWrite && op.node == n && op.incarnation == n.incarnation && op.ctx == string(ctx) {
			return cl
		}
	}
	return nil
}

// released takes a ReadState n handed out: the read waits until n's
// state machine has applied its index, or fails with its error.
func (c *clients) released(n *node, rs raft.ReadState) {
	cl := c.clientOf(n, rs.RequestCtx)
	if cl == nil {
		return
	}
	if rs.Err != nil {
		c.abandon(cl, rs.Err.Error())
		return
	}
	n.reads = append(n.reads, readWait{ctx: cl.op.ctx, index: rs.Index})
}

// serveAll serves the released reads whose index their node has applied.
func (c *clients) serveAll() {
	for _, n := range c.s.nodes {
		if n.paused() {
			continue
		}
		kept := n.reads[:0]
		for _, r := range n.reads {
			if r.index > n.kv.applied && c.s.mutation != mutateServeEarly {
				kept = append(kept, r)
				continue
			}
			if cl := c.clientOf(n, []byte(r.ctx)); cl != nil {
				c.serve(cl, n)
			}
		}
		n.reads = kept
	}
}

// serve answers cl's read from n's state machine.
func (c *clients) serve(cl *client, n *node) {
	s, op := c.s, cl.op
	value := n.kv.data[op.key]
	c.clock++
	if op.kind == opLocal {
		s.stats.LocalReads++
		c.local = append(c.local, checker.LocalRead{Client: cl.id, Key: op.key, Value: value, MinIndex: op.minIndex, Served: n.kv.applied})
	} else {
		s.stats.Reads++
		c.ops = append(c.ops, checker.Op{Client: cl.id, Kind: checker.OpRead, Key: op.key, Value: value, Invoke: op.invoke, Return: c.clock})
	}
	cl.seen = max(cl.seen, n.kv.applied)
	s.log.add(s.now, evReturn, n.id, cl.id, 1, n.kv.applied)
	if s.log.tracing() {
		s.log.printf(s.now, "client %d on %d: %s returned %s=%q at applied %d", cl.id, n.id, describeOp(op), op.key, value, n.kv.applied)
	}
	cl.op = nil
}

// tookEffect records a write that took effect at e's index (the first
// node to apply it names the index; State Machine Safety makes every
// node agree), and acknowledges it to its client if the client waits for
// it on n.
func (c *clients) tookEffect(n *node, e raftpb.Entry, w write) {
	if !c.tookEffectOnce[w.value] {
		c.tookEffectOnce[w.value] = true
		c.effective = append(c.effective, checker.WriteAt{Key: w.key, Value: w.value, Index: e.Index})
	}
	if w.client == 0 || w.client > uint64(len(c.list)) {
		return
	}
	cl := c.list[w.client-1]
	op := cl.op
	if op == nil || op.kind != opWrite || op.value != w.value || op.node != n || op.incarnation != n.incarnation {
		return
	}
	c.acknowledge(cl, n, e)
}

// acknowledge tells cl its write e committed.
func (c *clients) acknowledge(cl *client, n *node, e raftpb.Entry) {
	s, op := c.s, cl.op
	c.clock++
	c.ops[op.hist].Return = c.clock
	s.hist.Acknowledge(e)
	s.stats.WritesAcked++
	cl.seen = max(cl.seen, e.Index)
	s.phase.acknowledged(s, op.invokeTick)
	cl.op = nil
	c.rewait()
	if c.waitFrom != 0 {
		c.waitFrom = s.Tick() // an acknowledgement ends the wait
	}
	s.log.add(s.now, evReturn, n.id, cl.id, 2, e.Index)
	if s.log.tracing() {
		s.log.printf(s.now, "client %d on %d: put %s=%s committed at %d/%d", cl.id, n.id, op.key, op.value, e.Term, e.Index)
	}
}

// check runs the client-side checkers over the whole history.
func (c *clients) check() error {
	if err := checker.CheckLinearizable(c.ops); err != nil {
		return err
	}
	return checker.CheckLocalReads(c.effective, c.local)
}
