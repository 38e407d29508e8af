package snapfile

import "errors"

var (
	// ErrNoSnapshot reports that the store holds no snapshot at all, or
	// none at the index and term asked for.
	ErrNoSnapshot = errors.New("snapfile: no such snapshot")
	// ErrDamaged reports a snapshot or chunk file that fails its checks.
	ErrDamaged = errors.New("snapfile: damaged file")
	// ErrChunkMissing reports that AssembleChunks lacks a chunk.
	ErrChunkMissing = errors.New("snapfile: chunk missing")
	// ErrChunkRange reports a chunk that starts past the end of the
	// snapshot's data, or a chunk size of zero.
	ErrChunkRange = errors.New("snapfile: chunk out of range")
)
