package wal_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// ents returns entries lo..hi (inclusive) of the given term, each with a
// payload naming it.
func ents(term, lo, hi uint64) []raftpb.Entry {
	var out []raftpb.Entry
	for i := lo; i <= hi; i++ {
		out = append(out, raftpb.Entry{Term: term, Index: i, Data: []byte(fmt.Sprintf("t%d-i%d", term, i))})
	}
	return out
}

// concat joins entry slices.
func concat(parts ...[]raftpb.Entry) []raftpb.Entry {
	var out []raftpb.Entry
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// mustOpen opens dir and fails the test on error.
func mustOpen(t *testing.T, dir string, opts wal.Options) (*wal.WAL, *wal.Replay) {
	t.Helper()
	w, rp, err := wal.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return w, rp
}

// mustSave saves and fails the test on error.
func mustSave(t *testing.T, w *wal.WAL, hs raftpb.HardState, es []raftpb.Entry) {
	t.Helper()
	if err := w.Save(hs, es, true); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

// mustClose closes and fails the test on error.
func mustClose(t *testing.T, w *wal.WAL) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// checkReplay compares a replay with what it should hold.
func checkReplay(t *testing.T, got *wal.Replay, want wal.Replay) {
	t.Helper()
	if diff := cmp.Diff(want, *got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("replay differs (-want +got):\n%s", diff)
	}
}

// segments returns the segment file names in dir, in order.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".wal") {
			names = append(names, de.Name())
		}
	}
	slices.Sort(names)
	return names
}

// copyDir copies the files of src into a fresh directory and returns it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	des, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		data, err := os.ReadFile(filepath.Join(src, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, de.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// readFile reads a file and fails the test on error.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeFile writes a file and fails the test on error.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// flipped returns a copy of data with the byte at i inverted.
func flipped(data []byte, i int) []byte {
	out := bytes.Clone(data)
	out[i] ^= 0xff
	return out
}

// firstIndexOf reads the first index in a segment's name.
func firstIndexOf(t *testing.T, name string) uint64 {
	t.Helper()
	var seq, first uint64
	if _, err := fmt.Sscanf(name, "%016x-%016x.wal", &seq, &first); err != nil {
		t.Fatalf("segment name %q: %v", name, err)
	}
	return first
}

// smallSegments keeps the segments of tests that do not care about their
// size small, so that copying and reading them is cheap.
var smallSegments = wal.Options{SegmentBytes: 4096}

// zeroed returns a copy of data with bytes [from, to) zeroed, as a write
// that never reached the disk leaves them in a preallocated segment.
func zeroed(data []byte, from, to int64) []byte {
	out := bytes.Clone(data)
	clear(out[from:to])
	return out
}

// nonZeroEnd returns one past the last byte of data that is not zero.
func nonZeroEnd(data []byte) int64 {
	n := len(data)
	for n > 0 && data[n-1] == 0 {
		n--
	}
	return int64(n)
}

// recordsEnd returns where a segment's good records end.
func recordsEnd(data []byte) int64 {
	offs := wal.RecordOffsets(data)
	return offs[len(offs)-1] + wal.RecordSize(data, offs[len(offs)-1])
}
