package snapfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// This file serves a stored snapshot's data in chunks.

// ChunkCount returns the number of chunks of chunkSize bytes that carry
// dataBytes bytes: at least one, so that an empty snapshot travels as one
// empty chunk. chunkSize must not be zero.
func ChunkCount(dataBytes, chunkSize uint64) uint64 {
	if dataBytes == 0 {
		return 1
	}
	return (dataBytes-1)/chunkSize + 1
}

// DataBytes returns the length of the data of the snapshot at index and
// term, from which ChunkCount gives the number of chunks to offer.
func (s *Store) DataBytes(index, term uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.checkedLayout(id{index: index, term: term})
	return l.dataLen, err
}

// ReadChunk returns bytes [chunk*chunkSize, (chunk+1)*chunkSize) of the data
// of the snapshot at index and term, cut at the end of the data. It returns
// ErrNoSnapshot when the store does not hold that snapshot, ErrDamaged when
// its file fails its checksum (checked once per file), and ErrChunkRange
// when chunkSize is zero or chunk is not below ChunkCount.
func (s *Store) ReadChunk(index, term, chunk, chunkSize uint64) ([]byte, error) {
	if chunkSize == 0 {
		return nil, fmt.Errorf("%w: chunk size 0", ErrChunkRange)
	}
	k := id{index: index, term: term}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.checkedLayout(k)
	if err != nil {
		return nil, err
	}
	if chunk >= ChunkCount(l.dataLen, chunkSize) {
		return nil, fmt.Errorf("%w: chunk %d of %d-byte chunks of a %d-byte snapshot (%v)",
			ErrChunkRange, chunk, chunkSize, l.dataLen, k)
	}
	start := chunk * chunkSize
	buf := make([]byte, min(chunkSize, l.dataLen-start))
	f, err := os.Open(filepath.Join(s.dir, k.fileName()))
	if errors.Is(err, os.ErrNotExist) {
		delete(s.checked, k)
		return nil, fmt.Errorf("%w: %v", ErrNoSnapshot, k)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.ReadAt(buf, l.dataOffset+int64(start)); err != nil {
		return nil, fmt.Errorf("snapfile: reading chunk %d of %v: %w", chunk, k, err)
	}
	return buf, nil
}

// checkedLayout returns the layout of snapshot k's file, reading and
// checking the whole file the first time.
func (s *Store) checkedLayout(k id) (layout, error) {
	if l, ok := s.checked[k]; ok {
		return l, nil
	}
	path := filepath.Join(s.dir, k.fileName())
	file, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return layout{}, fmt.Errorf("%w: %v", ErrNoSnapshot, k)
	}
	if err != nil {
		return layout{}, err
	}
	l, err := checkFile(path, file)
	if err != nil {
		return layout{}, err
	}
	s.checked[k] = l
	return l, nil
}
