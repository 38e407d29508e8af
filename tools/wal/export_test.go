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
