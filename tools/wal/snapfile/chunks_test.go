package snapfile_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tickraft/raft/tools/wal/snapfile"
)

func TestReadChunkCutsTheDataIntoRanges(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	for _, size := range []int{0, 1, 99, 100, 101, 1000} {
		sn := snap(uint64(size+1), 1, size)
		mustSave(t, s, sn)
		for _, chunkSize := range []uint64{1, 7, 100, 4096} {
			n, err := s.DataBytes(sn.Metadata.Index, 1)
			if err != nil || n != uint64(size) {
				t.Fatalf("DataBytes = %d, %v; want %d", n, err, size)
			}
			count := snapfile.ChunkCount(n, chunkSize)
			var joined []byte
			for c := uint64(0); c < count; c++ {
				chunk, err := s.ReadChunk(sn.Metadata.Index, 1, c, chunkSize)
				if err != nil {
					t.Fatalf("size %d chunk %d of %d: %v", size, c, chunkSize, err)
				}
				if c+1 < count && uint64(len(chunk)) != chunkSize {
					t.Fatalf("size %d: chunk %d has %d bytes, want %d", size, c, len(chunk), chunkSize)
				}
				joined = append(joined, chunk...)
			}
			if !bytes.Equal(joined, sn.Data) {
				t.Fatalf("size %d chunk size %d: chunks do not add up to the data", size, chunkSize)
			}
			if _, err := s.ReadChunk(sn.Metadata.Index, 1, count, chunkSize); !errors.Is(err, snapfile.ErrChunkRange) {
				t.Fatalf("size %d: chunk %d past the end = %v, want ErrChunkRange", size, count, err)
			}
		}
	}
}

func TestReadChunkOfASnapshotNotHeldIsTyped(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	mustSave(t, s, snap(10, 2, 10))
	if _, err := s.ReadChunk(11, 2, 0, 4); !errors.Is(err, snapfile.ErrNoSnapshot) {
		t.Errorf("ReadChunk of index 11 = %v, want ErrNoSnapshot", err)
	}
	if _, err := s.ReadChunk(10, 2, 0, 0); !errors.Is(err, snapfile.ErrChunkRange) {
		t.Errorf("ReadChunk with chunk size 0 = %v, want ErrChunkRange", err)
	}
	if err := s.DeleteBefore(11); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadChunk(10, 2, 0, 4); !errors.Is(err, snapfile.ErrNoSnapshot) {
		t.Errorf("ReadChunk of a deleted snapshot = %v, want ErrNoSnapshot", err)
	}
}

func TestChunksStagedOutOfOrderAssembleAfterARestart(t *testing.T) {
	src, dst := mustOpen(t, t.TempDir()), t.TempDir()
	sn := snap(30, 4, 1000)
	mustSave(t, src, sn)
	const chunkSize = 64
	count := snapfile.ChunkCount(uint64(len(sn.Data)), chunkSize)
	recv := mustOpen(t, dst)
	// Half the chunks arrive, in reverse order, then the node restarts.
	for c := count - 1; c >= count/2; c-- {
		saveChunkFrom(t, src, recv, c, chunkSize)
	}
	if _, err := recv.AssembleChunks(30, 4, count); !errors.Is(err, snapfile.ErrChunkMissing) {
		t.Fatalf("AssembleChunks with half the chunks = %v, want ErrChunkMissing", err)
	}
	recv = mustOpen(t, dst)
	held, err := recv.StagedChunks(30, 4)
	if err != nil || uint64(len(held)) != count-count/2 || held[0] != count/2 {
		t.Fatalf("StagedChunks after restart = %v, %v; want %d..%d", held, err, count/2, count-1)
	}
	for c := uint64(0); c < count/2; c++ {
		saveChunkFrom(t, src, recv, c, chunkSize)
	}
	data, err := recv.AssembleChunks(30, 4, count)
	if err != nil || !bytes.Equal(data, sn.Data) {
		t.Fatalf("AssembleChunks = %d bytes, %v; want the snapshot's %d bytes", len(data), err, len(sn.Data))
	}
}

// saveChunkFrom copies chunk c from one store to another.
func saveChunkFrom(t *testing.T, src, dst *snapfile.Store, c, chunkSize uint64) {
	t.Helper()
	chunk, err := src.ReadChunk(30, 4, c, chunkSize)
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.SaveChunk(30, 4, c, chunk); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedChunkIsReportedAndRepairedBySavingItAgain(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	for c, part := range []string{"abc", "def"} {
		if err := s.SaveChunk(7, 1, uint64(c), []byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "chunks", "0000000000000007-0000000000000001", "0000000000000001.chunk")
	if err := os.WriteFile(path, []byte("dxf\x00\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AssembleChunks(7, 1, 2); !errors.Is(err, snapfile.ErrDamaged) {
		t.Fatalf("AssembleChunks with a damaged chunk = %v, want ErrDamaged", err)
	}
	if err := s.SaveChunk(7, 1, 1, []byte("def")); err != nil {
		t.Fatal(err)
	}
	if data, err := s.AssembleChunks(7, 1, 2); err != nil || string(data) != "abcdef" {
		t.Fatalf("AssembleChunks = %q, %v; want \"abcdef\"", data, err)
	}
}

func TestDropChunksBelowKeepsNewerStagingAreas(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	for _, index := range []uint64{5, 9, 12} {
		if err := s.SaveChunk(index, 1, 0, []byte{byte(index)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DropChunksBelow(9); err != nil {
		t.Fatal(err)
	}
	for index, want := range map[uint64]int{5: 0, 9: 1, 12: 1} {
		held, err := s.StagedChunks(index, 1)
		if err != nil || len(held) != want {
			t.Errorf("index %d: StagedChunks = %v, %v; want %d chunks", index, held, err, want)
		}
	}
	if _, err := s.AssembleChunks(5, 1, 1); !errors.Is(err, snapfile.ErrChunkMissing) {
		t.Errorf("AssembleChunks of a dropped area = %v, want ErrChunkMissing", err)
	}
}

// TestNewestStagedNamesTheNewestTransferAndItsChunks: after a restart the
// store names the newest snapshot it staged chunks for, and which, so the
// node can hand them back to raft; a store with nothing staged says so.
func TestNewestStagedNamesTheNewestTransferAndItsChunks(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	if _, _, _, ok, err := s.NewestStaged(); ok || err != nil {
		t.Fatalf("an empty store names a staged snapshot (ok=%t, %v)", ok, err)
	}
	for _, c := range []struct{ index, term, chunk uint64 }{{10, 2, 0}, {20, 3, 4}, {20, 3, 1}, {20, 2, 0}} {
		if err := s.SaveChunk(c.index, c.term, c.chunk, []byte("data")); err != nil {
			t.Fatal(err)
		}
	}
	s = mustOpen(t, dir)
	index, term, chunks, ok, err := s.NewestStaged()
	if !ok || err != nil || index != 20 || term != 3 || len(chunks) != 2 || chunks[0] != 1 || chunks[1] != 4 {
		t.Fatalf("newest staged: %d/%d %v (ok=%t, %v), want 3/20 [1 4]", term, index, chunks, ok, err)
	}
}
