package wal

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tickraft/raft/raftpb"
)

// Replay is what Open found on disk: the state a restarting node hands to
// its storage (apply Snapshot's metadata with the snapshot file's data,
// then HardState, then Entries).
type Replay struct {
	// Snapshot is the last snapshot marker saved, or the zero value when
	// none was. The snapshot's data is not in the log (see package
	// snapfile).
	Snapshot raftpb.SnapshotMetadata
	// HardState is the last hard state saved, or the zero value.
	HardState raftpb.HardState
	// Entries are the log's entries after Snapshot.Index, with consecutive
	// indexes, as the records left them: a record of entries starting at
	// index i replaced everything from i on. Their Data alias buffers
	// owned by the caller from now on.
	Entries []raftpb.Entry
	// TruncatedBytes is how many bytes of a torn tail Open cut from the
	// last segment; zero when the log ended cleanly.
	TruncatedBytes int64
}

// replayer rebuilds a Replay from records read in log order.
type replayer struct {
	Replay
	file string // the segment being read, for errors
}

// corrupt returns a CorruptionError at the record rec of the current file.
func (r *replayer) corrupt(offset int64, format string, args ...any) error {
	return &CorruptionError{File: r.file, Offset: offset, Reason: fmt.Sprintf(format, args...)}
}

// apply folds one record into the state.
func (r *replayer) apply(rec record) error {
	switch rec.typ {
	case recEntries:
		ents, err := decodeEntries(rec.payload)
		if err != nil {
			return r.corrupt(rec.offset, "entries record: %v", err)
		}
		return r.applyEntries(rec.offset, ents)
	case recHardState:
		var hs raftpb.HardState
		if err := hs.Unmarshal(rec.payload); err != nil {
			return r.corrupt(rec.offset, "hard state record: %v", err)
		}
		r.HardState = hs
	case recSnapshot:
		meta, keepLog, err := decodeSnapshotMarker(rec.payload)
		if err != nil {
			return r.corrupt(rec.offset, "snapshot marker: %v", err)
		}
		r.applySnapshot(meta, keepLog)
	}
	return nil
}

// applyEntries replaces the log from ents[0].Index on with ents.
func (r *replayer) applyEntries(offset int64, ents []raftpb.Entry) error {
	// Entries the snapshot already covers are committed and applied; a
	// record may still hold some when it predates the marker.
	for len(ents) > 0 && ents[0].Index <= r.Snapshot.Index {
		ents = ents[1:]
	}
	if len(ents) == 0 {
		return nil
	}
	first := ents[0].Index
	switch {
	case len(r.Entries) == 0 || first <= r.Entries[0].Index:
		// An empty log takes any start: the first record of the oldest
		// segment left after ReleaseTo may follow a hole that a later
		// snapshot marker covers (checked once the whole log is read).
		r.Entries = append(r.Entries[:0:0], ents...)
	case first <= r.Entries[len(r.Entries)-1].Index+1:
		r.Entries = append(r.Entries[:first-r.Entries[0].Index], ents...)
	default:
		return r.corrupt(offset, "entries from %d leave a hole after the last index %d",
			first, r.Entries[len(r.Entries)-1].Index)
	}
	return nil
}

// applySnapshot makes the log start from the snapshot meta: entries up to
// its index go, and the rest go too unless the marker says the snapshot
// matched the log.
func (r *replayer) applySnapshot(meta raftpb.SnapshotMetadata, keepLog bool) {
	r.Snapshot = meta
	if !keepLog {
		r.Entries = nil
		return
	}
	i := 0
	for i < len(r.Entries) && r.Entries[i].Index <= meta.Index {
		i++
	}
	r.Entries = r.Entries[i:]
}

// finish checks the log read as a whole: its entries must follow the
// snapshot without a hole.
func (r *replayer) finish(firstFile string) error {
	if len(r.Entries) > 0 && r.Entries[0].Index != r.Snapshot.Index+1 {
		return &CorruptionError{File: firstFile, Reason: fmt.Sprintf(
			"the log resumes at index %d after the snapshot at %d: entries are missing",
			r.Entries[0].Index, r.Snapshot.Index)}
	}
	return nil
}

// readSegments replays every segment in order and returns the state with
// the size of the last segment's good prefix. It cuts a torn tail off the
// last segment (logging it) and fails with a *CorruptionError on any other
// damage.
func (w *WAL) readSegments(segs []segment) (*Replay, int64, error) {
	r := &replayer{}
	var end int64
	for i, s := range segs {
		r.file = filepath.Join(w.dir, s.name())
		data, err := os.ReadFile(r.file)
		if err != nil {
			return nil, 0, err
		}
		res := scanRecords(data)
		for _, rec := range res.records {
			if err := r.apply(rec); err != nil {
				return nil, 0, err
			}
		}
		end = res.end
		if res.problem == "" {
			continue
		}
		if i < len(segs)-1 || !res.torn {
			return nil, 0, r.corrupt(res.end, "%s", res.problem)
		}
		if err := w.truncateTorn(r.file, res, int64(len(data))); err != nil {
			return nil, 0, err
		}
		r.TruncatedBytes = int64(len(data)) - res.end
	}
	if err := r.finish(filepath.Join(w.dir, segs[0].name())); err != nil {
		return nil, 0, err
	}
	return &r.Replay, end, nil
}

// truncateTorn cuts the torn tail of the last segment at the end of its
// last good record and makes the cut durable.
func (w *WAL) truncateTorn(file string, res scanResult, size int64) error {
	w.logger.Warn("wal: truncating a torn tail left by a crash",
		"file", file, "offset", res.end, "bytes", size-res.end, "reason", res.problem)
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err = f.Truncate(res.end); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
