package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

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

// replaySet rebuilds what Open found, one Replay per group, from records
// read in log order.
type replaySet struct {
	shared bool
	single uint64 // the group of a log of one group
	file   string // the segment being read, for errors
	groups map[uint64]*replayer
	// tombs holds the tombstones read (drop records); segs and cur are the
	// segments being read and the index of the current one.
	tombs map[uint64]raftpb.HardState
	segs  []segment
	cur   int
	// truncated is how many bytes of a torn tail were zeroed; loss the
	// losses Options.AcceptLoss stepped over that concern every group.
	truncated int64
	loss      error
}

// replayer rebuilds one group's Replay.
type replayer struct {
	Replay
	group uint64
	set   *replaySet
	// hsFile and hsOffset locate the last hard state record read.
	hsFile   string
	hsOffset int64
}

// newReplaySet returns the empty state of the log w opens.
func (w *WAL) newReplaySet() *replaySet {
	rs := &replaySet{shared: w.shared, single: w.opts.GroupID, groups: map[uint64]*replayer{}, tombs: map[uint64]raftpb.HardState{}}
	if !w.shared {
		rs.replayer(w.opts.GroupID)
	}
	return rs
}

// replayer returns the group's replayer, made when the group's first
// record is read (after a drop, its first record since), with the
// tombstone's term and vote when the group was dropped before.
func (rs *replaySet) replayer(group uint64) *replayer {
	r := rs.groups[group]
	if r == nil {
		r = &replayer{group: group, set: rs}
		r.HardState = rs.tombs[group]
		rs.groups[group] = r
	}
	return r
}

// replay returns what the log held of group, with the losses that concern
// every group and the torn tail: a log of one group's Replay.
func (rs *replaySet) replay(group uint64) *Replay {
	rp := &Replay{HardState: rs.tombs[group]}
	if r := rs.groups[group]; r != nil {
		*rp = r.Replay
	}
	rp.TruncatedBytes = rs.truncated
	rp.Loss = errors.Join(rs.loss, rp.Loss)
	return rp
}

// corrupt returns a CorruptionError at offset in the current file that
// concerns every group.
func (rs *replaySet) corrupt(offset int64, lost bool, format string, args ...any) error {
	e := &CorruptionError{File: rs.file, Offset: offset, Lost: lost, Reason: fmt.Sprintf(format, args...), Group: rs.single}
	if rs.shared {
		e.Group, e.EveryGroup = 0, true
	}
	return e
}

// corrupt returns a CorruptionError at offset in the current file, in the
// group's records.
func (r *replayer) corrupt(offset int64, lost bool, format string, args ...any) error {
	return &CorruptionError{File: r.set.file, Offset: offset, Lost: lost, Reason: fmt.Sprintf(format, args...), Group: r.group}
}

// apply routes one record of segment s to its group: in a log of one
// group every record must be the group's; in a shared log each goes to
// the group its stamp names, and a group record sets the group's first
// index in s.
func (rs *replaySet) apply(s *segment, rec record) error {
	if !rs.shared && rec.typ != recSegment && rec.stamp.group != rs.single {
		return rs.corrupt(rec.offset, false, "the record belongs to group %d, not %d", rec.stamp.group, rs.single)
	}
	switch rec.typ {
	case recSegment:
		return rs.corrupt(rec.offset, true, "a segment head in the middle of a segment")
	case recSeal:
		return nil // checked by checkSeal: the seal ends its segment
	case recGroup:
		if !rs.shared {
			return rs.corrupt(rec.offset, false, "a group record in a log of one group")
		}
		first, err := decodeGroupFirst(rec.payload)
		if err != nil {
			return rs.replayer(rec.stamp.group).corrupt(rec.offset, true, "%v", err)
		}
		rs.replayer(rec.stamp.group)
		s.firsts[rec.stamp.group] = first
		return nil
	case recDrop:
		if !rs.shared {
			return rs.corrupt(rec.offset, false, "a drop record in a log of one group")
		}
		hs, restated, err := decodeDrop(rec.payload)
		if err != nil {
			return (&replayer{group: rec.stamp.group, set: rs}).corrupt(rec.offset, true, "drop record: %v", err)
		}
		rs.drop(rec.stamp.group, hs, restated, rs.segs[:rs.cur+1])
		return nil
	}
	return rs.replayer(rec.stamp.group).apply(rec)
}

// apply folds one record of the group into its state.
func (r *replayer) apply(rec record) error {
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
		r.HardState, r.hsFile, r.hsOffset = hs, r.set.file, rec.offset
	case recSnapshot:
		meta, keepLog, err := decodeSnapshotMarker(rec.payload)
		if err != nil {
			return r.corrupt(rec.offset, true, "snapshot marker: %v", err)
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
		return &CorruptionError{File: firstFile, Lost: true, Group: r.group, Reason: fmt.Sprintf(
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

// readSegments replays every segment in order and returns what each
// group holds with the state of the last segment; in a shared log it
// fills each segment's first indexes. It makes good a torn tail of the
// last segment (logging it) and fails with a *CorruptionError on any
// other damage, or, with Options.AcceptLoss, reports a loss it can step
// over in the Loss of the groups it concerns.
func (w *WAL) readSegments(segs []segment) (*replaySet, segmentState, error) {
	rs := w.newReplaySet()
	rs.segs = segs
	var last segmentState
	var prevFile string
	for i := range segs {
		s := &segs[i]
		if w.shared {
			s.firsts = map[uint64]uint64{}
		}
		rs.file, rs.cur = filepath.Join(w.dir, s.name()), i
		data, size, err := readSegment(w.fs, rs.file)
		if err != nil {
			return nil, last, err
		}
		st := segmentState{res: scanRecords(data), size: size}
		if st.head, err = w.checkHead(rs.file, *s, st.res); err != nil {
			return nil, last, err
		}
		if i > 0 && st.head.prevEnd > last.res.end {
			err := w.everyGroup(&CorruptionError{File: prevFile, Offset: last.res.end, Lost: true, Reason: fmt.Sprintf(
				"the segment's records end at %d, but it was synced up to %d before the next one began: it was cut short", last.res.end, st.head.prevEnd)})
			if err := w.acceptLoss(rs, nil, err); err != nil {
				return nil, last, err
			}
		}
		for _, rec := range st.res.records[1:] {
			if err := rs.apply(s, rec); err != nil {
				return nil, last, err
			}
		}
		if err := w.checkSeal(rs, *s, st.res, i == len(segs)-1); err != nil {
			return nil, last, err
		}
		if err := w.checkEnd(rs, st, i == len(segs)-1); err != nil {
			return nil, last, err
		}
		last, prevFile = st, rs.file
	}
	for _, id := range slices.Sorted(maps.Keys(rs.groups)) {
		r := rs.groups[id]
		if err := r.finish(filepath.Join(w.dir, segs[0].name())); err != nil {
			return nil, last, err
		}
		if err := w.checkCommit(r); err != nil {
			return nil, last, err
		}
	}
	return rs, last, nil
}

// checkHead checks a segment's first record: its format version, its kind
// (of one group, or shared), its group and its place.
func (w *WAL) checkHead(file string, s segment, res scanResult) (segmentHead, error) {
	if len(res.records) == 0 || res.records[0].typ != recSegment {
		return segmentHead{}, w.everyGroup(&CorruptionError{File: file, Reason: "the segment does not start with a segment head (" + res.problem + ")", Lost: true})
	}
	h, err := decodeSegmentHead(res.records[0].payload)
	if err != nil {
		return h, w.everyGroup(&CorruptionError{File: file, Reason: err.Error()})
	}
	switch {
	case h.version < singleGroupVersion || h.version > FormatVersion:
		return h, fmt.Errorf("%w: %s is in format version %d; this package reads versions %d to %d", ErrVersion, file, h.version, singleGroupVersion, FormatVersion)
	case h.shared != w.shared:
		return h, w.otherKindError(file)
	case !w.shared && h.group != w.opts.GroupID:
		return h, fmt.Errorf("%w: %s belongs to group %d, not to group %d", ErrVersion, file, h.group, w.opts.GroupID)
	case h.seq != s.seq || h.firstIndex != s.firstIndex:
		return h, w.everyGroup(&CorruptionError{File: file, Reason: fmt.Sprintf("the head names segment %d from index %d", h.seq, h.firstIndex)})
	}
	return h, nil
}

// checkSeal checks a segment's seal: only as its last record, naming the
// next segment; in the newest segment, it names a segment that was lost;
// a segment another follows must have one.
func (w *WAL) checkSeal(rs *replaySet, s segment, res scanResult, newest bool) error {
	if n := len(res.records); !newest && res.problem == "" && (n == 0 || res.records[n-1].typ != recSeal) {
		return rs.corrupt(res.end, true, "the segment lacks the seal that ends every segment another follows")
	}
	for i, rec := range res.records {
		if rec.typ != recSeal {
			continue
		}
		next, n := binary.Uvarint(rec.payload)
		switch {
		case n <= 0 || next != s.seq+1 || i != len(res.records)-1:
			return rs.corrupt(rec.offset, true, "a seal that does not end the segment or name the next one")
		case newest:
			return rs.corrupt(rec.offset, true, "segment %d, which this segment's seal names as the next, is missing: its entries were lost", next)
		}
	}
	return nil
}

// checkEnd judges how a segment ends. A segment shorter than it was
// created lost its tail. Damage after the last good record is a torn
// write, made good, when it is in the last segment and no intact record
// after it says it was synced; otherwise it is lost data. A damaged record
// hides its stamp, so the loss concerns every group of a shared log.
func (w *WAL) checkEnd(rs *replaySet, st segmentState, last bool) error {
	if st.size < st.head.size {
		err := w.everyGroup(&CorruptionError{File: rs.file, Offset: st.size, Lost: true, Reason: fmt.Sprintf(
			"the file has %d bytes, but the segment was created with %d: it was cut short", st.size, st.head.size)})
		if err := w.acceptLoss(rs, nil, err); err != nil {
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
		return rs.corrupt(st.res.end, true, "%s", reason)
	}
	w.logger.Warn("wal: making good a torn tail left by a crash",
		"file", rs.file, "offset", st.res.end, "bytes", st.res.dataEnd-st.res.end, "reason", st.res.problem)
	rs.truncated = st.res.dataEnd - st.res.end
	return nil
}

// checkCommit refuses a hard state whose commit index lies past the
// group's log: under the write order (a hard state never before its
// entries), the entries it committed were synced and are gone.
func (w *WAL) checkCommit(r *replayer) error {
	last := r.Snapshot.Index
	if n := len(r.Entries); n > 0 {
		last = r.Entries[n-1].Index
	}
	if r.HardState.Commit <= last {
		return nil
	}
	err := &CorruptionError{File: r.hsFile, Offset: r.hsOffset, Lost: true, Group: r.group, Reason: fmt.Sprintf(
		"the hard state commits index %d, past the log's last index %d: entries %d through %d were lost",
		r.HardState.Commit, last, last+1, r.HardState.Commit)}
	return w.acceptLoss(r.set, r, err)
}

// acceptLoss returns err, unless Options.AcceptLoss asks to open over the
// loss: it is then logged and kept in the Loss of group r, or of every
// group when r is nil.
func (w *WAL) acceptLoss(rs *replaySet, r *replayer, err *CorruptionError) error {
	if !w.opts.AcceptLoss {
		return err
	}
	w.logger.Warn("wal: opening over lost data, as asked", "error", err)
	if r != nil {
		r.Loss = errors.Join(r.Loss, err)
	} else {
		rs.loss = errors.Join(rs.loss, err)
	}
	return nil
}
