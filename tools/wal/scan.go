package wal

import "fmt"

// This file splits a segment's bytes into records and tells a torn tail
// (a crash cut the last write short) from damage (anything else).

// record is one record read from a segment.
type record struct {
	typ     recordType
	payload []byte
	// offset is where the record's header starts in its segment.
	offset int64
}

// scanResult is what scanRecords found in a segment.
type scanResult struct {
	records []record
	// end is the offset just past the last good record.
	end int64
	// problem is empty when every byte of the segment belongs to a good
	// record; otherwise it says why the record at end fails.
	problem string
	// torn reports whether the failure is one a crash in the middle of the
	// segment's last write can leave: a record cut short, or a final
	// record (followed by nothing, or by zeros only) whose payload fails
	// its checksum. It is meaningful only when problem is not empty.
	torn bool
}

// scanRecords reads the records of data, stopping at the first that fails
// a check.
func scanRecords(data []byte) scanResult {
	var res scanResult
	off := 0
	for off < len(data) {
		rec, n, problem, torn := readRecord(data, off)
		if problem != "" {
			res.end, res.problem, res.torn = int64(off), problem, torn
			return res
		}
		res.records = append(res.records, rec)
		off += n
	}
	res.end = int64(off)
	return res
}

// readRecord reads the record at data[off:] and returns it with its size,
// or the reason it fails and whether that failure looks like a torn tail.
func readRecord(data []byte, off int) (rec record, n int, problem string, torn bool) {
	rest := data[off:]
	if len(rest) < headerBytes {
		return rec, 0, fmt.Sprintf("short header: %d of %d bytes", len(rest), headerBytes), true
	}
	h, ok := decodeHeader(rest)
	if !ok {
		// A crash can leave a region the file system extended but never
		// wrote, which reads as zeros; any other bad header is damage.
		return rec, 0, "header checksum mismatch", allZero(rest)
	}
	if !h.typ.known() {
		return rec, 0, fmt.Sprintf("unknown record type %d", h.typ), false
	}
	if h.length > MaxRecordBytes {
		return rec, 0, fmt.Sprintf("impossible length %d", h.length), false
	}
	n = headerBytes + int(h.length)
	if n > len(rest) {
		return rec, 0, fmt.Sprintf("short payload: %d of %d bytes", len(rest)-headerBytes, h.length), true
	}
	payload := rest[headerBytes:n]
	if payloadCRC(rest, payload) != h.crc {
		return rec, 0, "payload checksum mismatch", allZero(rest[n:])
	}
	return record{typ: h.typ, payload: payload, offset: int64(off)}, n, "", false
}

// allZero reports whether b holds only zero bytes (or nothing).
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
