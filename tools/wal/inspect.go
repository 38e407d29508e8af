package wal

import (
	"encoding/binary"
	"fmt"
	"path/filepath"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal/walfs"
)

// This file reads a log for people and tools (tools/waldump): every
// segment and record as found, without locking, repairing or judging.

// SegmentInfo is one segment file as Inspect read it.
type SegmentInfo struct {
	// Path is the segment's file.
	Path string
	// Seq and FirstIndex are the numbers of its name (FirstIndex is zero
	// in a shared log, whose group records hold it per group).
	Seq, FirstIndex uint64
	// Shared reports whether it is a segment of a log shared by many
	// groups (named SEQ-shared.wal).
	Shared bool
	// Size is the file's size; RecordsEnd where its good records end.
	Size, RecordsEnd int64
	// Version, Group, PrevEnd and Created are the fields of its head
	// (zero when the head does not read): the format version, the group,
	// where the previous segment's records end, the size it was created
	// with.
	Version, Group   uint64
	PrevEnd, Created int64
	// Records are its good records, in order.
	Records []RecordInfo
	// Damage is empty when nothing but zeros follows the records;
	// otherwise it says why the record at RecordsEnd fails.
	Damage string
	// SyncedPast reports whether an intact record after the damage says
	// the damaged bytes were synced (see Recovery in the package doc).
	SyncedPast bool
}

// RecordInfo is one record. Exactly one of Entries, HardState, Snapshot,
// Head, Seal, GroupFirst and Tombstone describes its content.
type RecordInfo struct {
	// Offset is where its header starts; Size its length with the header.
	Offset, Size int64
	// Group and Synced are its stamp (zero for a segment head).
	Group  uint64
	Synced int64
	// Entries are an entries record's entries.
	Entries []raftpb.Entry
	// HardState is a hard state record's.
	HardState *raftpb.HardState
	// Snapshot is a snapshot marker's metadata; KeepsLog its flag.
	Snapshot *raftpb.SnapshotMetadata
	KeepsLog bool
	// Head reports whether it is a segment head.
	Head bool
	// Seal is a seal's next segment number, zero for other records.
	Seal uint64
	// GroupFirst is a group record's first index of its group in the
	// segment (in a shared log), zero for other records.
	GroupFirst uint64
	// Tombstone is a drop record's term and vote (SharedLog.Drop);
	// Restated reports whether it restates, in a segment head, a tombstone
	// of a group dropped earlier (its state is left as it is) rather than
	// dropping the group.
	Tombstone *raftpb.HardState
	Restated  bool
	// Err is set when the payload, though its checksums hold, does not
	// decode.
	Err error
}

// Inspect reads the segments in dir as they are, oldest first, for a dump
// or a check. It neither locks, repairs nor changes anything, and reports
// damage in each SegmentInfo instead of failing. fs nil means the
// operating system's.
func Inspect(fs walfs.FS, dir string) ([]SegmentInfo, error) {
	if fs == nil {
		fs = walfs.OS()
	}
	names, err := fs.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []SegmentInfo
	for _, name := range names {
		s, ok := parseSegmentName(name)
		if !ok {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := fs.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, inspectSegment(path, s, data))
	}
	return out, nil
}

// inspectSegment describes one segment's bytes.
func inspectSegment(path string, s segment, data []byte) SegmentInfo {
	res := scanRecords(data)
	info := SegmentInfo{Path: path, Seq: s.seq, FirstIndex: s.firstIndex, Shared: s.shared, Size: int64(len(data)),
		RecordsEnd: res.end, Damage: res.problem, SyncedPast: res.syncedPast}
	for _, rec := range res.records {
		ri := RecordInfo{Offset: rec.offset, Size: rec.size, Group: rec.stamp.group, Synced: rec.stamp.synced}
		switch rec.typ {
		case recSegment:
			ri.Head = true
			h, err := decodeSegmentHead(rec.payload)
			ri.Err = err
			info.Version, info.Group, info.PrevEnd, info.Created = h.version, h.group, h.prevEnd, h.size
		case recEntries:
			ri.Entries, ri.Err = decodeEntries(rec.payload)
		case recHardState:
			var hs raftpb.HardState
			ri.Err = hs.Unmarshal(rec.payload)
			ri.HardState = &hs
		case recSnapshot:
			meta, keep, err := decodeSnapshotMarker(rec.payload)
			ri.Snapshot, ri.KeepsLog, ri.Err = &meta, keep, err
		case recSeal:
			next, n := binary.Uvarint(rec.payload)
			if n <= 0 {
				ri.Err = fmt.Errorf("a seal that does not decode")
			}
			ri.Seal = next
		case recGroup:
			ri.GroupFirst, ri.Err = decodeGroupFirst(rec.payload)
		case recDrop:
			hs, restated, err := decodeDrop(rec.payload)
			ri.Tombstone, ri.Restated, ri.Err = &hs, restated, err
		default:
			ri.Err = fmt.Errorf("record type %d", rec.typ)
		}
		info.Records = append(info.Records, ri)
	}
	return info
}
