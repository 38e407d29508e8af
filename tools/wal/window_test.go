package wal_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// Claim: Open looks as far past damage in the last segment as a crash can
// have written (wal.UnsyncedBytes past the records it can follow), so a
// record near that bound that says the damaged bytes were synced still
// proves them lost.
func TestOpenLooksForProofOfLossAsFarAsACrashCanWrite(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, wal.Options{})
	hs := raftpb.HardState{Term: 1, Commit: 1}
	mustSave(t, w, hs, ents(1, 1, 1))
	mustSave(t, w, hs, ents(1, 2, 2)) // synced: the damage goes here
	// A large unsynced write, then a small synced one whose stamp says
	// the second save was synced; it ends just short of the bound.
	big := raftpb.Entry{Term: 1, Index: 3, Data: bytes.Repeat([]byte{'x'}, wal.UnsyncedBytes-64<<10)}
	if err := w.Save(hs, []raftpb.Entry{big}, false); err != nil {
		t.Fatal(err)
	}
	mustSave(t, w, hs, ents(1, 4, 4))
	mustClose(t, w)
	seg := filepath.Join(dir, segments(t, dir)[0])
	data := readFile(t, seg)
	offs := wal.RecordOffsets(data)
	victim, witness := offs[len(offs)-3], offs[len(offs)-1]
	if end := witness + wal.RecordSize(data, witness); end > victim+wal.UnsyncedBytes {
		t.Fatalf("the witness ends at %d, past the bound %d: the test does not aim where it means to", end, victim+wal.UnsyncedBytes)
	}
	_, _, _, err := openCopy(t, dir, seg, zeroed(data, victim, witness))
	var ce *wal.CorruptionError
	if !errors.As(err, &ce) || ce.Offset != victim || !errors.Is(err, raft.ErrLostLog) {
		t.Fatalf("Open = %v, want a lost-log CorruptionError at offset %d", err, victim)
	}
}

// Claim: however much is saved without a sync, the disk (the page-cache
// model) never holds anything written further than wal.UnsyncedBytes past
// what is durable, which is what lets Open stop reading there.
func TestUnsyncedBytesNeverReachPastTheBound(t *testing.T) {
	fs := newCrashFS()
	w, _ := mustOpen(t, "/d", wal.Options{FS: fs, SegmentBytes: 16 << 20})
	hs := raftpb.HardState{Term: 1}
	data := bytes.Repeat([]byte{'y'}, 300<<10)
	for i := uint64(1); i <= 3*wal.UnsyncedBytes/(300<<10); i++ {
		// One Save larger than the bound on its own, too.
		es := []raftpb.Entry{{Term: 1, Index: i, Data: data}}
		if i == 5 {
			es[0].Data = bytes.Repeat([]byte{'z'}, wal.UnsyncedBytes+(100<<10))
		}
		if err := w.Save(hs, es, false); err != nil {
			t.Fatal(err)
		}
		for name, ino := range fs.dir("/d").cache {
			durable := 0
			for durable < len(ino.cache) && durable < len(ino.durable) && ino.cache[durable] == ino.durable[durable] {
				durable++
			}
			if past := nonZeroEnd(ino.cache) - int64(durable); past > wal.UnsyncedBytes {
				t.Fatalf("after save %d, %s holds %d bytes written past what is durable, more than %d", i, name, past, wal.UnsyncedBytes)
			}
		}
	}
	mustClose(t, w)
}
