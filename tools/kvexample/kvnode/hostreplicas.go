package kvnode

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/tickraft/raft/raftpb"
)

// This file holds the life of a group's replica on a Host: created when a
// group's leader first sends to this process, dropped when the process is
// removed from the group (see the package documentation, "Per-group
// membership").

// hostedSet is the set of groups a Host holds a replica of: the
// transport's Config.HostsGroup, read from the transport's goroutines and
// changed by the loop.
type hostedSet struct{ in []atomic.Bool }

func newHostedSet(groups int) *hostedSet { return &hostedSet{in: make([]atomic.Bool, groups)} }

// hosts reports whether the host holds a replica of group.
func (s *hostedSet) hosts(group uint64) bool {
	return group >= 1 && group <= uint64(len(s.in)) && s.in[group-1].Load()
}

func (s *hostedSet) set(group uint64, hosted bool) { s.in[group-1].Store(hosted) }

// count returns how many groups the host holds.
func (s *hostedSet) count() int {
	n := 0
	for i := range s.in {
		if s.in[i].Load() {
			n++
		}
	}
	return n
}

// sentOnlyByLeader reports whether only a group's leader sends messages
// of type t: the messages that may create a replica on demand.
func sentOnlyByLeader(t raftpb.MessageType) bool {
	return t == raftpb.MsgApp || t == raftpb.MsgSnap || t == raftpb.MsgHeartbeat
}

// isProcess reports whether id is a process of the cluster: this one or
// one of Peers.
func (h *Host) isProcess(id uint64) bool {
	if id == h.cfg.ID {
		return true
	}
	for _, p := range h.cfg.Peers {
		if p.ID == id {
			return true
		}
	}
	return false
}

// replicaOnDemand creates the replica of an unhosted group that gm, a
// message of the group's leader, is addressed to: the leader added this
// process to the group. The replica starts empty, with no configuration
// (so it cannot campaign, core's standingError) and the term and vote of
// the group's tombstone, if the process held the group before (so that
// it never votes twice in a term); the leader's snapshot gives it the
// group's state and configuration. It returns nil, creating nothing, for
// a group outside the layout, a message of another type, from a process
// that is not one of Peers, or of a term below the tombstone's (a stale
// leader's: the replica would refuse it).
func (h *Host) replicaOnDemand(gm *groupMsg) (*group, error) {
	m := &gm.Message
	if gm.Group == 0 || gm.Group > uint64(len(h.groups)) || !sentOnlyByLeader(m.Type) ||
		m.From == h.cfg.ID || !h.isProcess(m.From) {
		return nil, nil
	}
	tomb, _ := h.glog.tombstone(gm.Group)
	if m.Term < tomb.Term {
		return nil, nil
	}
	d, err := h.glog.create(gm.Group, raftpb.HardState{Term: tomb.Term, Vote: tomb.Vote})
	if err != nil {
		return nil, fmt.Errorf("creating the replica of group %d: %w", gm.Group, err)
	}
	_, held := h.glog.tombstone(gm.Group)
	g, err := h.newGroup(gm.Group, d, held)
	if err != nil {
		return nil, fmt.Errorf("creating the replica of group %d: %w", gm.Group, err)
	}
	g.ticked = h.now
	h.addGroup(g)
	h.log.Info("created a replica on demand", "group", g.id, "leader", m.From, "term", m.Term)
	return g, nil
}

// addGroup makes g one of the host's groups.
func (h *Host) addGroup(g *group) {
	h.groups[g.id-1] = g
	h.hosted.set(g.id, true)
}

// inConf reports whether id is in any set of cs.
func inConf(cs raftpb.ConfState, id uint64) bool {
	return slices.Contains(cs.Voters, id) || slices.Contains(cs.Learners, id) ||
		slices.Contains(cs.VotersOutgoing, id) || slices.Contains(cs.LearnersNext, id)
}

// noteMembership records, for a configuration change of g applied at
// index (an entry or a snapshot), the processes it removed (so that they
// can be told, fromRemoved) and those it added, whose earlier removal is
// forgotten.
func (g *group) noteMembership(index uint64, before, after raftpb.ConfState) {
	for _, set := range [][]uint64{before.Voters, before.Learners, before.VotersOutgoing, before.LearnersNext} {
		for _, id := range set {
			if id != g.h.cfg.ID && !inConf(after, id) {
				if g.removedAt == nil {
					g.removedAt = map[uint64]uint64{}
				}
				g.removedAt[id] = index
			}
		}
	}
	for _, set := range [][]uint64{after.Voters, after.Learners, after.VotersOutgoing, after.LearnersNext} {
		for _, id := range set {
			delete(g.removedAt, id)
		}
	}
}

// noteOwnRemoval records that the conf change g applied at index removed
// this process from the group, or forgets it when one adds it back. A
// snapshot never records it: its configuration may predate this
// process's addition.
func (g *group) noteOwnRemoval(index uint64, before, after raftpb.ConfState) {
	self := g.h.cfg.ID
	switch {
	case inConf(after, self):
		g.selfRemovedAt = 0
	case inConf(before, self):
		g.selfRemovedAt, g.removedTick = index, g.h.now
	}
}

// dropSilentRemoved marks for dropping (dropAt) the replicas that
// applied their own removal and have heard from no leader of the group
// for an election timeout since. Not dropping at the apply itself matters
// for a process added back: its new replica may catch up from a snapshot
// older than its old removal and apply that removal on its way to the
// entry that added it again; the leader, whose configuration holds it,
// keeps sending to it meanwhile, so it is not dropped, and applying the
// addition forgets the removal. A leader that applied the removal sends
// nothing more, so a removed replica falls silent and goes.
func (h *Host) dropSilentRemoved() {
	timeout := uint64(h.cfg.ElectionTicks)
	for _, g := range h.groups {
		if g != nil && g.selfRemovedAt != 0 && h.now >= max(g.heardAt, g.removedTick)+timeout {
			g.dropAt = g.selfRemovedAt
		}
	}
}

// fromRemoved reports whether gm comes from a process that g's applied
// configuration no longer holds and that g saw removed, and then queues
// the notice telling it the index of its removal.
func (h *Host) fromRemoved(g *group, gm *groupMsg) bool {
	from := gm.Message.From
	index, removed := g.removedAt[from]
	if !removed || inConf(g.confState, from) {
		return false
	}
	h.outbox = append(h.outbox, groupMsg{Group: g.id, Removed: index, Message: raftpb.Message{From: h.cfg.ID, To: from}})
	h.counters.removedNotices.Add(1)
	return true
}

// removedNotice handles a peer's word that this process's replica of a
// group was removed at an index: a replica whose log ends below it never
// received its removal (the process was down or cut off), and is
// dropped; one that holds the entry drops itself when it applies it.
// Dropping is safe: the removal is committed (the peer applied it), so
// the group's quorums no longer count this replica, everything it holds
// below the index is committed or was never going to be, and its term
// and vote are kept in the tombstone.
func (h *Host) removedNotice(gm *groupMsg) {
	g := h.group(gm.Group)
	if g == nil || gm.Message.To != h.cfg.ID || !h.isProcess(gm.Message.From) {
		return
	}
	last, err := g.disk.Storage().LastIndex()
	if err != nil || last >= gm.Removed {
		return
	}
	h.log.Info("told the replica was removed", "group", g.id, "by", gm.Message.From, "index", gm.Removed, "last", last)
	g.dropAt = gm.Removed
}

// dropRemoved drops the replicas marked for it (dropAt), between rounds.
func (h *Host) dropRemoved() error {
	for _, g := range h.groups {
		if g != nil && g.dropAt != 0 {
			if err := h.dropGroup(g); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropGroup drops g's replica: a tombstone keeps its term and vote, its
// log and snapshots go, it leaves the hosted set, and the requests
// waiting on it fail.
func (h *Host) dropGroup(g *group) error {
	bs := g.rn.BasicStatus()
	if err := g.disk.drop(raftpb.HardState{Term: bs.Term, Vote: bs.Vote}); err != nil {
		return fmt.Errorf("dropping the replica of group %d: %w", g.id, err)
	}
	h.hosted.set(g.id, false)
	h.groups[g.id-1] = nil
	h.awake = slices.DeleteFunc(h.awake, func(x *group) bool { return x == g })
	h.failGroupRequests(g.id)
	h.log.Info("dropped the replica: this process was removed from the group", "group", g.id, "removed_at", g.dropAt, "term", bs.Term)
	return nil
}

// failGroupRequests fails the requests waiting on group's replica here,
// which is gone.
func (h *Host) failGroupRequests(group uint64) {
	gone := func() *Error {
		return &Error{Code: CodeNotLeader, Message: fmt.Sprintf("this process no longer holds group %d", group)}
	}
	for k, w := range h.writes {
		if k.group == group {
			delete(h.writes, k)
			w.req.fail(&Error{Code: CodeTimeout, Message: fmt.Sprintf("this process no longer holds group %d; the outcome of the write is unknown", group)})
		}
	}
	for ctx, r := range h.reads {
		if r.group == group {
			delete(h.reads, ctx)
			r.req.fail(gone())
		}
	}
	h.transfers = slices.DeleteFunc(h.transfers, func(t *hostRequest) bool {
		if t.group == group {
			t.fail(gone())
			return true
		}
		return false
	})
}
