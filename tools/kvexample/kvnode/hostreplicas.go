package kvnode

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	raft "github.com/tickraft/raft"
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
// leader's: the replica would refuse it), which is answered with the
// tombstone's term.
func (h *Host) replicaOnDemand(gm *groupMsg) (*group, error) {
	m := &gm.Message
	if gm.Group == 0 || gm.Group > uint64(len(h.groups)) || !sentOnlyByLeader(m.Type) ||
		m.From == h.cfg.ID || !h.isProcess(m.From) {
		return nil, nil
	}
	tomb, held := h.glog.tombstone(gm.Group)
	if m.Term < tomb.Term {
		// §5.1: a stale leader learns the newer term and steps down, as
		// the replica would have answered it; otherwise a tombstone one
		// term ahead of the group's leader would leave it sending here
		// forever.
		h.outbox = append(h.outbox, groupMsg{Group: gm.Group,
			Message: raftpb.Message{Type: raftpb.MsgAppResp, From: h.cfg.ID, To: m.From, Term: tomb.Term, Reject: true}})
		return nil, nil
	}
	d, err := h.glog.create(gm.Group, raftpb.HardState{Term: tomb.Term, Vote: tomb.Vote})
	if err != nil {
		return nil, fmt.Errorf("creating the replica of group %d: %w", gm.Group, err)
	}
	g, err := h.newGroup(gm.Group, d, held)
	if err != nil {
		return nil, fmt.Errorf("creating the replica of group %d: %w", gm.Group, err)
	}
	g.ticked, g.outSince = h.now, h.now
	if held {
		g.bootHS = raftpb.HardState{Term: tomb.Term, Vote: tomb.Vote}
	}
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

// addsMember reports whether after holds a process that before does not.
//
// A process added to a group starts an empty replica with no
// configuration (replicaOnDemand): the group's first configuration is the
// state its first voters bootstrapped with, in no entry. The library
// catches such a replica up only from a snapshot (it refuses entries
// until one gave it a configuration, and the leader answers with its
// storage's snapshot), so the group must hold one: a member that applies
// a conf change adding a process while its group has none yet takes one
// (groupState.Apply), so that whichever member leads has one to send.
// Any snapshot does: it holds the first voters and what changed since.
func addsMember(before, after raftpb.ConfState) bool {
	for _, set := range [][]uint64{after.Voters, after.Learners, after.VotersOutgoing, after.LearnersNext} {
		for _, id := range set {
			if !inConf(before, id) {
				return true
			}
		}
	}
	return false
}

// hasSnapshot reports whether the group's storage holds a snapshot.
func (g *group) hasSnapshot() bool {
	snap, err := g.disk.Storage().Snapshot()
	return err == nil && snap.Metadata.Index > 0
}

// noteOwnMembership starts the silence wait (outSince) of a replica whose
// applied configuration (a conf change or a snapshot) no longer holds
// this process.
func (g *group) noteOwnMembership(before, after raftpb.ConfState) {
	self := g.h.cfg.ID
	if inConf(before, self) && !inConf(after, self) {
		g.outSince = g.h.now
	}
}

// dropSilentRemoved marks for dropping (dropAt) the replicas whose
// applied configuration does not hold this process and that have heard
// from no leader of the group for an election timeout since (outSince,
// heardAt): one that applied its own removal, one opened or restored from
// a snapshot whose configuration excludes it (a crash after it applied
// its removal, once a snapshot covers the removal), and an empty replica
// created on demand that no snapshot followed (a learner removed before
// it caught up). Not dropping at once matters for a process being added:
// its empty replica waits for the leader's snapshot, and a process added
// back may catch up from a snapshot older than its old removal and apply
// that removal on its way to the entry that added it again; the leader,
// whose configuration holds it, keeps sending to it meanwhile (a leader
// waiting on a snapshot does not sleep), so it is not dropped, and
// applying the addition ends the wait. A leader that applied the removal
// sends nothing more, so a removed replica falls silent and goes.
func (h *Host) dropSilentRemoved() {
	for _, g := range h.groups {
		if g != nil && g.dropAt == 0 && !inConf(g.confState, h.cfg.ID) && h.now >= max(g.heardAt, g.outSince)+g.silenceTicks() {
			g.dropAt = max(g.applied, 1)
		}
	}
}

// silenceTicks is how long g waits for a leader before it is dropped: an
// election timeout, or three for a replica recovering (re-created over a
// tombstone): it moved one term past the tombstone at boot, and its
// answer of that newer term makes the leader that created it step down;
// the group's next leader sends to it once elected, and the tombstone a
// drop during that election would record, a term ahead, would make the
// next leader step down in turn.
func (g *group) silenceTicks() uint64 {
	timeout := uint64(g.h.cfg.ElectionTicks)
	if g.rn.BasicStatus().Recovering {
		return 3 * timeout
	}
	return timeout
}

// heardFromLeader records, for a message of g's leader, that a leader of
// a term at least the replica's own spoke (heardAt): a stale leader's
// message does not keep a removed replica alive. A replica created over
// a tombstone that is still recovering counts from the tombstone's term:
// it moved one term past it at boot without a vote, and the leader that
// created it leads that term until the replica's answer ends it.
func (g *group) heardFromLeader(m *raftpb.Message) {
	if !sentOnlyByLeader(m.Type) {
		return
	}
	bs := g.rn.BasicStatus()
	floor := bs.Term
	if bs.Recovering && g.bootHS.Term != 0 {
		floor = min(floor, g.bootHS.Term)
	}
	if m.Term >= floor {
		g.heardAt = g.h.now
	}
}

// fromRemoved reports whether gm comes from a process that g's applied
// configuration does not hold, and then queues the notice naming g's last
// applied entry: committed, and at or after that process's removal if it
// was removed (the configuration that dropped it is applied), so the
// notice holds without a record of removals, across restarts. A leader's
// message at g's term or above is not one: the leader of a term was
// elected under a configuration that holds it, one that g has not applied
// yet (it was added, or added back, at an entry g has not applied), and g
// catches up from it. A member this replica does not know of yet holds
// the named entry or a snapshot past it (it holds the entry that added
// it, after the named one), so the notice does not drop it. A replica
// added back after a removal it missed while down, whose log ends below
// the named entry, is dropped though it is a member again: it is created
// again by its leader's next message and caught up from a snapshot,
// booting recovering (liveness only, nothing it acknowledged is lost).
func (h *Host) fromRemoved(g *group, gm *groupMsg) bool {
	m := &gm.Message
	if g.applied == 0 || inConf(g.confState, m.From) || fromCurrentLeader(g, m) {
		return false
	}
	term, err := g.disk.Storage().Term(g.applied)
	if err != nil {
		return false
	}
	h.outbox = append(h.outbox, groupMsg{Group: g.id, Removed: g.applied, RemovedTerm: term,
		Message: raftpb.Message{From: h.cfg.ID, To: m.From}})
	h.counters.removedNotices.Add(1)
	return true
}

// fromCurrentLeader reports whether m is a leader's message (an append,
// a heartbeat, a snapshot) of g's term or above.
func fromCurrentLeader(g *group, m *raftpb.Message) bool {
	switch m.Type {
	case raftpb.MsgApp, raftpb.MsgHeartbeat, raftpb.MsgSnap:
		return m.Term >= g.rn.BasicStatus().Term
	}
	return false
}

// removedNotices handles the removed notices received since the last
// round (removedNotice), once that round made every group's log whole in
// its storage, then runs a round for the groups they moved.
func (h *Host) removedNotices() error {
	for i := range h.notices {
		h.removedNotice(&h.notices[i])
	}
	clear(h.notices)
	h.notices = h.notices[:0]
	return h.round()
}

// removedNotice handles a peer's word that this process's replica of a
// group is not in the configuration the peer applied, and that the entry
// (Removed, RemovedTerm), at or after the replica's removal, is
// committed. Only a member of the replica's own applied configuration is
// heard: any other process could name an entry that drops a live voter's
// replica. A replica whose log lacks that entry (it ends below it, or
// holds another term there) is dropped: it never received its removal
// (the process was down or cut off), or its log diverged before it (a
// leader cut off with entries the group replaced). One that holds the
// entry learns that it is committed (learnCommitFromRejection in the
// core, through a rejected pre-vote answer naming it), applies its
// removal, falls silent (dropSilentRemoved) and is dropped. One whose
// snapshot covers the entry already knows it committed. Dropping is safe
// (see the package documentation, "Per-group membership"): the removal is
// committed, so the group's quorums no longer count this replica; the
// entries it holds past a divergence were never going to be committed;
// its term and vote are kept in the tombstone, and a replica created
// again boots recovering.
func (h *Host) removedNotice(gm *groupMsg) {
	g := h.group(gm.Group)
	from := gm.Message.From
	if g == nil || g.dropAt != 0 || gm.Message.To != h.cfg.ID || from == h.cfg.ID || !inConf(g.confState, from) {
		h.counters.wrongGroup.Add(1) // kvexample_host_messages_dropped_total
		h.log.Debug("ignored a removed notice", "group", gm.Group, "from", from, "index", gm.Removed)
		return
	}
	term, err := g.disk.Storage().Term(gm.Removed)
	switch {
	case errors.Is(err, raft.ErrUnavailable) || err == nil && term != gm.RemovedTerm:
		h.log.Info("told the replica was removed; its log lacks the entry", "group", g.id, "by", from,
			"index", gm.Removed, "term", gm.RemovedTerm, "held_term", term)
		g.dropAt = max(g.applied, 1)
	case err == nil:
		h.input(g)
		m := raftpb.Message{Type: raftpb.MsgPreVoteResp, From: from, To: h.cfg.ID, Term: gm.RemovedTerm,
			Reject: true, Index: gm.Removed, LogTerm: gm.RemovedTerm}
		if err := g.loop.Step(m); err != nil {
			h.log.Debug("removed notice refused", "group", g.id, "by", from, "error", err)
		}
	}
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
	h.log.Info("dropped the replica: this process was removed from the group", "group", g.id, "applied", g.dropAt, "term", bs.Term)
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
