package wal

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tickraft/raft/tools/wal/walfs"
)

// This file holds the segment files: their names, listing them, and
// creating one durably at its full size.

const (
	segmentExt = ".wal"
	tempExt    = walfs.TempSuffix
)

// segment is one segment file of the log.
type segment struct {
	// seq numbers the segments: each new segment takes the next number,
	// and the segments on disk always form one unbroken run.
	seq uint64
	// firstIndex is one past the log's last index when the segment was
	// created: every entry of an earlier segment that is still part of
	// the log has a smaller index. Zero in a shared log, where firsts
	// holds it per group.
	firstIndex uint64
	// shared reports whether the segment belongs to a log shared by many
	// groups.
	shared bool
	// firsts is, in a shared log, each group's first index in the
	// segment (as firstIndex is for a log of one group), read from the
	// group records after its head; a group absent from it had no record
	// in any earlier segment.
	firsts map[uint64]uint64
}

// sharedTag replaces FIRSTINDEX in the name of a shared log's segment.
const sharedTag = "shared"

// name returns the segment's file name, SEQ-FIRSTINDEX.wal with both
// numbers as 16 hexadecimal digits, so that names sort as the segments do;
// in a shared log, whose first indexes are per group, SEQ-shared.wal.
func (s segment) name() string {
	if s.shared {
		return fmt.Sprintf("%016x-%s%s", s.seq, sharedTag, segmentExt)
	}
	return fmt.Sprintf("%016x-%016x%s", s.seq, s.firstIndex, segmentExt)
}

// parseSegmentName reads a name written by segment.name.
func parseSegmentName(name string) (segment, bool) {
	base, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(base) < 17 || base[16] != '-' {
		return segment{}, false
	}
	seq, err1 := strconv.ParseUint(base[:16], 16, 64)
	if base[17:] == sharedTag && err1 == nil {
		return segment{seq: seq, shared: true}, true
	}
	first, err2 := strconv.ParseUint(base[17:], 16, 64)
	if len(base) != 33 || err1 != nil || err2 != nil {
		return segment{}, false
	}
	return segment{seq: seq, firstIndex: first}, true
}

// listSegments returns the segments in dir in order. It removes the
// temporary files a crash may have left while a segment was being created
// (they never held anything that was acknowledged), and fails when the
// sequence numbers have a gap, since a missing segment in the middle is
// lost data.
func (w *WAL) listSegments() ([]segment, error) {
	names, err := w.fs.ReadDir(w.dir)
	if err != nil {
		return nil, err
	}
	var segs []segment
	for _, name := range names {
		if strings.HasSuffix(name, segmentExt+tempExt) {
			w.logger.Warn("wal: removing a segment left half-created by a crash", "file", filepath.Join(w.dir, name))
			if err := w.fs.Remove(filepath.Join(w.dir, name)); err != nil {
				return nil, err
			}
			continue
		}
		s, ok := parseSegmentName(name)
		if !ok {
			continue
		}
		if s.shared != w.shared {
			return nil, w.otherKindError(filepath.Join(w.dir, name))
		}
		segs = append(segs, s)
	}
	slices.SortFunc(segs, func(a, b segment) int { return cmp.Compare(a.seq, b.seq) })
	for i := 1; i < len(segs); i++ {
		if segs[i].seq != segs[i-1].seq+1 {
			return nil, w.everyGroup(&CorruptionError{
				File:   filepath.Join(w.dir, segs[i].name()),
				Reason: fmt.Sprintf("segment %d is missing before it: its entries were lost", segs[i-1].seq+1),
				Lost:   true,
			})
		}
	}
	return segs, nil
}

// otherKindError is the error of opening a log of one group as a shared
// log, or the reverse.
func (w *WAL) otherKindError(file string) error {
	if w.shared {
		return fmt.Errorf("%w: %s is a segment of a log of one group: open it with Open", ErrVersion, file)
	}
	return fmt.Errorf("%w: %s is a segment of a log shared by many groups: open it with OpenShared", ErrVersion, file)
}

// createSegment creates segment s holding head, at size bytes, durably: it
// writes a temporary file, reserves its whole size, syncs it, renames it
// into place and syncs the directory, so that after a crash the segment
// either exists with its whole head and size or not at all. Writing into
// blocks reserved ahead then changes no file size, which spares each sync
// the file system's metadata. It returns the file open for writing.
func (w *WAL) createSegment(s segment, head []byte, size int64) (walfs.File, error) {
	final := filepath.Join(w.dir, s.name())
	tmp := final + tempExt
	f, err := w.fs.Create(tmp)
	if err != nil {
		return nil, err
	}
	if _, err = f.WriteAt(head, 0); err == nil {
		if err = f.Allocate(size); err == nil {
			err = f.Sync()
		}
	}
	if err != nil {
		return nil, errors.Join(err, f.Close(), w.fs.Remove(tmp))
	}
	if err = w.fs.Rename(tmp, final); err == nil {
		err = w.fs.SyncDir(w.dir)
	}
	if err != nil {
		// The rename may or may not have happened; remove whichever name
		// exists, so that no segment without a durable entry is left.
		_ = w.fs.Remove(tmp)
		_ = w.fs.Remove(final)
		return nil, errors.Join(err, f.Close())
	}
	return f, nil
}
