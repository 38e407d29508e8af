package raft

// Whole-cluster property tests (ARCHITECTURE.md, "Testing"): random schedules of
// proposals, ticks, message deliveries, drops and duplicates, partitions,
// crashes (also in the middle of handling a Ready, with the write cut
// short) and restarts, and compactions, run on 3- and 5-node clusters by
// scheduleCluster. After every step the safety properties of
// tools/checker are checked (or, in the second test, every node's
// invariants); at the end the cluster must heal and converge.
//
// Every schedule is also judged by the bounds oracle of
// schedule_oracle_test.go, which reads only what the cluster carried and
// handed out, never Status: bytes and appends in flight to each
// follower, each leader's uncommitted tail, the bytes handed out to apply
// (MaxCommittedSizePerReady is drawn tiny in half the runs, so that
// batches are cut), and every MsgTimeoutNow against its target's storage.
//
// The default run (rapid's 100 checks per test, schedules of about 300
// steps) takes well under a second per test. A schedule is scheduleRounds
// rounds of rapid's Repeat, each -rapid.steps steps long on average
// (default 30), so that longer runs are a matter of flags:
//
//	go test -run 'TestClusterSafety|TestEveryNode' -rapid.checks=10000 -rapid.steps=100
//
// A failure prints the schedule rapid shrank it to, step by step, with the
// seed that replays it (-rapid.seed=...); -rapid.shrinktime=5m lets rapid
// shrink a long schedule further, -rapid.nofailfile keeps it from writing
// testdata/rapid.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/tickraft/raft/raftpb"
)

// scheduleRounds is the number of Repeat rounds of a schedule.
const scheduleRounds = 10

// livenessRounds bounds the liveness phase: rounds of one tick on every
// node followed by handling every Ready and delivering every message.
const livenessRounds = 300

// extraStepBits makes one step in 2^extraStepBits one of the extra kinds
// of scheduleOptions.Actions (conf changes, transfers, reads...).
const extraStepBits = 3

// settleLimit bounds the exchanges of one settle: a healed cluster answers
// everything in a handful.
const settleLimit = 100

// stepKind is one kind of schedule step.
type stepKind uint8

const (
	stepTick      stepKind = iota // tick a node
	stepTickAll                   // tick every running node
	stepReady                     // handle one Ready of a node
	stepPropose                   // propose on a node, leader or not
	stepDeliver                   // deliver a message in flight
	stepDrop                      // lose a message in flight
	stepDuplicate                 // deliver a message and keep a copy in flight
	stepPartition                 // cut the network in two
	stepHeal                      // remove the partition
	stepCrash                     // crash a node, maybe in the middle of a Ready
	stepRestart                   // restart a crashed node
	stepCompact                   // snapshot and compact a node's storage
)

// stepKinds names each kind and gives its weight, in 128ths of the steps,
// in a calm run (faults now and then, the cluster mostly makes progress)
// and in a stormy one (partitions, crashes and lost messages several
// times as often, terms come and go).
var stepKinds = [...]stepWeights{
	stepTick:      {"tick", 6, 10},
	stepTickAll:   {"tick-all", 2, 5},
	stepReady:     {"ready", 40, 34},
	stepPropose:   {"propose", 10, 8},
	stepDeliver:   {"deliver", 52, 44},
	stepDrop:      {"drop", 3, 6},
	stepDuplicate: {"duplicate", 3, 4},
	stepPartition: {"partition", 1, 3},
	stepHeal:      {"heal", 3, 3},
	stepCrash:     {"crash", 1, 3},
	stepRestart:   {"restart", 3, 4},
	stepCompact:   {"compact", 4, 4},
}

// stepWeights names a step kind and gives its weights.
type stepWeights struct {
	name         string
	calm, stormy int
}

// weight returns the kind's weight in a stormy or a calm run.
func (w stepWeights) weight(stormy bool) int {
	if stormy {
		return w.stormy
	}
	return w.calm
}

// scheduleStep is one drawn step. Node, Pick and Cut are reduced modulo
// what the cluster offers when the step runs: Node picks among the
// running (or, to restart, the crashed) nodes, Pick a message in flight,
// a partition or a compaction index, Cut how far a crash lets the node's
// Ready get; Send says whether a crashing node's Messages left.
type scheduleStep struct {
	Kind stepKind
	Node int
	Pick int
	Cut  int
	Send bool
}

// GoString shows the step in rapid's log of the draws.
func (s scheduleStep) GoString() string {
	return fmt.Sprintf("%s(node=%d pick=%d cut=%d send=%t)", stepKinds[s.Kind].name, s.Node, s.Pick, s.Cut, s.Send)
}

// stepGenerator returns a generator of schedule steps, of each kind in
// proportion to its weight in a calm or a stormy run. Its numbers are
// drawn bit by bit where the proportions matter: rapid's integer
// generators favour small values, which would skew the weights toward the
// first kinds; its bits are fair, and still shrink toward zero.
func stepGenerator(stormy bool) *rapid.Generator[scheduleStep] {
	return rapid.Custom(func(t *rapid.T) scheduleStep {
		r := drawBits(t, 7)
		kind := stepKind(0)
		for r >= stepKinds[kind].weight(stormy) {
			r -= stepKinds[kind].weight(stormy)
			kind++
		}
		return scheduleStep{
			Kind: kind,
			Node: drawBits(t, 3),
			Pick: rapid.IntRange(0, 1<<12-1).Draw(t, "pick"),
			Cut:  rapid.IntRange(0, 1<<6-1).Draw(t, "cut"),
			Send: rapid.Bool().Draw(t, "send"),
		}
	})
}

// drawBits draws a number of n fair bits.
func drawBits(t *rapid.T, n int) int {
	v := 0
	for range n {
		v <<= 1
		if rapid.Bool().Draw(t, "bit") {
			v |= 1
		}
	}
	return v
}

// drawScheduleConfig draws the cluster of a run.
func drawScheduleConfig(t *rapid.T) scheduleConfig {
	return scheduleConfig{
		Size:            rapid.SampledFrom([]int{3, 5}).Draw(t, "size"),
		PreVote:         rapid.Bool().Draw(t, "prevote"),
		CheckQuorum:     rapid.Bool().Draw(t, "checkquorum"),
		ElectionTick:    rapid.IntRange(2, 8).Draw(t, "election-tick"),
		MaxSizePerMsg:   rapid.SampledFrom([]uint64{0, 1, 16}).Draw(t, "max-size-per-msg"),
		MaxInflightMsgs: rapid.SampledFrom([]int{0, 1, 3}).Draw(t, "max-inflight-msgs"),
		// A few proposals' payload ("p<n>"), or the default.
		MaxCommittedSizePerReady: rapid.SampledFrom([]uint64{0, 8}).Draw(t, "max-committed-size-per-ready"),
		Seed:                     rapid.Uint64Range(0, 1<<20).Draw(t, "seed"),
		Stormy:                   rapid.Bool().Draw(t, "stormy"),
	}
}

// runSchedule draws and runs a whole schedule, checking after every step,
// then runs the liveness phase.
func runSchedule(t *rapid.T, checks scheduleChecks) *scheduleCluster {
	return runScheduleWith(t, drawScheduleConfig(t), checks, scheduleOptions{})
}

// runScheduleWith is runSchedule on the cluster cfg, extended by opts.
func runScheduleWith(t *rapid.T, cfg scheduleConfig, checks scheduleChecks, opts scheduleOptions) *scheduleCluster {
	c := newScheduleClusterWith(t, cfg, checks, opts)
	steps := stepGenerator(c.cfg.Stormy)
	extras, names := map[string]func(*rapid.T){}, []string(nil)
	if opts.Actions != nil {
		extras = opts.Actions(c)
		for name := range extras {
			names = append(names, name)
		}
		slices.Sort(names)
	}
	actions := map[string]func(*rapid.T){
		"step": func(t *rapid.T) {
			// One step in extraStepBits is one of opts' kinds, if any.
			if len(names) > 0 && drawBits(t, extraStepBits) == 0 {
				name := rapid.SampledFrom(names).Draw(t, "extra")
				c.running = name
				c.guard(func() { extras[name](t) })
				c.running = ""
				return
			}
			s := steps.Draw(t, "step")
			c.running = s.GoString()
			c.guard(func() { c.step(s) })
			c.running = ""
		},
		"": func(*rapid.T) { c.guard(c.check) },
	}
	for range scheduleRounds {
		t.Repeat(actions)
	}
	c.guard(c.checkLiveness)
	c.countTransfers()
	return c
}

// step runs one schedule step and records it in the trace.
//
// A step that finds nothing to do (no message in flight to deliver, drop
// or duplicate, no Ready to handle) ticks a node instead: when the
// cluster is quiet, time passing is what moves it.
func (c *scheduleCluster) step(s scheduleStep) {
	c.stats.Steps++
	idle := len(c.net) == 0 && (s.Kind == stepDeliver || s.Kind == stepDrop || s.Kind == stepDuplicate)
	if idle || (s.Kind == stepReady && len(c.ready()) == 0) {
		s.Kind = stepTick
	}
	name := stepKinds[s.Kind].name
	switch s.Kind {
	case stepTickAll:
		for _, nd := range c.up() {
			c.tick(nd)
		}
		c.logf("%s", name)
	case stepDeliver, stepDrop, stepDuplicate:
		c.stepNetwork(s)
	case stepPartition, stepHeal:
		c.stepPartition(s)
	case stepRestart:
		if down := c.down(); len(down) > 0 {
			nd := down[s.Node%len(down)]
			c.restart(nd)
			c.logf("%s %d", name, nd.id)
		}
	case stepReady:
		if ready := c.ready(); len(ready) > 0 {
			c.stepNode(s, ready[s.Node%len(ready)])
		}
	case stepCrash:
		// Half the crashes hit a node in the middle of a Ready, if any
		// node has one.
		if ready := c.ready(); len(ready) > 0 && s.Pick%2 == 0 {
			c.stepNode(s, ready[s.Node%len(ready)])
		} else if up := c.up(); len(up) > 0 {
			c.stepNode(s, up[s.Node%len(up)])
		}
	default:
		if up := c.up(); len(up) > 0 {
			c.stepNode(s, up[s.Node%len(up)])
		}
	}
}

// ready returns the running nodes that have a Ready, in ID order.
func (c *scheduleCluster) ready() []*scheduleNode {
	var out []*scheduleNode
	for _, nd := range c.up() {
		if nd.rn.HasReady() {
			out = append(out, nd)
		}
	}
	return out
}

// stepNode runs a step that acts on one running node.
func (c *scheduleCluster) stepNode(s scheduleStep, nd *scheduleNode) {
	name := stepKinds[s.Kind].name
	switch s.Kind {
	case stepTick:
		if c.opts.MayTickAlone != nil && !c.opts.MayTickAlone(nd) {
			for _, o := range c.up() {
				c.tick(o)
			}
			c.logf("tick-all (instead of tick %d)", nd.id)
			return
		}
		c.tick(nd)
		c.logf("%s %d", name, nd.id)
	case stepReady:
		c.logf("%s %d:%s", name, nd.id, c.handleReady(nd))
	case stepPropose:
		c.logf("%s %d: %s", name, nd.id, c.propose(nd))
	case stepCrash:
		c.logf("%s %d %s", name, nd.id, c.crash(nd, s.Cut, s.Send))
	case stepCompact:
		if i := c.compact(nd, s.Pick); i > 0 {
			c.logf("%s %d at %d", name, nd.id, i)
		}
	}
}

// stepNetwork delivers, drops or duplicates the message in flight that
// s picks.
func (c *scheduleCluster) stepNetwork(s scheduleStep) {
	if len(c.net) == 0 {
		return
	}
	k := s.Pick % len(c.net)
	name := stepKinds[s.Kind].name
	switch s.Kind {
	case stepDrop:
		m := c.net[k]
		c.net = append(c.net[:k], c.net[k+1:]...)
		c.lost(m)
		c.logf("%s %v", name, m)
	default:
		c.logf("%s %s", name, c.deliver(k, s.Kind == stepDuplicate))
	}
}

// stepPartition cuts the network into the two non-empty groups s picks,
// or heals it.
func (c *scheduleCluster) stepPartition(s scheduleStep) {
	if s.Kind == stepHeal {
		if c.groups != nil {
			c.groups = nil
			c.logf("heal")
		}
		return
	}
	n := len(c.nodes)
	mask := 1 + s.Pick%(1<<n-2) // neither empty nor everyone
	c.groups = make([]int, n)
	var a, b []uint64
	for i := range c.groups {
		c.groups[i] = mask >> i & 1
		if c.groups[i] == 1 {
			a = append(a, uint64(i+1))
		} else {
			b = append(b, uint64(i+1))
		}
	}
	c.logf("partition %v %v", a, b)
}

// propose proposes a fresh payload on nd. A leader's proposal is
// remembered, to acknowledge it once nd applies it; a refusal must say
// why with ErrProposalDropped.
func (c *scheduleCluster) propose(nd *scheduleNode) string {
	c.stats.Proposals++
	data := []byte(fmt.Sprintf("p%d", c.stats.Proposals))
	_, desc := c.proposeData(nd, data)
	return fmt.Sprintf("%q %s", data, desc)
}

// proposeOutcome is what became of a proposal.
type proposeOutcome int

const (
	proposeRefused proposeOutcome = iota
	proposeForwarded
	proposeAccepted
)

// proposeData proposes data on nd and returns what became of it, and how
// to say so. A leader's proposal is remembered, to acknowledge it once nd
// applies it; a refusal must say why with ErrProposalDropped.
func (c *scheduleCluster) proposeData(nd *scheduleNode, data []byte) (proposeOutcome, string) {
	index, term, err := nd.rn.Propose(data)
	c.afterInput(nd, "Propose")
	switch {
	case err != nil && !errors.Is(err, ErrProposalDropped):
		c.fail("node %d refused a proposal without ErrProposalDropped: %v", nd.id, err)
		return proposeRefused, fmt.Sprintf("refused: %v", err)
	case err != nil:
		return proposeRefused, fmt.Sprintf("refused: %v", err)
	case index == 0:
		return proposeForwarded, "forwarded"
	}
	nd.pending[index] = raftpb.Entry{Index: index, Term: term, Data: data}
	c.stats.Accepted++
	return proposeAccepted, fmt.Sprintf("at %d/%d", term, index)
}

// checkLiveness heals the network, restarts every crashed node and then
// ticks the cluster for at most livenessRounds rounds, handling every
// Ready and delivering every message after each tick. Within the bound a
// leader must emerge that every member follows, its commit index must
// reach a marker entry proposed once it did, and every member must apply
// up to that commit index the same entries (the same digest). The members
// are those of the latest configuration any node applied: at the start of
// every round, the others are shut down for good (an operator retires a
// removed server) and the members that were shut down are restarted.
// Without conf changes, every node is a member.
func (c *scheduleCluster) checkLiveness() {
	c.groups = nil
	for _, nd := range c.down() {
		c.restart(nd)
	}
	c.logf("liveness: heal, restart every node, then tick every node and settle, round after round")
	marker := uint64(0)
	for round := 1; round <= livenessRounds; round++ {
		c.retireNonMembers()
		for _, nd := range c.up() {
			c.tick(nd)
		}
		c.settle()
		c.check()
		lead := c.agreedLeader()
		switch {
		case lead == nil:
		case marker == 0:
			marker = c.proposeMarker(lead)
		case c.converged(lead, marker):
			return
		}
	}
	c.fail("liveness: no leader with every node up to date after %d rounds (marker %d):\n%s",
		livenessRounds, marker, c.describeNodes())
}

// settle handles every Ready and delivers every message in flight, in
// sending order, until nothing moves or settleLimit exchanges passed.
func (c *scheduleCluster) settle() {
	for range settleLimit {
		moved := false
		for _, nd := range c.up() {
			for nd.rn.HasReady() {
				c.handleReady(nd)
				moved = true
			}
			if c.opts.Async != nil && c.opts.Async.drain(nd) {
				moved = true
			}
		}
		for len(c.net) > 0 {
			c.deliver(0, false)
			moved = true
		}
		if !moved {
			return
		}
	}
}

// latestConf returns the configuration applied at the highest index by
// any node.
func (c *scheduleCluster) latestConf() raftpb.ConfState {
	best := confAt{cs: c.boot}
	for _, nd := range c.nodes {
		if last := nd.confs[len(nd.confs)-1]; last.index > best.index {
			best = last
		}
	}
	return best.cs
}

// members returns the nodes of the latest configuration, in ID order.
func (c *scheduleCluster) members() []*scheduleNode {
	latest := c.latestConf()
	var out []*scheduleNode
	for _, nd := range c.nodes {
		if isMember(latest, nd.id) {
			out = append(out, nd)
		}
	}
	return out
}

// needed returns, in ID order, the members and the nodes of the
// configurations in force on them: a node removed by a change that some
// member has not applied yet may still be needed by that member's quorum.
func (c *scheduleCluster) needed() []*scheduleNode {
	latest := c.latestConf()
	out := c.members()
	var more []*scheduleNode
	for _, nd := range c.nodes {
		if isMember(latest, nd.id) {
			continue
		}
		for _, m := range out {
			if isMember(m.conf(), nd.id) {
				more = append(more, nd)
				break
			}
		}
	}
	out = append(out, more...)
	slices.SortFunc(out, func(a, b *scheduleNode) int { return int(a.id) - int(b.id) })
	return out
}

// retireNonMembers shuts down the running nodes that no member needs and
// restarts those that were shut down and are needed again.
func (c *scheduleCluster) retireNonMembers() {
	members := c.needed()
	for _, nd := range c.nodes {
		member := slices.Contains(members, nd)
		switch {
		case member && nd.rn == nil:
			nd.retired = false
			c.restart(nd)
			c.logf("liveness: restart %d, a member again", nd.id)
		case !member && nd.rn != nil:
			c.crash(nd, 0, false)
			nd.retired = true
			c.logf("liveness: retire %d, not a member of %v", nd.id, c.latestConf())
		}
	}
}

// agreedLeader returns the leader every member follows in its term, or
// nil.
func (c *scheduleCluster) agreedLeader() *scheduleNode {
	members := c.members()
	if len(members) == 0 || slices.ContainsFunc(c.needed(), func(nd *scheduleNode) bool { return nd.rn == nil }) {
		return nil // a member retired earlier is restarted next round
	}
	st := members[0].rn.BasicStatus()
	if st.Lead == None {
		return nil
	}
	lead := c.nodes[st.Lead-1]
	if lead.rn == nil {
		return nil
	}
	want := lead.rn.BasicStatus()
	if want.RaftState != StateLeader {
		return nil
	}
	for _, nd := range members {
		if s := nd.rn.BasicStatus(); s.Lead != lead.id || s.Term != want.Term {
			return nil
		}
	}
	return lead
}

// proposeMarker proposes the liveness marker on the leader and returns its
// index, or 0 if the leader refused it (it is proposed again next round).
func (c *scheduleCluster) proposeMarker(lead *scheduleNode) uint64 {
	index, _, err := lead.rn.Propose([]byte("liveness marker"))
	c.afterInput(lead, "Propose")
	if err != nil {
		return 0
	}
	c.logf("liveness: marker proposed on %d at %d", lead.id, index)
	return index
}

// converged reports whether the leader committed the marker and every
// node applied up to the leader's commit index, all to the same digest.
func (c *scheduleCluster) converged(lead *scheduleNode, marker uint64) bool {
	commit := lead.rn.BasicStatus().Commit
	if commit < marker {
		return false
	}
	members := c.members()
	for _, nd := range members {
		if nd.sm.applied() != commit {
			return false
		}
	}
	want := lead.sm.at(commit)
	for _, nd := range members {
		if got := nd.sm.at(commit); got != want {
			c.fail("liveness: node %d applied up to %d to digest %x, leader %d to %x: they applied different entries\n%s",
				nd.id, commit, got, lead.id, want, c.describeNodes())
		}
	}
	return true
}

// describeNodes lists every node's status, its state machine and log.
func (c *scheduleCluster) describeNodes() string {
	var b strings.Builder
	for _, nd := range c.nodes {
		if nd.rn == nil {
			fmt.Fprintf(&b, "  node %d: down (retired=%t) conf=%v\n", nd.id, nd.retired, nd.conf())
			continue
		}
		st := nd.rn.BasicStatus()
		log := storedLog(nd.st)
		fmt.Fprintf(&b, "  node %d: %v lead=%d %v applied=%d (state machine %d) log=[%d, %d] conf=%v\n",
			nd.id, st.RaftState, st.Lead, st.HardState, st.Applied, nd.sm.applied(), firstOf(log), lastOf(log), nd.conf())
	}
	fmt.Fprintf(&b, "  in flight: %d messages", len(c.net))
	return b.String()
}

// firstOf and lastOf return the first and last index of a log, or 0.
func firstOf(log []raftpb.Entry) uint64 {
	if len(log) == 0 {
		return 0
	}
	return log[0].Index
}

func lastOf(log []raftpb.Entry) uint64 {
	if len(log) == 0 {
		return 0
	}
	return log[len(log)-1].Index
}

// requireCoverage logs what the runs of a test did and fails it if they
// never acknowledged a proposal or crashed a node in the middle of a
// Ready: then the schedules test too little.
func requireCoverage(t *testing.T, runs int, s scheduleStats) {
	t.Helper()
	t.Logf("%d runs: %+v", runs, s)
	if s.Acknowledged == 0 || s.CrashesInReady == 0 {
		t.Errorf("the schedules test too little: no acknowledged proposal or no crash in the middle of a Ready")
	}
}

// checkSchedules runs rapid schedules, each built, run and checked by
// run, requires the coverage requireCoverage asks for, and returns the
// schedules' summed statistics for the test's own coverage checks.
func checkSchedules(t *testing.T, run func(*rapid.T) *scheduleCluster) scheduleStats {
	t.Helper()
	runs, total, peaks := 0, scheduleStats{}, oraclePeaks{}
	rapid.Check(t, func(rt *rapid.T) {
		c := run(rt)
		total.add(c.stats)
		peaks.add(c.oracle.peak)
		runs++
	})
	t.Logf("oracle's peaks: %+v", peaks)
	requireCoverage(t, runs, total)
	return total
}

func TestClusterSafetyUnderRandomSchedules(t *testing.T) {
	checkSchedules(t, func(t *rapid.T) *scheduleCluster { return runSchedule(t, checkSafety) })
}

func TestEveryNodeKeepsItsInvariantsUnderRandomSchedules(t *testing.T) {
	checkSchedules(t, func(t *rapid.T) *scheduleCluster { return runSchedule(t, checkInvariants) })
}

func TestStepWeightsSumTo128(t *testing.T) {
	calm, stormy := 0, 0
	for _, k := range stepKinds {
		calm += k.calm
		stormy += k.stormy
	}
	if calm != 128 || stormy != 128 {
		t.Fatalf("weights sum to %d (calm) and %d (stormy), want 128: drawBits(7) picks among 128", calm, stormy)
	}
}
