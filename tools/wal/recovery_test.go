package wal_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// threeRecordLog writes a one-segment log of three saves, each an entries
// record followed by a hard state record, and returns its directory, its
// segment's path and what replaying all but the last save gives.
func threeRecordLog(t *testing.T) (dir, seg string, withoutLast wal.Replay) {
	t.Helper()
	dir = t.TempDir()
	w, _ := mustOpen(t, dir, smallSegments)
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
	w, rp, err := wal.Open(cp, smallSegments)
	return cp, w, rp, err
}

// Claim: a last write torn at any byte (the rest of it never reached the
// disk, which reads as the zeros the segment was created with) is made
// good: the log opens to the saves before it, keeps its size, and goes on.
func TestTornLastRecordIsMadeGoodAtEveryByteAndTheLogGoesOn(t *testing.T) {
	dir, seg, want := threeRecordLog(t)
	data := readFile(t, seg)
	offs := wal.RecordOffsets(data)
	last, end := offs[len(offs)-1], recordsEnd(data)
	for cut := last; cut < end; cut++ {
		torn := zeroed(data, cut, end)
		cp, w, rp, err := openCopy(t, dir, seg, torn)
		if err != nil {
			t.Fatalf("torn at %d: Open: %v", cut, err)
		}
		want.TruncatedBytes = nonZeroEnd(torn) - last
		checkReplay(t, rp, want)
		// The log goes on from the last good record, and what it writes
		// survives.
		mustSave(t, w, raftpb.HardState{Term: 2, Commit: 4}, ents(2, 5, 5))
		mustClose(t, w)
		if got := int64(len(readFile(t, filepath.Join(cp, filepath.Base(seg))))); got != int64(len(data)) {
			t.Fatalf("torn at %d: the segment has %d bytes after repair, want its size %d", cut, got, len(data))
		}
		_, rp = mustOpen(t, cp, smallSegments)
		checkReplay(t, rp, wal.Replay{HardState: raftpb.HardState{Term: 2, Commit: 4}, Entries: concat(ents(1, 1, 4), ents(2, 5, 5))})
		if t.Failed() {
			t.Fatalf("torn at %d of %d", cut, end)
		}
	}
}

// Claim: a last record failing its checksum, with nothing after it that
// says it was synced, is a torn write.
func TestLastRecordFailingItsChecksumIsATornTail(t *testing.T) {
	dir, seg, want := threeRecordLog(t)
	data := readFile(t, seg)
	offs := wal.RecordOffsets(data)
	last, end := offs[len(offs)-1], recordsEnd(data)
	_, w, rp, err := openCopy(t, dir, seg, flipped(data, int(end-1)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	want.TruncatedBytes = end - last
	checkReplay(t, rp, want)
	mustClose(t, w)
}

// Claim: bytes of an unsynced write that reached the disk while an
// earlier part of it did not (the cache writes pages back in any order)
// are a torn tail, zeroed, not damage.
func TestStrayBytesAfterTheLastRecordAreATornTail(t *testing.T) {
	dir, seg, _ := threeRecordLog(t)
	data := readFile(t, seg)
	end := recordsEnd(data)
	stray := bytes.Clone(data)
	copy(stray[end+600:], "a page of a write whose first page was lost")
	cp, w, rp, err := openCopy(t, dir, seg, stray)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	checkReplay(t, rp, wal.Replay{HardState: raftpb.HardState{Term: 1, Commit: 2}, Entries: ents(1, 1, 7), TruncatedBytes: nonZeroEnd(stray) - end})
	mustClose(t, w)
	if got := readFile(t, filepath.Join(cp, filepath.Base(seg))); !bytes.Equal(got, data) {
		t.Errorf("the stray bytes were not zeroed")
	}
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
	// Even damage that would pass for a torn tail in the last segment is
	// lost data here: the segment was synced before the next began.
	writeFile(t, first, zeroed(data, offs[len(offs)-1]+3, recordsEnd(data)))
	_, _, err := wal.Open(dir, wal.Options{})
	var ce *wal.CorruptionError
	if !errors.As(err, &ce) || ce.File != first || ce.Offset != offs[len(offs)-1] || !errors.Is(err, raft.ErrLostLog) {
		t.Fatalf("Open = %v, want a lost-log CorruptionError at %s offset %d", err, first, offs[len(offs)-1])
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
