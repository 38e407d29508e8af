package kvnode

import (
	"errors"
	"fmt"
	"slices"
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
	"github.com/tickraft/raft/tools/tickclock"
)

// hostLoop is what a Host's event loop owns besides its groups.
type hostLoop struct {
	clock *tickclock.Clock
	// now counts the ticks elapsed since the host started.
	now uint64
	// awake are the groups ticked at every tick: those not known to
	// sleep (raft.BasicStatus.Quiesced).
	awake []*group
	// touched are the groups that took an input since the last round.
	touched []*group
	// outbox holds the messages of every group handed out in the current
	// half round, sent in one call.
	outbox []groupMsg
	// pending are the Readys of a round, between save and finish.
	pending []pendingReady

	writes map[writeKey]*pendingWrite
	reads  map[string]*hostRead
	// transfers are the leadership transfers waiting for their target to
	// lead.
	transfers []*hostRequest
	nextCtx   uint64
	// down are the processes the transport reported unreachable and
	// nothing was received from since.
	down map[uint64]bool
	// notices are the removed notices received since the last round,
	// handled after it (removedNotices).
	notices []groupMsg
}

// pendingReady is a group's Ready saved and sent, waiting for the
// round's fsync.
type pendingReady struct {
	g *group
	p *raftloop.Pending
}

func newHostLoop() hostLoop {
	return hostLoop{writes: map[writeKey]*pendingWrite{}, reads: map[string]*hostRead{}, down: map[uint64]bool{}}
}

// run is the host's event loop: one goroutine for every group. Each turn
// takes one kind of input (the ticks elapsed, received messages, client
// requests, unreachable peers), hands it to the groups it concerns, and
// then runs a round (round) over the groups that took an input.
func (h *Host) run() {
	defer close(h.loopDone)
	ticker := time.NewTicker(h.cfg.TickInterval)
	defer ticker.Stop()
	for _, g := range h.groups {
		if g != nil {
			h.wake(g)
		}
	}
	for {
		select {
		case <-h.stop:
			return
		case <-ticker.C:
			h.tick()
			h.releasePinned()
			h.dropSilentRemoved()
		case batch := <-h.net.receive():
			h.readClock()
			err := h.stepBatch(batch)
			if err == nil {
				err = h.drainInbound()
			}
			if err != nil {
				h.fail(err)
				return
			}
		case r := <-h.reqs:
			h.readClock()
			h.handle(r)
			h.drainRequests()
		case <-h.unreachable.ready():
			h.readClock()
			h.peersDown()
		}
		if err := h.afterInput(); err != nil {
			h.fail(err)
			return
		}
	}
}

// afterInput runs the round, then handles the removed notices received
// (removedNotices), drops the replicas that were removed,
// sends what is left in the outbox (removed notices) and answers the
// transfers that completed.
func (h *Host) afterInput() error {
	if err := h.round(); err != nil {
		return err
	}
	if len(h.notices) > 0 {
		if err := h.removedNotices(); err != nil {
			return err
		}
	}
	if err := h.dropRemoved(); err != nil {
		return err
	}
	h.flush()
	if len(h.transfers) > 0 {
		h.checkTransfers()
	}
	return nil
}

// tick reads the clock and gives the elapsed ticks to every awake group.
// A group that sleeps leaves the list and is not ticked at all until an
// input wakes it; then it gets every tick it missed (catchUp) before the
// input (raft doc.go, "Quiescence").
func (h *Host) tick() {
	h.counters.loopTicks.Add(1)
	now := h.readClock()
	h.awake = slices.DeleteFunc(h.awake, func(g *group) bool {
		if g.rn.BasicStatus().Quiesced {
			g.awake = false
			return true
		}
		return false
	})
	for _, g := range h.awake {
		h.catchUp(g)
		h.touch(g)
	}
	h.expire(now)
}

// readClock counts the whole ticks elapsed on the monotonic clock, which
// every group taking an input is given first (catchUp), and returns the
// reading.
func (h *Host) readClock() time.Time {
	now := time.Now()
	h.now += uint64(h.clock.Elapsed(now))
	return now
}

// catchUp gives g the ticks elapsed since it was last given any.
func (h *Host) catchUp(g *group) {
	if n := h.now - g.ticked; n > 0 {
		g.rn.TickN(int(n))
		g.ticked = h.now
		h.counters.ticksGiven.Add(1)
		h.counters.groupTicks.Add(n)
	}
}

// wake puts g in the list of groups ticked every tick.
func (h *Host) wake(g *group) {
	if !g.awake {
		g.awake = true
		h.awake = append(h.awake, g)
	}
}

// touch puts g in the round's list.
func (h *Host) touch(g *group) {
	if !g.touched {
		g.touched = true
		h.touched = append(h.touched, g)
	}
}

// input prepares g for an input: its missed ticks first, then it is
// awake and in the round.
func (h *Host) input(g *group) {
	h.catchUp(g)
	h.wake(g)
	h.touch(g)
}

// group returns group id, or nil if the host has no such group.
func (h *Host) group(id uint64) *group {
	if id == 0 || id > uint64(len(h.groups)) {
		return nil
	}
	return h.groups[id-1]
}

// stepBatch steps each received message into its group. A message for a
// group the host does not have (unless it creates its replica,
// replicaOnDemand), or that does not come from a peer to this process,
// is dropped and counted: it changes nothing. A message from a process
// the group removed is answered with a removed notice instead, and a
// notice is kept for after the round (removedNotices).
func (h *Host) stepBatch(batch []groupMsg) error {
	for i := range batch {
		gm := &batch[i]
		if gm.Removed != 0 {
			h.notices = append(h.notices, *gm)
			continue
		}
		if gm.Message.To != h.cfg.ID || gm.Message.From == h.cfg.ID || raftpb.IsLocalMsg(gm.Message.Type) {
			h.counters.wrongGroup.Add(1)
			continue
		}
		g := h.group(gm.Group)
		if g == nil {
			var err error
			if g, err = h.replicaOnDemand(gm); err != nil {
				return err
			}
		}
		if g == nil {
			h.counters.wrongGroup.Add(1)
			continue
		}
		delete(h.down, gm.Message.From)
		if h.fromRemoved(g, gm) {
			continue
		}
		g.heardFromLeader(&gm.Message)
		h.input(g)
		if err := g.loop.Step(gm.Message); err != nil {
			h.counters.refused.Add(1)
			h.log.Debug("refused a message", "group", g.id, "type", gm.Message.Type.String(), "from", gm.Message.From, "error", err)
		}
	}
	return nil
}

func (h *Host) drainInbound() error {
	for i := 0; i < maxBatch; i++ {
		select {
		case batch := <-h.net.receive():
			if err := h.stepBatch(batch); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

func (h *Host) drainRequests() {
	for i := 0; i < maxBatch; i++ {
		select {
		case r := <-h.reqs:
			h.handle(r)
		default:
			return
		}
	}
}

// peersDown tells the groups led by a process the transport could not
// reach (a connection lost, a dial refused) that their leader may be down
// (RawNode.ReportPeerDown): a sleeping follower never times out by
// itself, so this is how a group that slept when its leader's process
// died elects another. Of the processes left, one per group is told, a
// different one from group to group (successor), so that the survivors
// do not all campaign at once and split the vote, and the new leaders
// spread over them; the others take part when its vote requests wake
// them, or by their own timers. Inside an election timeout of the
// leader's last message the told node only wakes, and campaigns by its
// own timer if the leader stays silent.
func (h *Host) peersDown() {
	reported := h.unreachable.take()
	for _, id := range reported {
		h.down[id] = true
	}
	for _, g := range h.groups {
		if g == nil {
			continue
		}
		lead := g.rn.BasicStatus().Lead
		if lead == raft.None || lead == h.cfg.ID || !slices.Contains(reported, lead) || successor(g, h.down) != h.cfg.ID {
			continue
		}
		h.input(g)
		h.counters.peerDownReports.Add(1)
		if err := g.rn.ReportPeerDown(lead); err != nil && !errors.Is(err, raft.ErrLeasePromised) {
			h.log.Debug("peer-down report refused", "group", g.id, "leader", lead, "error", err)
		}
	}
}

// successor returns the voter of g that campaigns first when the
// processes down are unreachable: the others taken in turn by group.
func successor(g *group, down map[uint64]bool) uint64 {
	var alive []uint64
	for _, id := range g.confState.Voters {
		if !down[id] {
			alive = append(alive, id)
		}
	}
	if len(alive) == 0 {
		return raft.None
	}
	return alive[g.id%uint64(len(alive))]
}

// round hands out the Readys of the groups that took an input, in the
// order of the Ready contract (raft doc.go), for all of them at once:
// every group's Ready is saved to the log and its Messages queued; the
// Messages of all the groups are sent in one call (they may leave before
// the write is durable, thesis §10.2.1); one fsync makes every group's
// write durable; then each group sends its MessagesAfterPersist, applies
// and advances (raftloop.Loop.FinishReady), and those messages are sent
// in one call. It repeats while a group still has a Ready.
func (h *Host) round() error {
	defer h.untouch()
	for {
		mustSync := false
		for _, g := range h.touched {
			if !g.rn.HasReady() {
				continue
			}
			p, err := g.loop.BeginReady()
			if err != nil {
				return fmt.Errorf("group %d: %w", g.id, err)
			}
			h.pending = append(h.pending, pendingReady{g, p})
			mustSync = mustSync || p.MustSync()
		}
		if len(h.pending) == 0 {
			return nil
		}
		h.counters.rounds.Add(1)
		h.counters.readys.Add(uint64(len(h.pending)))
		h.flush()
		if err := h.glog.write(mustSync); err != nil {
			return fmt.Errorf("writing the log: %w", err)
		}
		for _, pr := range h.pending {
			if err := pr.g.loop.FinishReady(pr.p); err != nil {
				return fmt.Errorf("group %d: %w", pr.g.id, err)
			}
			pr.g.recordSnapshot()
		}
		clear(h.pending)
		h.pending = h.pending[:0]
		h.flush()
	}
}

// untouch empties the round's list.
func (h *Host) untouch() {
	for _, g := range h.touched {
		g.touched = false
	}
	clear(h.touched)
	h.touched = h.touched[:0]
}

// flush sends the outbox in one call to the network.
func (h *Host) flush() {
	if len(h.outbox) == 0 {
		return
	}
	h.net.send(h.outbox)
	// The network retains the messages: the next outbox is a new array.
	h.outbox = nil
}
