package kvnode

import (
	"fmt"
	"slices"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// group is one group's replica on a Host: its node, run by the reference
// loop (tools/raftloop) one Ready at a time, its disk in the host's log,
// and its own state machine. The host's loop goroutine owns it.
type group struct {
	id   uint64
	h    *Host
	loop *raftloop.Loop
	rn   *raft.RawNode
	disk groupDisk
	sm   *stateMachine
	// confState is the configuration the group applied.
	confState raftpb.ConfState
	// applied is the index the state machine has applied.
	applied uint64
	// ticked is the host tick up to which the node has been given its
	// ticks: a sleeping group is not ticked, and catches up at its next
	// input (TickN).
	ticked uint64
	// awake is set while the group is in the host's list of groups
	// ticked every tick; touched while it is in the round's list of
	// groups that took an input.
	awake, touched bool
	// snapIndex and snapData are a snapshot taken while applying, to be
	// recorded once the Ready is finished.
	snapIndex uint64
	snapData  []byte
	// dropAt, when not zero, is the index this replica applied (at least
	// 1) when the host found that its configuration no longer holds this
	// process: the host drops the replica between rounds.
	dropAt uint64
	// outSince is the host tick since which the replica's configuration
	// has not held this process (when it was created empty, restored a
	// snapshot or applied a conf change without it; 0 for one opened so),
	// and heardAt the host tick of the last message of a leader of the
	// group of a term at least the replica's. A replica whose
	// configuration does not hold this process is dropped once it has
	// heard from no leader for an election timeout since
	// (dropSilentRemoved).
	outSince, heardAt uint64
	// bootHS is the tombstone (term and vote) a replica created on demand
	// started from: while it is recovering, having moved to the next term
	// without a vote at boot (raft.Config.Recovering), a leader of the
	// tombstone's term still counts as heard (heardFromLeader).
	bootHS raftpb.HardState
}

// newGroup starts group id's node over d: the state machine restored
// from the snapshot d holds, the entries after it applied again as the
// node hands them out. A replica that lost the log it once held (the
// group's tombstone kept only its term and vote) boots recovering
// (raft.Config.Recovering): it grants no vote until an entry of a newer
// term is durable here, for its empty log would otherwise let a
// candidate lacking entries it acknowledged win with its vote. It stays
// so across restarts: the node records it in its hard state.
func (h *Host) newGroup(id uint64, d groupDisk, recovering bool) (*group, error) {
	g := &group{id: id, h: h, disk: d, sm: newStateMachine()}
	st := d.Storage()
	snap, err := st.Snapshot()
	if err != nil {
		return nil, err
	}
	if err := g.restoreState(snap); err != nil {
		return nil, err
	}
	if snap.IsEmpty() {
		_, cs, err := st.InitialState()
		if err != nil {
			return nil, err
		}
		g.confState = cloneConfState(cs)
	}
	c := &h.cfg
	l, err := raftloop.New(raftloop.Config{
		Raft: raft.Config{
			ID: c.ID, ElectionTick: c.ElectionTicks, HeartbeatTick: c.HeartbeatTicks,
			Storage: st, Applied: g.applied,
			// Every group of a process would otherwise draw the same
			// election timeouts.
			Seed:                      c.ID<<32 | id,
			LeaseReads:                c.LeaseReads,
			DisableProposalForwarding: true,
			Quiesce:                   !c.DisableQuiesce,
			Recovering:                recovering,
		},
		Disk: d, Network: groupSender{g}, StateMachine: groupState{g},
		OnRead: g.onRead,
	})
	if err != nil {
		return nil, err
	}
	g.loop, g.rn = l, l.RawNode()
	return g, nil
}

// restoreState replaces the state machine with a snapshot's (nothing for
// an empty one).
func (g *group) restoreState(snap raftpb.Snapshot) error {
	if snap.IsEmpty() {
		return nil
	}
	sm, err := decodeState(snap.Data)
	if err != nil {
		return fmt.Errorf("snapshot %d/%d: %w", snap.Metadata.Term, snap.Metadata.Index, err)
	}
	g.sm, g.applied = sm, snap.Metadata.Index
	g.confState = cloneConfState(snap.Metadata.ConfState)
	return nil
}

// groupSender is a group's raftloop.Network: the host's outbox, sent once
// per half round for every group.
type groupSender struct{ g *group }

// Send tags msgs with the group and queues them in the outbox; the
// Message values and their entries are copied (the node reuses the arrays
// behind both after Advance, and the outbox is sent after it).
func (s groupSender) Send(msgs []raftpb.Message) {
	h := s.g.h
	for _, m := range msgs {
		m.Entries = slices.Clone(m.Entries)
		h.outbox = append(h.outbox, groupMsg{Group: s.g.id, Message: m})
	}
}

// groupState is a group's raftloop.StateMachine: its keys, which answer
// the writes proposed here and snapshot at each multiple of
// SnapshotInterval.
type groupState struct{ g *group }

// Restore replaces the group's state with a snapshot received from its
// leader; the writes waiting at or below it have an unknown outcome.
func (s groupState) Restore(snap raftpb.Snapshot) error {
	g := s.g
	before := g.confState
	if err := g.restoreState(snap); err != nil {
		return err
	}
	g.noteOwnMembership(before, g.confState)
	g.snapIndex, g.snapData = 0, nil
	g.h.abandonWrites(g.id, snap.Metadata.Index)
	return nil
}

// Apply applies one committed entry of the group, and snapshots at each
// multiple of SnapshotInterval and at a conf change that adds a process
// while the group has no snapshot yet (addsMember: the new replica must
// be caught up from a snapshot).
func (s groupState) Apply(e raftpb.Entry, conf raftloop.ConfApplied) error {
	g := s.g
	added := false
	switch {
	case e.Type == raftpb.EntryNormal && len(e.Data) > 0:
		if err := g.sm.apply(e.Data); err != nil {
			g.h.log.Warn("skipped a malformed command", "group", g.id, "index", e.Index, "error", err)
		}
		g.h.counters.writesApplied.Add(1)
	case conf.Change != nil && conf.Err == nil:
		before := g.confState
		g.confState = cloneConfState(conf.State)
		g.noteOwnMembership(before, g.confState)
		added = addsMember(before, g.confState) && !g.hasSnapshot()
	}
	g.applied = e.Index
	g.h.answerWrite(g, e.Index, e.Term)
	if added || e.Index%g.h.cfg.SnapshotInterval == 0 {
		g.snapIndex, g.snapData = e.Index, g.sm.encode()
	}
	return nil
}

// keptSegments is how many segments the shared log may hold before the
// host snapshots the groups that keep the oldest one (releasePinned): the
// one written to and the one before it, so that a busy group snapshotting
// at SnapshotInterval is not also snapshotted whenever a segment fills.
const keptSegments = 2

// releasePinned snapshots, at the index they applied, the groups that keep
// the shared log's oldest segment on disk once the log holds more than
// keptSegments segments, so that their compaction releases it. Without it
// a group that wrote a few entries and went idle, never reaching
// SnapshotInterval, would keep every segment written after its entries,
// and the log would grow with the busiest group's writes (tools/wal,
// "Use for many groups"). A group that has not applied as far as the
// pin's index is left alone: a snapshot below it would free nothing (a
// follower catching up would otherwise encode its state at every tick);
// it is looked at again at the next tick. It runs between rounds, when
// every group's applies are finished.
func (h *Host) releasePinned() {
	for _, pin := range h.glog.pinning() {
		g := h.group(pin.Group)
		if g == nil || g.dropAt != 0 {
			h.log.Debug("a group the host does not hold pins the shared log", "group", pin.Group)
			continue
		}
		first, err := g.disk.Storage().FirstIndex()
		if err != nil || g.applied < first || g.applied < pin.Index {
			continue
		}
		g.snapIndex, g.snapData = g.applied, g.sm.encode()
		g.recordSnapshot()
	}
}

// recordSnapshot compacts the group's log below the snapshot taken while
// applying, once the node has been told of the apply.
func (g *group) recordSnapshot() {
	if g.snapIndex == 0 || g.dropAt != 0 {
		return
	}
	index, data := g.snapIndex, g.snapData
	g.snapIndex, g.snapData = 0, nil
	if err := g.disk.compact(index, g.confState, data); err != nil {
		g.h.log.Warn("snapshot not recorded", "group", g.id, "index", index, "error", err)
	}
}

// sortedIDs returns ids sorted, without repeats.
func sortedIDs(ids []uint64) []uint64 {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Compact(ids)
}
