package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// This file holds the manifest: a small file that records, durably, the
// run of segments that must exist, so that Open can tell a segment lost
// from the ends of the run (the newest above all, which nothing else
// names) from one that was never written.

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
func readManifest(dir string) (m manifest, ok bool, err error) {
	path := filepath.Join(dir, manifestName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return manifest{}, false, nil
	}
	if err != nil {
		return manifest{}, false, err
	}
	if len(b) != manifestBytes || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return manifest{}, false, &CorruptionError{File: path, Reason: "the segment manifest fails its checksum"}
	}
	return manifest{first: binary.LittleEndian.Uint64(b), last: binary.LittleEndian.Uint64(b[8:])}, true, nil
}

// writeManifest replaces dir's manifest with m, durably: a temporary file,
// synced, renamed into place, and the directory synced.
func writeManifest(dir string, m manifest) error {
	var b [manifestBytes]byte
	binary.LittleEndian.PutUint64(b[:], m.first)
	binary.LittleEndian.PutUint64(b[8:], m.last)
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	final := filepath.Join(dir, manifestName)
	tmp := final + tempExt
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err = f.Write(b[:]); err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	return syncDir(dir)
}

// checkManifest compares the segments found with the run the manifest
// records. A segment below the run is a leftover of an interrupted release
// (the manifest moves first), and one past it the newest segment created
// just before a crash (the segment is made before the manifest names it):
// both are fine. A segment of the run that is not there is lost data.
func checkManifest(dir string, m manifest, segs []segment) error {
	oldest, newest := segs[0].seq, segs[len(segs)-1].seq
	switch {
	case newest < m.last:
		return &CorruptionError{File: filepath.Join(dir, manifestName),
			Reason: fmt.Sprintf("segment %d, the newest the log wrote, is missing (the newest found is %d): its entries were lost", m.last, newest)}
	case oldest > m.first:
		return &CorruptionError{File: filepath.Join(dir, manifestName),
			Reason: fmt.Sprintf("segment %d is missing (the oldest found is %d): its entries were lost", m.first, oldest)}
	}
	return nil
}
