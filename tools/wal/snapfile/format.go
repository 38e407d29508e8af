package snapfile

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/tickraft/raft/raftpb"
)

// This file holds the names and the byte layout of snapshot files.

const (
	magic     = "tksnap1\n"
	snapExt   = ".snap"
	trailerSz = 4
)

// castagnoli is the CRC-32C table.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// id names a snapshot by the index and term of its last entry.
type id struct {
	index, term uint64
}

// fileName returns TERM-INDEX.snap.
func (k id) fileName() string {
	return fmt.Sprintf("%016x-%016x%s", k.term, k.index, snapExt)
}

// String returns "index I term T", for messages.
func (k id) String() string { return fmt.Sprintf("index %d term %d", k.index, k.term) }

// parseFileName reads a name written by id.fileName.
func parseFileName(name string) (id, bool) {
	base, ok := strings.CutSuffix(name, snapExt)
	if !ok {
		return id{}, false
	}
	term, index, ok := parseHexPair(base)
	return id{index: index, term: term}, ok
}

// parseHexPair reads two numbers written "%016x-%016x", the form of the
// snapshot files' and the staging areas' names.
func parseHexPair(s string) (a, b uint64, ok bool) {
	if len(s) != 33 || s[16] != '-' {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(s[:16], 16, 64)
	b, err2 := strconv.ParseUint(s[17:], 16, 64)
	return a, b, err1 == nil && err2 == nil
}

// encodeHead returns the bytes of a snapshot file before its data.
func encodeHead(meta *raftpb.SnapshotMetadata, dataLen int) []byte {
	b := append([]byte(magic), 0, 0, 0, 0)
	b = meta.AppendMarshal(b)
	binary.LittleEndian.PutUint32(b[len(magic):], uint32(len(b)-len(magic)-4))
	return binary.LittleEndian.AppendUint64(b, uint64(dataLen))
}

// layout is where things are in a snapshot file, as its head says.
type layout struct {
	meta       raftpb.SnapshotMetadata
	dataOffset int64
	dataLen    uint64
}

// decodeHead reads the head of a snapshot file of size bytes from its
// first bytes (which must hold the whole head) and checks that the lengths
// add up to the size.
func decodeHead(b []byte, size int64) (layout, error) {
	var l layout
	if len(b) < len(magic)+4 || string(b[:len(magic)]) != magic {
		return l, fmt.Errorf("bad magic")
	}
	metaLen := int64(binary.LittleEndian.Uint32(b[len(magic):]))
	metaEnd := int64(len(magic)+4) + metaLen
	if metaEnd+8 > int64(len(b)) {
		return l, fmt.Errorf("metadata length %d runs past the head", metaLen)
	}
	if err := l.meta.Unmarshal(b[len(magic)+4 : metaEnd]); err != nil {
		return l, fmt.Errorf("metadata: %w", err)
	}
	l.dataLen = binary.LittleEndian.Uint64(b[metaEnd:])
	l.dataOffset = metaEnd + 8
	if uint64(size-l.dataOffset-trailerSz) != l.dataLen || size < l.dataOffset+trailerSz {
		return l, fmt.Errorf("data length %d does not match the file size %d", l.dataLen, size)
	}
	return l, nil
}

// checkTrailer reports whether the last four bytes of file are the CRC-32C
// of the bytes before them.
func checkTrailer(file []byte) bool {
	if len(file) < trailerSz {
		return false
	}
	body := file[:len(file)-trailerSz]
	return binary.LittleEndian.Uint32(file[len(body):]) == crc32.Checksum(body, castagnoli)
}

// trailer returns the CRC-32C trailer of the given parts, written in order.
func trailer(parts ...[]byte) []byte {
	var c uint32
	for _, p := range parts {
		c = crc32.Update(c, castagnoli, p)
	}
	return binary.LittleEndian.AppendUint32(nil, c)
}
