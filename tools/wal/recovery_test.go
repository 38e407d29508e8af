package wal_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// threeRecordLog writes a one-segment log of three saves, each an entries
// record followed by a hard state record, and returns its directory, its
// segment's path and what replaying all but the last save gives.
func threeRecordLog(t *testing.T) (dir, seg string, withoutLast wal.Replay) {
	t.Helper()
	dir = t.TempDir()
	w, _ := mustOpen(t, dir, wal.Options{})
	mustSave(t, w, raftpb.HardState{Term: 1, Commit: 0}, ents(1, 1, 2))
	mustSave(t, w, raftpb.HardState{Term: 1, Commit: 2}, ents(1, 3, 4))
	// The last save is one entries record only.
	mustSave(t, w, raftpb.HardState{Term: 1, Commit: 2}, ents(1, 5, 7))
	mustClose(t, w)
	seg = filepath.Join(dir, segments(t, dir)[0])
	return dir, seg, wal.Replay{HardState: raftpb.HardState{Term: 1, Commit: 2}, Entries: ents(1, 1, 4)}
}

// openCopy writes data as the segment of a copy of dir and opens the copy.
func openCopy(t *testing.T, dir, seg string, data []byte) (string, *wal.WAL, *wal.Replay, error) {
	t.Helper()
	cp := copyDir(t, dir)
	writeFile(t, filepath.Join(cp, filepath.Base(seg)), data)
	w, rp, err := wal.Open(cp, wal.Options{})
	return cp, w, rp, err
}

func TestTornLastRecordIsCutAtEveryByteAndTheLogStillOpens(t *testing.T) {
	dir, seg, want := threeRecordLog(t)
	data := readFile(t, seg)
	offs := wal.RecordOffsets(data)
	last := offs[len(offs)-1]
	for cut := last + 1; cut < int64(len(data)); cut++ {
		cp, w, rp, err := openCopy(t, dir, seg, data[:cut])
		if err != nil {
			t.Fatalf("cut at %d: Open: %v", cut, err)
		}
		want.TruncatedBytes = cut - last
		checkReplay(t, rp, want)
		// The log goes on from the cut, and what it writes survives.
		mustSave(t, w, raftpb.HardState{Term: 2, Commit: 4}, ents(2, 5, 5))
		mustClose(t, w)
		_, rp = mustOpen(t, cp, wal.Options{})
		checkReplay(t, rp, wal.Replay{HardState: raftpb.HardState{Term: 2, Commit: 4}, Entries: concat(ents(1, 1, 4), ents(2, 5, 5))})
		if t.Failed() {
			t.Fatalf("cut at %d of %d", cut, len(data))
		}
	}
}

func TestLastRecordFailingItsChecksumIsATornTail(t *testing.T) {
	dir, seg, want := threeRecordLog(t)
	data := readFile(t, seg)
	offs := wal.RecordOffsets(data)
	last := offs[len(offs)-1]
	for _, tail := range [][]byte{nil, make([]byte, 100)} {
		damaged := append(flipped(data, len(data)-1), tail...)
		_, w, rp, err := openCopy(t, dir, seg, damaged)
		if err != nil {
			t.Fatalf("with %d zero bytes after: Open: %v", len(tail), err)
		}
		want.TruncatedBytes = int64(len(damaged)) - last
		checkReplay(t, rp, want)
		mustClose(t, w)
	}
}

func TestZeroFilledTailIsATornTail(t *testing.T) {
	dir, seg, _ := threeRecordLog(t)
	data := readFile(t, seg)
	_, w, rp, err := openCopy(t, dir, seg, append(data, make([]byte, 4096)...))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	checkReplay(t, rp, wal.Replay{HardState: raftpb.HardState{Term: 1, Commit: 2}, Entries: ents(1, 1, 7), TruncatedBytes: 4096})
	mustClose(t, w)
}

func TestFlippedByteInAnEarlierRecordIsCorruptionNamingFileAndOffset(t *testing.T) {
	dir, seg, _ := threeRecordLog(t)
	data := readFile(t, seg)
	offs := wal.RecordOffsets(data)
	// Damage every byte, header and payload, of the second save's entries
	// record: wherever it lands, Open must refuse and point at it.
	victim := offs[2]
	for i := victim; i < offs[3]; i++ {
		_, _, _, err := openCopy(t, dir, seg, flipped(data, int(i)))
		var ce *wal.CorruptionError
		if !errors.As(err, &ce) || !errors.Is(err, wal.ErrCorrupt) {
			t.Fatalf("byte %d flipped: Open = %v, want a CorruptionError", i, err)
		}
		if filepath.Base(ce.File) != filepath.Base(seg) || ce.Offset != victim {
			t.Fatalf("byte %d flipped: error names %s at %d, want %s at %d", i, ce.File, ce.Offset, filepath.Base(seg), victim)
		}
	}
}

func TestDamageInASegmentBeforeTheLastIsCorruption(t *testing.T) {
	dir := t.TempDir()
	mustClose(t, fillSegments(t, dir, 40))
	first := filepath.Join(dir, segments(t, dir)[0])
	data := readFile(t, first)
	offs := wal.RecordOffsets(data)
	// Even a cut that would pass for a torn tail in the last segment is
	// damage here: later segments were written after it.
	writeFile(t, first, data[:offs[len(offs)-1]+3])
	_, _, err := wal.Open(dir, wal.Options{})
	var ce *wal.CorruptionError
	if !errors.As(err, &ce) || ce.File != first || ce.Offset != offs[len(offs)-1] {
		t.Fatalf("Open = %v, want a CorruptionError at %s offset %d", err, first, offs[len(offs)-1])
	}
}

func TestCorruptionLeavesTheFilesUntouched(t *testing.T) {
	dir, seg, _ := threeRecordLog(t)
	data := readFile(t, seg)
	offs := wal.RecordOffsets(data)
	damaged := flipped(data, int(offs[1])+wal.HeaderBytes)
	cp, _, _, err := openCopy(t, dir, seg, damaged)
	if !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
	got, err := os.ReadFile(filepath.Join(cp, filepath.Base(seg)))
	if err != nil || string(got) != string(damaged) {
		t.Errorf("Open changed a corrupt segment (err %v)", err)
	}
}
