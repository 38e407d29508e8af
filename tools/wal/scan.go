package wal

import (
	"bytes"
	"fmt"
)

// This file splits a segment's bytes into records and tells a torn tail
// (a crash cut the last writes short) from lost data (anything else).

// record is one record read from a segment.
type record struct {
	typ   recordType
	stamp stamp // zero for a segment head
	// payload is the record's payload after its stamp.
	payload []byte
	// offset is where the record's header starts in its segment; size is
	// its length, header included.
	offset, size int64
}

// scanResult is what scanRecords found in a segment.
type scanResult struct {
	records []record
	// end is the offset just past the last good record.
	end int64
	// problem is empty when the segment's bytes after end are all zero
	// (never written); otherwise it says why the record at end fails.
	problem string
	// syncedPast reports whether an intact record after end says the
	// bytes at end were synced before it was written: then the failure
	// is lost data, not a torn write. Meaningful only when problem is set.
	syncedPast bool
	// dataEnd is one past the last byte that is not zero.
	dataEnd int64
}

// scanRecords reads the records of data, stopping at the first that fails
// a check, and looks past it for intact records that prove it was synced.
func scanRecords(data []byte) scanResult {
	var res scanResult
	res.dataEnd = nonZeroEnd(data)
	off := 0
	for off < len(data) {
		if int64(off) >= res.dataEnd {
			break // the never-written, zero rest of a preallocated segment
		}
		rec, problem := readRecord(data, off)
		if problem != "" {
			res.end, res.problem = int64(off), problem
			res.syncedPast = syncedPast(data[:res.dataEnd], off)
			return res
		}
		res.records = append(res.records, rec)
		off += int(rec.size)
	}
	res.end = int64(off)
	return res
}

// syncedPast reports whether some intact record after offset bad claims,
// in its stamp, that the segment was synced past bad. It tries every
// offset, since a damaged header hides where the next record starts; a
// false match needs two CRC-32Cs to hold by chance.
func syncedPast(data []byte, bad int) bool {
	for off := bad + 1; off+headerBytes <= len(data); off++ {
		rec, problem := readRecord(data, off)
		if problem == "" && rec.typ != recSegment && rec.stamp.synced > int64(bad) {
			return true
		}
	}
	return false
}

// readRecord reads the record at data[off:], or says why it fails.
func readRecord(data []byte, off int) (rec record, problem string) {
	rest := data[off:]
	if len(rest) < headerBytes {
		return rec, fmt.Sprintf("short header: %d of %d bytes", len(rest), headerBytes)
	}
	h, ok := decodeHeader(rest)
	if !ok {
		return rec, "header checksum mismatch"
	}
	if !h.typ.known() {
		return rec, fmt.Sprintf("unknown record type %d", h.typ)
	}
	if h.length > MaxRecordBytes {
		return rec, fmt.Sprintf("impossible length %d", h.length)
	}
	n := headerBytes + int(h.length)
	if n > len(rest) {
		return rec, fmt.Sprintf("short payload: %d of %d bytes", len(rest)-headerBytes, h.length)
	}
	payload := rest[headerBytes:n]
	if payloadCRC(rest, payload) != h.crc {
		return rec, "payload checksum mismatch"
	}
	rec = record{typ: h.typ, payload: payload, offset: int64(off), size: int64(n)}
	if h.typ != recSegment {
		st, body, ok := decodeStamp(payload)
		if !ok {
			return record{}, "bad record stamp"
		}
		rec.stamp, rec.payload = st, body
	}
	return rec, ""
}

// zeroPage is compared against to skip zeros a page at a time.
var zeroPage [4096]byte

// nonZeroEnd returns one past the last byte of data that is not zero: the
// end of what was ever written into a preallocated segment.
func nonZeroEnd(data []byte) int64 {
	n := len(data)
	for n >= len(zeroPage) && bytes.Equal(data[n-len(zeroPage):n], zeroPage[:]) {
		n -= len(zeroPage)
	}
	for n > 0 && data[n-1] == 0 {
		n--
	}
	return int64(n)
}
