package snapfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tickraft/raft/tools/wal/walfs"
)

// This file holds the staging area of snapshots received in chunks.

const chunkExt = ".chunk"

// chunksDir is the directory holding one staging area per snapshot.
func (s *Store) chunksDir() string { return filepath.Join(s.dir, "chunks") }

// areaDir is the staging area of snapshot k: INDEX-TERM.
func (s *Store) areaDir(k id) string {
	return filepath.Join(s.chunksDir(), fmt.Sprintf("%016x-%016x", k.index, k.term))
}

// chunkName is the file name of chunk c.
func chunkName(c uint64) string { return fmt.Sprintf("%016x%s", c, chunkExt) }

// SaveChunk stores chunk number chunk of the snapshot at index and term,
// durably before it returns. Saving a chunk again replaces it.
func (s *Store) SaveChunk(index, term, chunk uint64, data []byte) error {
	k := id{index: index, term: term}
	s.mu.Lock()
	defer s.mu.Unlock()
	area := s.areaDir(k)
	if _, err := os.Stat(area); errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir(area, 0o755); err != nil {
			return err
		}
		if err := s.fs.SyncDir(s.chunksDir()); err != nil {
			return err
		}
	}
	return walfs.WriteAtomic(s.fs, area, chunkName(chunk), data, trailer(data))
}

// StagedChunks returns the numbers of the chunks held for the snapshot at
// index and term, in ascending order, so that a transfer cut short by a
// restart fetches only the others.
func (s *Store) StagedChunks(index, term uint64) ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	des, err := os.ReadDir(s.areaDir(id{index: index, term: term}))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var held []uint64
	for _, de := range des {
		if base, ok := strings.CutSuffix(de.Name(), chunkExt); ok {
			if c, err := strconv.ParseUint(base, 16, 64); err == nil {
				held = append(held, c)
			}
		}
	}
	slices.Sort(held)
	return held, nil
}

// NewestStaged returns the newest snapshot (highest index, then term) that
// has a staging area, and the numbers of the chunks held for it; ok is
// false when no area exists. A node hands these back to raft after a
// restart (RawNode.ResumeSnapshotFetch).
func (s *Store) NewestStaged() (index, term uint64, chunks []uint64, ok bool, err error) {
	s.mu.Lock()
	areas, err := s.stagingAreas()
	s.mu.Unlock()
	if errors.Is(err, os.ErrNotExist) || len(areas) == 0 {
		return 0, 0, nil, false, nil
	}
	if err != nil {
		return 0, 0, nil, false, err
	}
	newest := areas[0]
	for _, a := range areas[1:] {
		if a.index > newest.index || (a.index == newest.index && a.term > newest.term) {
			newest = a
		}
	}
	chunks, err = s.StagedChunks(newest.index, newest.term)
	return newest.index, newest.term, chunks, err == nil, err
}

// AssembleChunks returns the data of the snapshot at index and term,
// chunks 0 to count-1 concatenated. It returns ErrChunkMissing naming the
// first chunk not held and ErrDamaged for a chunk that fails its checksum
// (save it again to repair). The staged chunks stay until DropChunksBelow.
func (s *Store) AssembleChunks(index, term, count uint64) ([]byte, error) {
	if count == 0 {
		return nil, fmt.Errorf("%w: a snapshot has at least one chunk", ErrChunkRange)
	}
	k := id{index: index, term: term}
	s.mu.Lock()
	defer s.mu.Unlock()
	var data []byte
	for c := uint64(0); c < count; c++ {
		path := filepath.Join(s.areaDir(k), chunkName(c))
		file, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: chunk %d of %d of the snapshot at %v", ErrChunkMissing, c, count, k)
		}
		if err != nil {
			return nil, err
		}
		if !checkTrailer(file) {
			return nil, fmt.Errorf("%w: %s: checksum mismatch", ErrDamaged, path)
		}
		data = append(data, file[:len(file)-trailerSz]...)
	}
	return data, nil
}

// DropChunksBelow deletes the staging areas of the snapshots whose index is
// below index, and syncs the directory.
func (s *Store) DropChunksBelow(index uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	areas, err := s.stagingAreas()
	if err != nil {
		return err
	}
	for _, k := range areas {
		if k.index < index {
			if err := os.RemoveAll(s.areaDir(k)); err != nil {
				return err
			}
		}
	}
	return s.fs.SyncDir(s.chunksDir())
}

// stagingAreas returns the snapshots that have a staging area.
func (s *Store) stagingAreas() ([]id, error) {
	names, err := s.fs.ReadDir(s.chunksDir())
	if err != nil {
		return nil, err
	}
	var areas []id
	for _, n := range names {
		if index, term, ok := parseHexPair(n); ok {
			areas = append(areas, id{index: index, term: term})
		}
	}
	return areas, nil
}
