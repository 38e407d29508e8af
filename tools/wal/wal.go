package wal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/tickraft/raft/raftpb"
)

// DefaultSegmentBytes is the rollover size used when Options.SegmentBytes
// is zero.
const DefaultSegmentBytes = 64 << 20

// Options configures a WAL. The zero value is a working configuration.
type Options struct {
	// SegmentBytes is the size past which the WAL starts a new segment
	// after a write; a segment may exceed it by one Save's records. Zero
	// means DefaultSegmentBytes.
	SegmentBytes int64
	// Logger receives the WAL's repairs (a torn tail cut, a half-created
	// segment removed) and segment changes. Nil discards them.
	Logger *slog.Logger
	// ObserveSync, when not nil, is called after every fsync of a
	// segment with how long it took (for a latency histogram). It runs
	// with the log locked and must not call the WAL.
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
	logger *slog.Logger

	segs []segment // the segments on disk, oldest first
	f    *os.File  // the last segment, open for appending
	size int64     // the bytes in f

	hs    raftpb.HardState        // the last hard state written
	snap  raftpb.SnapshotMetadata // the last snapshot marker written
	shape logShape
	buf   []byte // encoding buffer, reused

	err error // the sticky failure, or ErrClosed
}

// Open opens the log in dir, creating dir and an empty log when there is
// none, and returns it with what it held. A torn tail of the last segment
// is cut off (and logged); any other damage fails with a *CorruptionError.
func Open(dir string, opts Options) (*WAL, *Replay, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	w := &WAL{dir: dir, opts: opts, logger: opts.Logger}
	if w.logger == nil {
		w.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	segs, err := listSegments(dir, w)
	if err != nil {
		return nil, nil, err
	}
	if len(segs) == 0 {
		if err := w.startSegment(segment{seq: 1, firstIndex: 1}); err != nil {
			return nil, nil, err
		}
		return w, &Replay{}, nil
	}
	m, ok, err := readManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	if ok {
		if err := checkManifest(dir, m, segs); err != nil {
			return nil, nil, err
		}
	}
	rp, end, err := w.readSegments(segs)
	if err != nil {
		return nil, nil, err
	}
	if run := (manifest{first: segs[0].seq, last: segs[len(segs)-1].seq}); !ok || run != m {
		if err := writeManifest(dir, run); err != nil {
			return nil, nil, err
		}
	}
	last := segs[len(segs)-1]
	f, err := os.OpenFile(filepath.Join(dir, last.name()), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, nil, err
	}
	w.segs, w.f, w.size = segs, f, end
	w.hs, w.snap = rp.HardState, rp.Snapshot
	w.shape = logShape{snapIndex: rp.Snapshot.Index, snapTerm: rp.Snapshot.Term, last: rp.Snapshot.Index}
	w.shape.append(rp.Entries)
	return w, rp, nil
}

// Save appends ents (replacing the log from ents[0].Index on) and, when it
// differs from the last one saved and is not empty, hs, in one write; with
// sync it then fsyncs, and only then are they durable. It refuses entries
// whose indexes are not consecutive, that start at or before the last
// snapshot, or that would leave a hole after the log's last index.
func (w *WAL) Save(hs raftpb.HardState, ents []raftpb.Entry, sync bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if err := w.shape.checkAppend(ents); err != nil {
		return err
	}
	buf := w.buf[:0]
	var err error
	if len(ents) > 0 {
		buf, err = appendRecord(buf, recEntries, func(b []byte) []byte { return appendEntries(b, ents) })
		if err != nil {
			return err
		}
	}
	if !hs.IsEmpty() && hs != w.hs {
		buf, _ = appendRecord(buf, recHardState, hs.AppendMarshal)
	}
	w.buf = buf
	if err := w.write(buf, sync); err != nil {
		return err
	}
	w.shape.append(ents)
	if !hs.IsEmpty() {
		w.hs = hs
	}
	return w.maybeRollover()
}

// SaveSnapshot appends a snapshot marker for meta and fsyncs. Save the
// snapshot's data (package snapfile) before the marker: a restarted node
// must find the data the marker names. Entries after meta.Index survive
// the marker when the log holds meta.Index with meta.Term; otherwise the
// log is emptied, as installing a leader's snapshot empties it. A marker
// older than the last one is refused.
func (w *WAL) SaveSnapshot(meta raftpb.SnapshotMetadata) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if meta.Index < w.snap.Index {
		return fmt.Errorf("wal: snapshot at %d is older than the snapshot at %d", meta.Index, w.snap.Index)
	}
	keep := w.shape
	keep.runs = slices.Clone(keep.runs)
	keepLog := keep.snapshot(meta.Index, meta.Term)
	buf, err := appendRecord(w.buf[:0], recSnapshot, func(b []byte) []byte {
		return appendSnapshotMarker(b, &meta, keepLog)
	})
	if err != nil {
		return err
	}
	w.buf = buf
	if err := w.write(buf, true); err != nil {
		return err
	}
	w.shape, w.snap = keep, meta
	return w.maybeRollover()
}

// Sync fsyncs what was saved so far.
func (w *WAL) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return w.sync()
}

// Close fsyncs and closes the log. Later calls return ErrClosed.
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

// closeFile closes the last segment and marks the log closed.
func (w *WAL) closeFile() error {
	w.err = ErrClosed
	return w.f.Close()
}

// write appends buf to the last segment, fsyncing when sync is set. A
// failure makes the log unusable: a partial write may sit at its end.
func (w *WAL) write(buf []byte, sync bool) error {
	if len(buf) > 0 {
		n, err := w.f.Write(buf)
		w.size += int64(n)
		if err != nil {
			return w.fail(err)
		}
	}
	if sync {
		return w.sync()
	}
	return nil
}

// sync fsyncs the last segment.
func (w *WAL) sync() error {
	start := time.Now()
	err := w.f.Sync()
	if w.opts.ObserveSync != nil {
		w.opts.ObserveSync(time.Since(start))
	}
	if err != nil {
		return w.fail(err)
	}
	return nil
}

// fail records err as the log's sticky failure and returns it.
func (w *WAL) fail(err error) error {
	w.err = fmt.Errorf("wal: %s: %w", filepath.Join(w.dir, w.segs[len(w.segs)-1].name()), err)
	return w.err
}
