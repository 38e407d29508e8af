package kvnode

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
	"github.com/tickraft/raft/tools/wal"
	"github.com/tickraft/raft/tools/wal/snapfile"
)

// walSegmentBytes is the size past which the log starts a new segment, so
// that snapshots let old segments go.
const walSegmentBytes = 8 << 20

// disk is a node's durable state: the write-ahead log and the snapshot
// store. In the asynchronous mode only the disk worker goroutine calls its
// methods (after recovery); in the synchronous mode only the event loop.
type disk struct {
	wal   *wal.WAL
	snaps *snapfile.Store
	log   *slog.Logger
	// hs is the last hard state saved: a new one that changes only the
	// commit index needs no fsync (a commit index is knowledge that the
	// leader gives again).
	hs raftpb.HardState
	// snapIndex is the index of the last snapshot marker saved.
	snapIndex uint64
	// writes counts the Readys' writes saved to the log (metrics.go
	// reads it).
	writes atomic.Uint64
}

// The kinds of work of the disk worker.
type jobKind int

const (
	// jobAppend persists a write the reference loop handed off: its
	// snapshot, entries and hard state.
	jobAppend jobKind = iota
	// jobChunk persists a received snapshot chunk the reference loop
	// handed off.
	jobChunk
	// jobSnapshotMarker writes into the log the marker of a snapshot this
	// node took, whose file the snapshot worker saved (snapshotter.go).
	jobSnapshotMarker
)

// diskJob is one item of work for the disk worker.
type diskJob struct {
	kind jobKind
	job  raftloop.Job    // jobAppend, jobChunk
	snap raftpb.Snapshot // jobSnapshotMarker: the metadata only
}

// diskResult is a finished job, handed back to the event loop, which
// updates the in-memory storage and reports the job completed to the
// reference loop.
type diskResult struct {
	job diskJob
	err error
}

// do runs one job. The entries and hard state of a jobAppend are written
// without an fsync: the caller syncs once for a whole batch of jobs (group
// commit) before it hands any result back. It reports whether the job
// needs that fsync.
func (d *disk) do(j diskJob) (diskResult, bool) {
	res := diskResult{job: j}
	sync := false
	switch j.kind {
	case jobAppend:
		w := &j.job
		sync = d.mustSync(w)
		res.err = d.persist(w.HardState, w.Entries, w.Snapshot, false)
	case jobChunk:
		c := j.job.Chunk
		res.err = d.snaps.SaveChunk(c.ID.Index, c.ID.Term, c.ID.Chunk, c.Data)
	case jobSnapshotMarker:
		if j.snap.Metadata.Index > d.snapIndex {
			res.err = d.markSnapshot(j.snap.Metadata)
		}
	}
	return res, sync
}

// mustSync reports whether a write needs an fsync: anything but a change
// of the commit index alone does.
func (d *disk) mustSync(w *raftloop.Job) bool {
	hs := w.HardState
	return len(w.Entries) > 0 || !w.Snapshot.IsEmpty() ||
		(!hs.IsEmpty() && (hs.Term != d.hs.Term || hs.Vote != d.hs.Vote))
}

// persist writes a snapshot the node installs (if any), then the hard state
// and entries, in that order, so that entries after the snapshot follow
// its marker in the log.
func (d *disk) persist(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot, sync bool) error {
	if !snap.IsEmpty() {
		if err := d.saveInstalled(snap); err != nil {
			return err
		}
	}
	if err := d.wal.Save(hs, ents, sync); err != nil {
		return err
	}
	d.writes.Add(1)
	if !hs.IsEmpty() {
		d.hs = hs
	}
	return nil
}

// saveInstalled persists a snapshot received from the leader, its data
// assembled by the reference loop when it came in chunks.
func (d *disk) saveInstalled(snap raftpb.Snapshot) error {
	meta := snap.Metadata
	if _, err := decodeState(snap.Data); err != nil {
		return fmt.Errorf("kvnode: installing snapshot %d/%d: %w", meta.Term, meta.Index, err)
	}
	d.log.Info("installing a snapshot", "index", meta.Index, "term", meta.Term, "bytes", len(snap.Data))
	return d.saveSnapshot(snap)
}

// saveOwnSnapshot persists a snapshot the node took of its state. One no
// newer than the last marker is skipped: a newer one was installed.
func (d *disk) saveOwnSnapshot(snap raftpb.Snapshot) error {
	if snap.Metadata.Index <= d.snapIndex {
		return nil
	}
	d.log.Debug("saving a snapshot", "index", snap.Metadata.Index, "bytes", len(snap.Data))
	return d.saveSnapshot(snap)
}

// saveSnapshot writes the snapshot's file, then its marker in the log
// (the marker must never name a file that is not there), then lets go of
// what is older than the previous snapshot: log segments, snapshot files,
// staged chunks. One older generation is kept so that a log that loses
// its last marker to a torn tail still finds the snapshot file and the
// entries the marker before it needs.
func (d *disk) saveSnapshot(snap raftpb.Snapshot) error {
	if err := d.snaps.Save(snap); err != nil {
		return err
	}
	return d.markSnapshot(snap.Metadata)
}

// markSnapshot writes the marker of a snapshot whose file is durable, and
// lets go of what is older than the previous snapshot (see saveSnapshot).
func (d *disk) markSnapshot(meta raftpb.SnapshotMetadata) error {
	if err := d.wal.SaveSnapshot(meta); err != nil {
		return err
	}
	prev := d.snapIndex
	d.snapIndex = meta.Index
	err := d.snaps.DropChunksBelow(meta.Index + 1)
	if prev == 0 {
		return err
	}
	return errors.Join(err, d.wal.ReleaseTo(prev), d.snaps.DeleteBefore(prev))
}

// runWorker is the disk worker of the asynchronous mode: it takes every
// job queued, runs them in order, fsyncs the log once for all of them, and
// only then hands their results back (group commit: one fsync covers the
// writes of several Readys). It returns after a failed job (the node must
// stop: the log's state on disk is unknown) or when stop is closed,
// abandoning the jobs still queued.
func (d *disk) runWorker(jobs *queue[diskJob], results *queue[diskResult], stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-stop:
			return
		case <-jobs.ready():
		}
		batch := jobs.take()
		if len(batch) == 0 {
			continue // a wake-up for jobs an earlier turn took
		}
		out := make([]diskResult, 0, len(batch))
		needSync := false
		for _, j := range batch {
			res, sync := d.do(j)
			out = append(out, res)
			needSync = needSync || sync
			if res.err != nil {
				break
			}
		}
		failed := out[len(out)-1].err != nil
		if needSync && !failed {
			if err := d.wal.Sync(); err != nil {
				out = append(out, diskResult{err: err})
				failed = true
			}
		}
		select {
		case <-stop:
			return
		default:
		}
		for _, res := range out {
			results.push(res)
		}
		if failed {
			return
		}
	}
}

// close fsyncs and closes the log.
func (d *disk) close() error {
	if err := d.wal.Close(); err != nil && !errors.Is(err, wal.ErrClosed) {
		return err
	}
	return nil
}

// abandon closes the log without an fsync, as a crash would. An error
// closing a file that is never used again changes nothing: it is logged.
func (d *disk) abandon() {
	if err := d.wal.Abandon(); err != nil && !errors.Is(err, wal.ErrClosed) {
		d.log.Warn("closing the abandoned log failed", "error", err)
	}
}
