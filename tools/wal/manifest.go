package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/tickraft/raft/tools/wal/walfs"
)

// This file holds the manifest: a small file that records, durably, the
// run of segments that must exist as of the last open or release, so that
// Open can tell a segment lost from the ends of the run from one that was
// never written. Rollovers do not move it: a new segment is named by the
// seal of the one before it.

// manifestName is the manifest's file name in the log's directory.
const manifestName = "SEGMENTS"

// manifestBytes is the manifest's size: the first and last sequence
// numbers of the run, and a CRC-32C of both.
const manifestBytes = 20

// manifest is the run of segments the log holds: every segment from first
// to last exists.
type manifest struct {
	first, last uint64
}

// readManifest reads dir's manifest; ok is false when there is none (a
// log written before manifests existed, or a new one).
func (w *WAL) readManifest() (m manifest, ok bool, err error) {
	path := filepath.Join(w.dir, manifestName)
	b, err := w.fs.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return manifest{}, false, nil
	}
	if err != nil {
		return manifest{}, false, err
	}
	if len(b) != manifestBytes || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return manifest{}, false, w.everyGroup(&CorruptionError{File: path, Reason: "the segment manifest fails its checksum", Lost: true})
	}
	return manifest{first: binary.LittleEndian.Uint64(b), last: binary.LittleEndian.Uint64(b[8:])}, true, nil
}

// writeManifest replaces dir's manifest with m, durably: a temporary file,
// synced, renamed into place, and the directory synced.
func (w *WAL) writeManifest(m manifest) error {
	var b [manifestBytes]byte
	binary.LittleEndian.PutUint64(b[:], m.first)
	binary.LittleEndian.PutUint64(b[8:], m.last)
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	return walfs.WriteAtomic(w.fs, w.dir, manifestName, b[:])
}

// checkManifest compares the segments found with the run the manifest
// records. A segment below the run is a leftover of an interrupted release
// (the manifest moves first), and segments past it were started by
// rollovers (the seals chain them): both are fine. A segment of the run
// that is not there is lost data.
func (w *WAL) checkManifest(m manifest, segs []segment) error {
	file := filepath.Join(w.dir, manifestName)
	if len(segs) == 0 {
		return w.everyGroup(&CorruptionError{File: file,
			Reason: fmt.Sprintf("every segment from %d to %d is missing: the log was lost", m.first, m.last), Lost: true})
	}
	oldest, newest := segs[0].seq, segs[len(segs)-1].seq
	switch {
	case newest < m.last:
		return w.everyGroup(&CorruptionError{File: file,
			Reason: fmt.Sprintf("segment %d, the newest the log wrote, is missing (the newest found is %d): its entries were lost", m.last, newest), Lost: true})
	case oldest > m.first:
		return w.everyGroup(&CorruptionError{File: file,
			Reason: fmt.Sprintf("segment %d is missing (the oldest found is %d): its entries were lost", m.first, oldest), Lost: true})
	}
	return nil
}
