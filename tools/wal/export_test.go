package wal

// RecordOffsets returns the offset of every good record in a segment's
// bytes, so that tests can aim at one record.
func RecordOffsets(data []byte) []int64 {
	var offs []int64
	for _, r := range scanRecords(data).records {
		offs = append(offs, r.offset)
	}
	return offs
}

// HeaderBytes is the size of a record header.
const HeaderBytes = headerBytes

// RecordSize returns the size, header included, of the record at off.
func RecordSize(data []byte, off int64) int64 {
	rec, _ := readRecord(data, int(off))
	return rec.size
}

// UnsyncedBytes is the most a segment holds past its last sync.
const UnsyncedBytes = unsyncedBytes
