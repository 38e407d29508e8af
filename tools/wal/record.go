package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/tickraft/raft/raftpb"
)

// This file holds the record framing: the header, the checksums and the
// payload codecs of the three record types.

// headerBytes is the size of a record header:
//
//	0  uint32  payload length in bytes (little endian)
//	4  uint8   record type
//	5  [3]byte zero
//	8  uint32  CRC-32C of header bytes 0..7
//	12 uint32  CRC-32C of the type byte followed by the payload
//
// The header has its own checksum so that a damaged length is told apart
// from a record cut short by a crash: only a header that checks out is
// trusted to say how long its record is.
const headerBytes = 16

// MaxRecordBytes is the largest payload a record may carry. Save refuses a
// batch that would encode to more, and Open reads a longer length as
// damage.
const MaxRecordBytes = 256 << 20

// recordType says how a record's payload is to be read.
type recordType uint8

// The record types. Zero is not one, so that a zero-filled region never
// reads as a record.
const (
	// recEntries holds a batch of log entries with consecutive indexes,
	// each an unsigned varint length followed by the entry's raftpb
	// encoding. It replaces the log from its first index on.
	recEntries recordType = 1
	// recHardState holds a raftpb.HardState encoding.
	recHardState recordType = 2
	// recSnapshot holds a flags byte followed by a raftpb.SnapshotMetadata
	// encoding: the snapshot marker.
	recSnapshot recordType = 3
	// recSegment is the first record of every segment: the format
	// version, the group, the segment's place in the log and its size.
	recSegment recordType = 4
	// recSeal is the last record of a segment that another follows: the
	// next segment's sequence number as an unsigned varint. A seal in the
	// newest segment names a segment that was lost.
	recSeal recordType = 5
	// recGroup follows the head of a segment of a shared log, once for
	// every group the log held when the segment was created: the group (in
	// its stamp) and its first index in the segment, one past its last
	// index then, as an unsigned varint. Format version 2.
	recGroup recordType = 6
	// recDrop is a group's tombstone in a shared log: a flags byte and a
	// raftpb.HardState encoding holding the term and vote the group had
	// when the process dropped it (SharedLog.Drop). Without the restated
	// flag it also ends the group's state; with it (in a segment head) it
	// only restates the tombstone. Format version 2.
	recDrop recordType = 7
)

// sealReserve is the room a segment keeps at its end for its seal.
const sealReserve = headerBytes + 3*binary.MaxVarintLen64

// FormatVersion is the newest version of the on-disk format, carried by
// every segment's first record. Version 2 added the log shared by many
// groups (OpenShared): its segments have a flags field in their head and a
// group record per group after it. A log of one group is written in
// version 1 still, unchanged, so that an older release reads it; Open
// reads versions 1 and 2 and refuses any other with an error matching
// ErrVersion.
const FormatVersion = 2

// singleGroupVersion is the format version of a log of one group.
const singleGroupVersion = 1

// headShared is the flag of a version 2 segment head whose segment belongs
// to a log shared by many groups.
const headShared = 1

// snapKeepsLog is the flag of a snapshot marker whose snapshot matched the
// log (same term at its index), so that the entries after it stay; without
// it the marker empties the log, as installing a leader's snapshot does.
const snapKeepsLog = 1

// castagnoli is the CRC-32C table.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendRecord appends a record of type typ to b, with the payload that
// encode appends, and returns the extended slice. On error (the payload is
// too large) it returns b as it was.
func appendRecord(b []byte, typ recordType, encode func([]byte) []byte) ([]byte, error) {
	start := len(b)
	b = append(b, make([]byte, headerBytes)...)
	b = encode(b)
	n := len(b) - start - headerBytes
	if n > MaxRecordBytes {
		return b[:start], fmt.Errorf("wal: a record of %d bytes exceeds MaxRecordBytes (%d)", n, MaxRecordBytes)
	}
	h := b[start : start+headerBytes]
	binary.LittleEndian.PutUint32(h[0:], uint32(n))
	h[4] = byte(typ)
	binary.LittleEndian.PutUint32(h[8:], crc32.Checksum(h[:8], castagnoli))
	binary.LittleEndian.PutUint32(h[12:], payloadCRC(h, b[start+headerBytes:]))
	return b, nil
}

// payloadCRC is the CRC-32C of the type byte of header h followed by the
// payload.
func payloadCRC(h, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, h[4:5])
	return crc32.Update(c, castagnoli, payload)
}

// header is a decoded record header.
type header struct {
	length uint32
	typ    recordType
	crc    uint32
}

// decodeHeader reads the header at the start of h (at least headerBytes
// long) and reports whether its own checksum holds.
func decodeHeader(h []byte) (header, bool) {
	ok := binary.LittleEndian.Uint32(h[8:]) == crc32.Checksum(h[:8], castagnoli) &&
		h[5] == 0 && h[6] == 0 && h[7] == 0
	return header{
		length: binary.LittleEndian.Uint32(h[0:]),
		typ:    recordType(h[4]),
		crc:    binary.LittleEndian.Uint32(h[12:]),
	}, ok
}

// known reports whether t is a record type this package writes.
func (t recordType) known() bool { return t >= recEntries && t <= recDrop }

// stamp is the prefix of every record but a segment head: the Raft group
// the record belongs to, and how many bytes of its segment were synced
// before the write that carries it began. The second lets Open tell a
// torn tail from lost data: a damaged record that an intact later one
// says was synced was acknowledged, and its loss is an error.
type stamp struct {
	group  uint64
	synced int64
}

// appendStamp appends a record's stamp.
func appendStamp(b []byte, s stamp) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(b, s.group), uint64(s.synced))
}

// decodeStamp reads a record's stamp and returns the rest of its payload.
func decodeStamp(payload []byte) (stamp, []byte, bool) {
	g, n := binary.Uvarint(payload)
	if n <= 0 {
		return stamp{}, nil, false
	}
	sy, m := binary.Uvarint(payload[n:])
	if m <= 0 || sy > 1<<62 {
		return stamp{}, nil, false
	}
	return stamp{group: g, synced: int64(sy)}, payload[n+m:], true
}

// segmentHead is the payload of a segment's first record.
type segmentHead struct {
	version uint64
	group   uint64
	seq     uint64
	// firstIndex repeats the index in the segment's name.
	firstIndex uint64
	// prevEnd is where the records of the segment before this one end,
	// its seal aside: that segment was synced up to there before this one
	// was created, so a shorter one lost acknowledged records. Zero for the
	// first segment.
	prevEnd int64
	// size is the size the segment was created with (preallocated): a file
	// shorter than that was cut.
	size int64
	// shared reports whether the segment belongs to a log shared by many
	// groups (version 2 and its shared flag); group and firstIndex are
	// then zero.
	shared bool
}

// appendSegmentHead appends the payload of a segment's first record: six
// fields, and from version 2 on a seventh, the flags.
func appendSegmentHead(b []byte, h segmentHead) []byte {
	for _, v := range []uint64{h.version, h.group, h.seq, h.firstIndex, uint64(h.prevEnd), uint64(h.size)} {
		b = binary.AppendUvarint(b, v)
	}
	if h.version >= 2 {
		var flags uint64
		if h.shared {
			flags = headShared
		}
		b = binary.AppendUvarint(b, flags)
	}
	return b
}

// decodeSegmentHead reads the payload of a segment's first record.
func decodeSegmentHead(payload []byte) (segmentHead, error) {
	var v [7]uint64
	for i := range v {
		if i == 6 && v[0] < 2 {
			break
		}
		x, n := binary.Uvarint(payload)
		if n <= 0 {
			return segmentHead{}, fmt.Errorf("segment head: field %d does not decode", i)
		}
		v[i], payload = x, payload[n:]
	}
	if v[4] > 1<<62 || v[5] > 1<<62 {
		return segmentHead{}, fmt.Errorf("segment head: impossible sizes")
	}
	if v[6]&^headShared != 0 {
		return segmentHead{}, fmt.Errorf("segment head: unknown flags %#x", v[6])
	}
	return segmentHead{version: v[0], group: v[1], seq: v[2], firstIndex: v[3], prevEnd: int64(v[4]), size: int64(v[5]),
		shared: v[6]&headShared != 0}, nil
}

// decodeGroupFirst reads the payload of a group record (after its stamp):
// the group's first index in the segment.
func decodeGroupFirst(payload []byte) (uint64, error) {
	first, n := binary.Uvarint(payload)
	if n <= 0 || n != len(payload) {
		return 0, fmt.Errorf("a group record that does not decode")
	}
	return first, nil
}

// appendEntries appends the payload of an entries record.
func appendEntries(b []byte, ents []raftpb.Entry) []byte {
	for i := range ents {
		b = binary.AppendUvarint(b, uint64(ents[i].Size()))
		b = ents[i].AppendMarshal(b)
	}
	return b
}

// decodeEntries reads the payload of an entries record. The entries' Data
// alias payload. It fails when an entry does not decode or the indexes
// are not consecutive.
func decodeEntries(payload []byte) ([]raftpb.Entry, error) {
	var ents []raftpb.Entry
	for len(payload) > 0 {
		n, k := binary.Uvarint(payload)
		if k <= 0 || n > uint64(len(payload)-k) {
			return nil, fmt.Errorf("entry %d: bad length prefix", len(ents))
		}
		var e raftpb.Entry
		if err := e.Unmarshal(payload[k : k+int(n)]); err != nil {
			return nil, fmt.Errorf("entry %d: %w", len(ents), err)
		}
		if len(ents) > 0 && e.Index != ents[len(ents)-1].Index+1 {
			return nil, fmt.Errorf("entry %d has index %d after %d", len(ents), e.Index, ents[len(ents)-1].Index)
		}
		ents = append(ents, e)
		payload = payload[k+int(n):]
	}
	if len(ents) == 0 {
		return nil, fmt.Errorf("an entries record holds no entry")
	}
	return ents, nil
}

// appendSnapshotMarker appends the payload of a snapshot marker.
func appendSnapshotMarker(b []byte, meta *raftpb.SnapshotMetadata, keepLog bool) []byte {
	var flags byte
	if keepLog {
		flags = snapKeepsLog
	}
	return meta.AppendMarshal(append(b, flags))
}

// decodeSnapshotMarker reads the payload of a snapshot marker.
func decodeSnapshotMarker(payload []byte) (meta raftpb.SnapshotMetadata, keepLog bool, err error) {
	if len(payload) == 0 || payload[0]&^snapKeepsLog != 0 {
		return meta, false, fmt.Errorf("bad snapshot marker flags")
	}
	err = meta.Unmarshal(payload[1:])
	return meta, payload[0] == snapKeepsLog, err
}
