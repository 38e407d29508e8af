package wal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"sync"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal/walfs"
)

// DefaultSegmentBytes is the segment size used when Options.SegmentBytes
// is zero.
const DefaultSegmentBytes = 64 << 20

// LockFile is the name of the file, in the log's directory, that an open
// WAL holds locked (flock) so that a second one cannot open the directory.
const LockFile = "LOCK"

// Options configures a WAL. The zero value is a working configuration.
type Options struct {
	// SegmentBytes is the size each segment is created with (reserved on
	// disk ahead of the writes); a Save that does not fit in what is left
	// starts a new segment, made large enough for it. Zero means
	// DefaultSegmentBytes.
	SegmentBytes int64
	// GroupID is the Raft group whose log this is. Every record carries
	// it, and Open refuses a log of another group. A shared log
	// (OpenShared) ignores it: its records carry the group each belongs
	// to.
	GroupID uint64
	// AcceptLoss opens a log that lost synced data where Open can step
	// over the loss (a segment cut short, a hard state committing past the
	// log) instead of failing: the loss is logged and returned in
	// Replay.Loss, and the node must boot in recovering mode
	// (raft.Config.Recovering). Only the operator of a node whose hard
	// state is known intact should set it.
	AcceptLoss bool
	// FS is the file system; nil means the operating system's
	// (walfs.OS). Tests put a model of a page cache here.
	FS walfs.FS
	// Logger receives the WAL's repairs (a torn tail made good, a
	// half-created segment removed) and segment changes. Nil discards
	// them.
	Logger *slog.Logger
	// ObserveSync, when not nil, is called after every sync of a segment
	// with how long it took (for a latency histogram). It runs with the
	// log locked and must not call the WAL.
	ObserveSync func(time.Duration)
}

// WAL is an open write-ahead log. Its methods are safe for concurrent use,
// though a node's writes must still come in the order its Ready (or its
// append worker's messages) gave them. After a write or sync fails the
// log's state on disk is unknown, and every later call returns that error:
// the node must stop and reopen the log.
type WAL struct {
	mu     sync.Mutex
	dir    string
	opts   Options
	fs     walfs.FS
	logger *slog.Logger
	lock   io.Closer

	segs []segment  // the segments on disk, oldest first
	f    walfs.File // the last segment, open for writing
	// size is where the last segment's records end (the next write goes
	// there), synced how far it is known synced, alloc the segment's size.
	size, synced, alloc int64

	// shared reports whether the log is shared by many groups
	// (OpenShared); groups holds what it remembers of each group: the one
	// of Options.GroupID in a log of one group.
	shared bool
	groups map[uint64]*groupState
	// tombs holds the tombstone of every group a shared log dropped
	// (SharedLog.Drop), kept for good, the re-created groups' too.
	tombs map[uint64]raftpb.HardState
	// work, workAt and writes are plan's scratch, reused: the states of
	// the groups a batch touches, where each group's is in work, and what
	// each update writes. one is Save's batch of one, and oneSnap its
	// snapshot, kept here so that the caller's does not escape.
	work    []groupState
	workAt  map[uint64]int
	writes  []groupWrite
	one     [1]Update
	oneSnap raftpb.SnapshotMetadata
	buf     []byte // encoding buffer, reused

	err error // the sticky failure, or ErrClosed
}

// Open opens the log in dir, creating dir and an empty log when there is
// none, locks the directory, and returns the log with what it held. A torn
// tail of the last segment is made good (and logged); lost synced data
// fails with a *CorruptionError matching raft.ErrLostLog, other damage
// with one matching ErrCorrupt, a segment of another format version or
// group with ErrVersion, a directory in use with ErrLocked.
func Open(dir string, opts Options) (*WAL, *Replay, error) {
	w, rs, err := openLog(dir, opts, false)
	if err != nil {
		return nil, nil, err
	}
	return w, rs.replay(opts.GroupID), nil
}

// openLog opens the log in dir, of one group or shared by many.
func openLog(dir string, opts Options, shared bool) (*WAL, *replaySet, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	w := &WAL{dir: dir, opts: opts, fs: opts.FS, logger: opts.Logger, shared: shared,
		groups: map[uint64]*groupState{}, tombs: map[uint64]raftpb.HardState{}, workAt: map[uint64]int{}}
	if !shared {
		w.groups[opts.GroupID] = &groupState{}
	}
	if w.fs == nil {
		w.fs = walfs.OS()
	}
	if w.logger == nil {
		w.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := w.fs.MkdirAll(dir); err != nil {
		return nil, nil, err
	}
	lock, err := w.fs.Lock(filepath.Join(dir, LockFile))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrLocked, filepath.Join(dir, LockFile), err)
	}
	w.lock = lock
	rs, err := w.open()
	if err != nil {
		return nil, nil, errors.Join(err, lock.Close())
	}
	return w, rs, nil
}

// open reads the log, or creates it, and readies it for writing.
func (w *WAL) open() (*replaySet, error) {
	segs, err := w.listSegments()
	if err != nil {
		return nil, err
	}
	m, ok, err := w.readManifest()
	if err != nil {
		return nil, err
	}
	if ok {
		if err := w.checkManifest(m, segs); err != nil {
			return nil, err
		}
	}
	if segs, err = w.dropUnfinishedRollover(segs); err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		if err := w.startFirstSegment(); err != nil {
			return nil, err
		}
		return w.newReplaySet(), nil
	}
	rs, last, err := w.readSegments(segs)
	if err != nil {
		return nil, err
	}
	if err := w.resume(segs, last); err != nil {
		return nil, err
	}
	if run := (manifest{first: segs[0].seq, last: segs[len(segs)-1].seq}); !ok || run != m {
		if err := w.writeManifest(run); err != nil {
			return nil, err
		}
	}
	w.tombs = maps.Clone(rs.tombs) // the replay handed out keeps its own
	for id, r := range rs.groups {
		g := &groupState{hs: r.HardState, snap: r.Snapshot}
		g.shape = logShape{snapIndex: r.Snapshot.Index, snapTerm: r.Snapshot.Term, last: r.Snapshot.Index}
		g.shape.append(r.Entries)
		w.groups[id] = g
	}
	if w.shared {
		if err := w.releaseReplayed(); err != nil {
			return nil, errors.Join(err, w.f.Close())
		}
	}
	return rs, nil
}

// releaseReplayed makes what Open read durable, and releases each group's
// entries up to its snapshot: its Replay starts after the snapshot, so
// none of them is needed again, and a group that stays idle after a
// restart does not pin the segments that hold them. The sync makes the
// markers read durable, so that no release rests on a marker a crash
// could still take back.
func (w *WAL) releaseReplayed() error {
	if err := w.sync(); err != nil {
		return err
	}
	for _, g := range w.groups {
		g.released = g.snap.Index
	}
	return nil
}

// resume opens the last segment for writing after its last good record:
// the bytes after it (a torn tail) are zeroed and the segment given back
// the size it was created with, durably, before anything new is written;
// a segment that ends cleanly is left as it is, without a sync.
func (w *WAL) resume(segs []segment, last segmentState) error {
	f, err := w.fs.OpenWrite(filepath.Join(w.dir, segs[len(segs)-1].name()))
	if err != nil {
		return err
	}
	w.segs, w.f = segs, f
	w.size, w.alloc, w.synced = last.res.end, max(last.head.size, last.size), last.res.end
	tail := last.res.dataEnd - last.res.end
	if tail <= 0 && last.size >= w.alloc {
		// A clean end: nothing to make good, and no sync. What was read
		// may still sit unsynced in the cache (a process that exited
		// without syncing), so new stamps claim only what the records
		// read claim was synced.
		w.synced = 0
		for _, rec := range last.res.records {
			w.synced = max(w.synced, rec.stamp.synced)
		}
		return nil
	}
	if tail > 0 {
		if _, err := f.WriteAt(make([]byte, tail), last.res.end); err != nil {
			return errors.Join(err, f.Close())
		}
	}
	if err := f.Allocate(w.alloc); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Sync(); err != nil {
		return errors.Join(err, f.Close())
	}
	return nil
}

// Save appends ents (replacing the log from ents[0].Index on) and, when it
// differs from the last one saved and is not empty, hs, in one write,
// entries first; with sync it then syncs, and only then are they durable.
// It refuses entries whose indexes are not consecutive, that start at or
// before the last snapshot, or that would leave a hole after the log's
// last index.
func (w *WAL) Save(hs raftpb.HardState, ents []raftpb.Entry, sync bool) error {
	return w.save(nil, hs, ents, sync)
}

// SaveSnapshot appends a snapshot marker for meta and syncs. Save the
// snapshot's data (package snapfile) before the marker: a restarted node
// must find the data the marker names. Entries after meta.Index survive
// the marker when the log holds meta.Index with meta.Term; otherwise the
// log is emptied, as installing a leader's snapshot empties it. A marker
// older than the last one is refused.
func (w *WAL) SaveSnapshot(meta raftpb.SnapshotMetadata) error {
	return w.save(&meta, raftpb.HardState{}, nil, true)
}

// save writes, in one write, a snapshot marker (when snap is not nil),
// the entries, then the hard state of the log's one group.
func (w *WAL) save(snap *raftpb.SnapshotMetadata, hs raftpb.HardState, ents []raftpb.Entry, sync bool) error {
	return w.saveOne(w.opts.GroupID, snap, hs, ents, sync)
}

// saveOne writes one group's update as a batch of one, without
// allocating: the update and its snapshot are kept in w while it is
// written.
func (w *WAL) saveOne(group uint64, snap *raftpb.SnapshotMetadata, hs raftpb.HardState, ents []raftpb.Entry, sync bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.one[0] = Update{Group: group, Entries: ents, HardState: hs}
	if snap != nil {
		w.oneSnap = *snap
		w.one[0].Snapshot = &w.oneSnap
	}
	err := w.saveBatch(w.one[:], sync)
	w.one[0] = Update{}
	return err
}

// saveBatch writes the updates of batch in one write, in order, after
// checking them all (a refused batch writes nothing), and with sync then
// syncs once. It rolls over first when the write does not fit in the
// segment. w.mu is held.
func (w *WAL) saveBatch(batch []Update, sync bool) error {
	if w.err != nil {
		return w.err
	}
	if err := w.plan(batch); err != nil {
		return err
	}
	buf, err := w.encodeBatch()
	if err != nil {
		return err
	}
	if w.size+int64(len(buf))+sealReserve > w.alloc {
		if err := w.rollover(int64(len(buf))); err != nil {
			return err
		}
		// The stamps name the new segment's synced length.
		if buf, err = w.encodeBatch(); err != nil {
			return err
		}
	}
	if err := w.write(buf, sync); err != nil {
		return err
	}
	w.commitPlan()
	return nil
}

// Sync syncs what was saved so far.
func (w *WAL) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return w.sync()
}

// Close syncs and closes the log and releases the directory's lock.
// Later calls return ErrClosed.
func (w *WAL) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if errors.Is(w.err, ErrClosed) {
		return ErrClosed
	}
	err := w.err
	if err == nil {
		err = w.f.Sync()
	}
	return errors.Join(err, w.closeFile())
}

// Abandon closes the log without syncing it, as a crashing process's exit
// does: what was written and not synced stays in the operating system's
// cache, exactly as durable as before. A program that kills and restarts
// nodes within one process calls it so as not to leak a file descriptor
// per kill. Later calls return ErrClosed.
func (w *WAL) Abandon() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if errors.Is(w.err, ErrClosed) {
		return ErrClosed
	}
	return w.closeFile()
}

// closeFile closes the last segment, releases the lock and marks the log
// closed.
func (w *WAL) closeFile() error {
	w.err = ErrClosed
	return errors.Join(w.f.Close(), w.lock.Close())
}

// write writes buf after the last segment's records, syncing when sync
// is set. A failure makes the log unusable: a partial write may sit at
// its end.
func (w *WAL) write(buf []byte, sync bool) error {
	for len(buf) > 0 {
		if err := w.boundUnsynced(int64(len(buf))); err != nil {
			return err
		}
		piece := buf[:min(int64(len(buf)), w.synced+unsyncedBytes-w.size)]
		n, err := w.f.WriteAt(piece, w.size)
		w.size += int64(n)
		if err != nil {
			return w.fail(err)
		}
		buf = buf[len(piece):]
	}
	if sync {
		return w.sync()
	}
	return nil
}

// boundUnsynced syncs first when writing n more bytes would leave more
// than unsyncedBytes of the segment past its last sync, so that a crash
// never leaves anything written further than that past it (Open reads no
// further). After the sync a write longer than the bound goes in pieces.
func (w *WAL) boundUnsynced(n int64) error {
	if w.size > w.synced && w.size+n > w.synced+unsyncedBytes {
		return w.sync()
	}
	return nil
}

// sync syncs the last segment, unless nothing was written to it since
// its last sync (a worker that syncs after every batch may find none).
func (w *WAL) sync() error {
	if w.synced == w.size {
		return nil
	}
	if err := w.syncFile(w.f); err != nil {
		return w.fail(err)
	}
	w.synced = w.size
	return nil
}

// syncFile syncs a segment, telling Options.ObserveSync how long it took.
func (w *WAL) syncFile(f walfs.File) error {
	if w.opts.ObserveSync == nil {
		return f.Sync()
	}
	start := time.Now()
	err := f.Sync()
	w.opts.ObserveSync(time.Since(start))
	return err
}

// fail records err as the log's sticky failure and returns it.
func (w *WAL) fail(err error) error {
	w.err = fmt.Errorf("wal: %s: %w", filepath.Join(w.dir, w.segs[len(w.segs)-1].name()), err)
	return w.err
}
