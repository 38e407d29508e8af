package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
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
	// TruncatedBytes is how many bytes of a torn tail Open zeroed in the
	// last segment; zero when the log ended cleanly.
	TruncatedBytes int64
	// Loss is nil, unless Options.AcceptLoss let Open step over lost
	// synced data: it then holds the *CorruptionErrors it stepped over,
	// which match raft.ErrLostLog. Boot the node with Config.Recovering.
	Loss error
}

// replayer rebuilds a Replay from records read in log order.
type replayer struct {
	Replay
	file string // the segment being read, for errors
	// hsFile and hsOffset locate the last hard state record read.
	hsFile   string
	hsOffset int64
	group    uint64
}

// corrupt returns a CorruptionError at offset in the current file.
func (r *replayer) corrupt(offset int64, lost bool, format string, args ...any) error {
	return &CorruptionError{File: r.file, Offset: offset, Lost: lost, Reason: fmt.Sprintf(format, args...)}
}

// apply folds one record into the state.
func (r *replayer) apply(rec record) error {
	if rec.stamp.group != r.group {
		return r.corrupt(rec.offset, false, "the record belongs to group %d, not %d", rec.stamp.group, r.group)
	}
	switch rec.typ {
	case recEntries:
		ents, err := decodeEntries(rec.payload)
		if err != nil {
			return r.corrupt(rec.offset, true, "entries record: %v", err)
		}
		return r.applyEntries(rec.offset, ents)
	case recHardState:
		var hs raftpb.HardState
		if err := hs.Unmarshal(rec.payload); err != nil {
			return r.corrupt(rec.offset, true, "hard state record: %v", err)
		}
		r.HardState, r.hsFile, r.hsOffset = hs, r.file, rec.offset
	case recSnapshot:
		meta, keepLog, err := decodeSnapshotMarker(rec.payload)
		if err != nil {
			return r.corrupt(rec.offset, true, "snapshot marker: %v", err)
		}
		r.applySnapshot(meta, keepLog)
	case recSegment:
		return r.corrupt(rec.offset, true, "a segment head in the middle of a segment")
	case recSeal:
		// Checked by checkSeal: the seal ends its segment.
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
		return r.corrupt(offset, true, "entries from %d leave a hole after the last index %d",
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
		return &CorruptionError{File: firstFile, Lost: true, Reason: fmt.Sprintf(
			"the log resumes at index %d after the snapshot at %d: entries are missing",
			r.Entries[0].Index, r.Snapshot.Index)}
	}
	return nil
}

// segmentState is what reading one segment found.
type segmentState struct {
	head segmentHead
	res  scanResult
	size int64 // the file's size
}

// readSegments replays every segment in order and returns the state with
// the state of the last segment. It makes good a torn tail of the last
// segment (logging it) and fails with a *CorruptionError on any other
// damage, or, with Options.AcceptLoss, reports a loss it can step over in
// Replay.Loss.
func (w *WAL) readSegments(segs []segment) (*Replay, segmentState, error) {
	r := &replayer{group: w.opts.GroupID}
	var last segmentState
	var prevFile string
	for i, s := range segs {
		r.file = filepath.Join(w.dir, s.name())
		data, size, err := readSegment(w.fs, r.file)
		if err != nil {
			return nil, last, err
		}
		st := segmentState{res: scanRecords(data), size: size}
		if st.head, err = w.checkHead(r.file, s, st.res); err != nil {
			return nil, last, err
		}
		if i > 0 && st.head.prevEnd > last.res.end {
			err := &CorruptionError{File: prevFile, Offset: last.res.end, Lost: true, Reason: fmt.Sprintf(
				"the segment's records end at %d, but it was synced up to %d before the next one began: it was cut short", last.res.end, st.head.prevEnd)}
			if err := w.acceptLoss(r, err); err != nil {
				return nil, last, err
			}
		}
		for _, rec := range st.res.records[1:] {
			if err := r.apply(rec); err != nil {
				return nil, last, err
			}
		}
		if err := w.checkSeal(r, s, st.res, i == len(segs)-1); err != nil {
			return nil, last, err
		}
		if err := w.checkEnd(r, st, i == len(segs)-1); err != nil {
			return nil, last, err
		}
		last, prevFile = st, r.file
	}
	if err := r.finish(filepath.Join(w.dir, segs[0].name())); err != nil {
		return nil, last, err
	}
	if err := w.checkCommit(r); err != nil {
		return nil, last, err
	}
	return &r.Replay, last, nil
}

// checkHead checks a segment's first record: its format version, its
// group and its place.
func (w *WAL) checkHead(file string, s segment, res scanResult) (segmentHead, error) {
	if len(res.records) == 0 || res.records[0].typ != recSegment {
		return segmentHead{}, &CorruptionError{File: file, Reason: "the segment does not start with a segment head (" + res.problem + ")", Lost: true}
	}
	h, err := decodeSegmentHead(res.records[0].payload)
	if err != nil {
		return h, &CorruptionError{File: file, Reason: err.Error()}
	}
	switch {
	case h.version != FormatVersion:
		return h, fmt.Errorf("%w: %s is in format version %d; this package reads version %d", ErrVersion, file, h.version, FormatVersion)
	case h.group != w.opts.GroupID:
		return h, fmt.Errorf("%w: %s belongs to group %d, not to group %d", ErrVersion, file, h.group, w.opts.GroupID)
	case h.seq != s.seq || h.firstIndex != s.firstIndex:
		return h, &CorruptionError{File: file, Reason: fmt.Sprintf("the head names segment %d from index %d", h.seq, h.firstIndex)}
	}
	return h, nil
}

// checkSeal checks a segment's seal: only as its last record, naming the
// next segment; in the newest segment, it names a segment that was lost;
// a segment another follows must have one.
func (w *WAL) checkSeal(r *replayer, s segment, res scanResult, newest bool) error {
	if n := len(res.records); !newest && res.problem == "" && (n == 0 || res.records[n-1].typ != recSeal) {
		return r.corrupt(res.end, true, "the segment lacks the seal that ends every segment another follows")
	}
	for i, rec := range res.records {
		if rec.typ != recSeal {
			continue
		}
		next, n := binary.Uvarint(rec.payload)
		switch {
		case n <= 0 || next != s.seq+1 || i != len(res.records)-1:
			return r.corrupt(rec.offset, true, "a seal that does not end the segment or name the next one")
		case newest:
			return r.corrupt(rec.offset, true, "segment %d, which this segment's seal names as the next, is missing: its entries were lost", next)
		}
	}
	return nil
}

// checkEnd judges how a segment ends. A segment shorter than it was
// created lost its tail. Damage after the last good record is a torn
// write, made good, when it is in the last segment and no intact record
// after it says it was synced; otherwise it is lost data.
func (w *WAL) checkEnd(r *replayer, st segmentState, last bool) error {
	if st.size < st.head.size {
		err := &CorruptionError{File: r.file, Offset: st.size, Lost: true, Reason: fmt.Sprintf(
			"the file has %d bytes, but the segment was created with %d: it was cut short", st.size, st.head.size)}
		if err := w.acceptLoss(r, err); err != nil {
			return err
		}
	}
	if st.res.problem == "" {
		return nil
	}
	if !last || st.res.syncedPast {
		reason := st.res.problem
		if st.res.syncedPast {
			reason += ", and a later record says it was synced"
		}
		return r.corrupt(st.res.end, true, "%s", reason)
	}
	w.logger.Warn("wal: making good a torn tail left by a crash",
		"file", r.file, "offset", st.res.end, "bytes", st.res.dataEnd-st.res.end, "reason", st.res.problem)
	r.TruncatedBytes = st.res.dataEnd - st.res.end
	return nil
}

// checkCommit refuses a hard state whose commit index lies past the log:
// under the write order (a hard state never before its entries), the
// entries it committed were synced and are gone.
func (w *WAL) checkCommit(r *replayer) error {
	last := r.Snapshot.Index
	if n := len(r.Entries); n > 0 {
		last = r.Entries[n-1].Index
	}
	if r.HardState.Commit <= last {
		return nil
	}
	err := &CorruptionError{File: r.hsFile, Offset: r.hsOffset, Lost: true, Reason: fmt.Sprintf(
		"the hard state commits index %d, past the log's last index %d: entries %d through %d were lost",
		r.HardState.Commit, last, last+1, r.HardState.Commit)}
	return w.acceptLoss(r, err)
}

// acceptLoss returns err, unless Options.AcceptLoss asks to open over the
// loss: it is then logged and kept in Replay.Loss.
func (w *WAL) acceptLoss(r *replayer, err *CorruptionError) error {
	if !w.opts.AcceptLoss {
		return err
	}
	w.logger.Warn("wal: opening over lost data, as asked", "error", err)
	r.Loss = errors.Join(r.Loss, err)
	return nil
}
