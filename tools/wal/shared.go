package wal

import (
	"errors"

	"github.com/tickraft/raft/raftpb"
)

// This file holds the log shared by many groups: its handle, its replay
// and the per-group view that has the shape of a WAL.

// SharedLog is a write-ahead log shared by many Raft groups of one
// process: every record names its group, a batch of several groups'
// updates is one write and one sync (Save), and each group recovers,
// compacts and releases on its own (see "Many groups" in the package
// doc). Its methods are safe for concurrent use; a group's writes must
// still come in the order its Readys gave them. After a write or sync
// fails every later call returns that error, as for a WAL.
type SharedLog struct {
	w *WAL
}

// SharedReplay is what OpenShared found on disk.
type SharedReplay struct {
	// Groups holds, for every group with a record in the log that is not
	// dropped (see Dropped), what a
	// restarting node of that group hands to its storage, as Replay does
	// for a log of one group. Each Replay's Loss holds the losses
	// Options.AcceptLoss stepped over in the group's records and those
	// that concern every group; its TruncatedBytes is the log's.
	Groups map[uint64]*Replay
	// TruncatedBytes is how many bytes of a torn tail Open zeroed in the
	// last segment.
	TruncatedBytes int64
	// Loss is nil unless Options.AcceptLoss let OpenShared step over lost
	// synced data: it then holds every *CorruptionError stepped over (each
	// naming its group, or every group). Boot each group whose Replay.Loss
	// is not nil with Config.Recovering.
	Loss error
	// every is the part of Loss that concerns every group.
	every error
	// tombs holds the tombstone of every group dropped (SharedLog.Drop),
	// re-created or not.
	tombs map[uint64]raftpb.HardState
}

// Group returns what the log held of group id: the group's Replay, or an
// empty one (with the log's TruncatedBytes and the losses that concern
// every group) when the log holds nothing of it; the empty Replay of a
// dropped group (Dropped) holds its tombstone's term and vote as its
// HardState, which a replica added back under the same ID starts from.
func (r *SharedReplay) Group(id uint64) *Replay {
	if rp := r.Groups[id]; rp != nil {
		return rp
	}
	return &Replay{HardState: r.tombs[id], TruncatedBytes: r.TruncatedBytes, Loss: r.every}
}

// OpenShared opens the shared log in dir, creating dir and an empty log
// when there is none, locks the directory, and returns the log with what
// it held for each group. Options.GroupID is not used. The errors are
// Open's: lost synced data fails with a *CorruptionError matching
// raft.ErrLostLog that names the file and the group (or every group), a
// directory holding a log of one group with ErrVersion.
func OpenShared(dir string, opts Options) (*SharedLog, *SharedReplay, error) {
	w, rs, err := openLog(dir, opts, true)
	if err != nil {
		return nil, nil, err
	}
	out := &SharedReplay{Groups: make(map[uint64]*Replay, len(rs.groups)), TruncatedBytes: rs.truncated, Loss: rs.loss, every: rs.loss, tombs: rs.tombs}
	for id, r := range rs.groups {
		out.Groups[id] = rs.replay(id)
		out.Loss = errors.Join(out.Loss, r.Loss)
	}
	return &SharedLog{w: w}, out, nil
}

// Save writes the updates of batch, several groups' (a group may have
// more than one, in order), in one write, each as WAL.Save and
// WAL.SaveSnapshot write theirs: a snapshot marker, then the entries, then
// the hard state. With sync it then syncs once, and only then are they
// durable. (A batch that encodes to more than 4 MiB is written in pieces
// with a sync between them, as a WAL's Save is: see Recovery in the
// package doc.) Every update is checked first: a batch with one the log
// refuses (see Update) writes nothing and returns an error naming its
// group.
func (l *SharedLog) Save(batch []Update, sync bool) error {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	return l.w.saveBatch(batch, sync)
}

// SaveSnapshot appends, for group, a snapshot marker for meta and syncs,
// as WAL.SaveSnapshot does for a log of one group.
func (l *SharedLog) SaveSnapshot(group uint64, meta raftpb.SnapshotMetadata) error {
	return l.w.saveOne(group, &meta, raftpb.HardState{}, nil, true)
}

// ReleaseTo records that group needs none of its entries up to index (a
// snapshot covers them; index may not pass the group's last snapshot
// marker) and deletes the oldest segments as long as no group needs a
// record in them: a segment goes once every group has released the
// entries it holds of that group. No segment is ever rewritten, so the
// other groups' records stay as they were. When it deletes, it syncs
// first what was saved without a sync, so that the markers it relies on
// are durable before the segments go. What a group released is not
// written down: OpenShared releases each group up to its snapshot marker,
// since its Replay starts after it (the segments that frees go at the
// next release of any group).
func (l *SharedLog) ReleaseTo(group, index uint64) error {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	return l.w.releaseTo(group, index)
}

// Sync syncs what was saved so far, for every group.
func (l *SharedLog) Sync() error { return l.w.Sync() }

// Close syncs and closes the log and releases the directory's lock.
// Later calls return ErrClosed.
func (l *SharedLog) Close() error { return l.w.Close() }

// Abandon closes the log without syncing it, as WAL.Abandon does.
func (l *SharedLog) Abandon() error { return l.w.Abandon() }

// Usage returns what the log holds on disk now, as WAL.Usage does.
func (l *SharedLog) Usage() Usage { return l.w.Usage() }

// Pin is a group that keeps the oldest segment of a shared log on disk
// (SharedLog.Pinning).
type Pin struct {
	// Group is the group's ID.
	Group uint64
	// Index is how far the group must release (ReleaseTo, after a
	// snapshot marker at Index or beyond) for the oldest segment to be
	// needed no more by it: its entries up to Index may lie there.
	Index uint64
}

// Pinning returns, sorted by group, the groups that keep the oldest
// segment on disk: those that still need an entry in it. Oldest segments
// that no group needs any more (they go at the next release of any group)
// are skipped: it names the groups of the oldest segment that some group
// needs. It returns nothing when no segment but the one written to is
// needed (that one is never deleted) or once the log is closed or failed. A process that runs many
// groups snapshots these groups and releases them when the log grows
// (see "Use for many groups" in the package doc): a group that wrote a
// few entries and went idle would otherwise keep every later segment on
// disk.
func (l *SharedLog) Pinning() []Pin {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	return l.w.pinning()
}

// Group returns group id's view of the log, with the methods of a WAL, so
// that a loop written for a WAL of its own runs on a shared log
// unchanged. Its Sync syncs the whole log: a loop that saves several
// groups without syncing and then syncs once (group commit) pays one
// sync for all of them.
func (l *SharedLog) Group(id uint64) *GroupLog { return &GroupLog{l: l, id: id} }

// GroupLog is one group's view of a SharedLog (SharedLog.Group).
type GroupLog struct {
	l  *SharedLog
	id uint64
}

// ID returns the group's ID.
func (g *GroupLog) ID() uint64 { return g.id }

// Save appends the group's entries and hard state as WAL.Save does.
func (g *GroupLog) Save(hs raftpb.HardState, ents []raftpb.Entry, sync bool) error {
	return g.l.w.saveOne(g.id, nil, hs, ents, sync)
}

// SaveSnapshot appends the group's snapshot marker and syncs, as
// WAL.SaveSnapshot does.
func (g *GroupLog) SaveSnapshot(meta raftpb.SnapshotMetadata) error {
	return g.l.SaveSnapshot(g.id, meta)
}

// ReleaseTo releases the group's entries up to index (SharedLog.ReleaseTo).
func (g *GroupLog) ReleaseTo(index uint64) error { return g.l.ReleaseTo(g.id, index) }

// Sync syncs the whole shared log.
func (g *GroupLog) Sync() error { return g.l.Sync() }
