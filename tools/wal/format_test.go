package wal_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
)

// Claim: a log of one group written by the release before shared logs
// (testdata/format1: format version 1, twelve entries in two segments, a
// snapshot marker at 5, written by that release's code) opens with what
// it held, goes on being written, and does not open as a shared log.
func TestALogWrittenInFormatVersion1StillOpens(t *testing.T) {
	dir := copyDir(t, filepath.Join("testdata", "format1"))
	if _, _, err := wal.OpenShared(dir, wal.Options{SegmentBytes: 1024}); !errors.Is(err, wal.ErrVersion) {
		t.Fatalf("OpenShared on a log of one group = %v, want ErrVersion", err)
	}
	var want []raftpb.Entry
	for i := uint64(6); i <= 12; i++ {
		want = append(want, raftpb.Entry{Term: 1, Index: i, Data: []byte(fmt.Sprintf("entry %d of a log written in format version 1", i))})
	}
	w, rp := mustOpen(t, dir, wal.Options{SegmentBytes: 1024})
	checkReplay(t, rp, wal.Replay{
		Snapshot:  raftpb.SnapshotMetadata{Index: 5, Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}},
		HardState: raftpb.HardState{Term: 1, Vote: 1, Commit: 12},
		Entries:   want,
	})
	for i := uint64(13); i <= 30; i++ {
		mustSave(t, w, raftpb.HardState{Term: 1, Vote: 1, Commit: i}, ents(1, i, i))
		want = append(want, ents(1, i, i)...)
	}
	mustClose(t, w)
	_, rp = mustOpen(t, dir, wal.Options{SegmentBytes: 1024})
	if got := rp.Entries; len(got) != len(want) || got[len(got)-1].Index != 30 {
		t.Fatalf("after writing on, the log holds %d entries, want %d through 30", len(got), len(want))
	}
	segs, err := wal.Inspect(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		if s.Version != 1 || s.Shared {
			t.Errorf("%s: format version %d, shared %v; a log of one group stays in version 1", s.Path, s.Version, s.Shared)
		}
	}
}
