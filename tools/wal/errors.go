package wal

import (
	"errors"
	"fmt"

	raft "github.com/tickraft/raft"
)

// ErrCorrupt is matched (with errors.Is) by every *CorruptionError: the log
// on disk is damaged somewhere other than in what a crash can tear, and
// Open refuses to guess what the damage destroyed.
var ErrCorrupt = errors.New("wal: corrupt log")

// ErrClosed is returned by the methods of a WAL after Close.
var ErrClosed = errors.New("wal: closed")

// ErrVersion is matched by the error of Open on a segment written in a
// format version this package does not read (see FormatVersion), and on a
// log that belongs to another Raft group than Options.GroupID.
var ErrVersion = errors.New("wal: unsupported log")

// ErrLocked is matched by the error of Open on a directory another WAL,
// in this process or another, holds open.
var ErrLocked = errors.New("wal: the log directory is in use")

// CorruptionError names the place where Open found damage it must not
// repair by itself: a record that fails its checks where a crash cannot
// have torn it, a segment missing or cut short, records that contradict
// each other, a hard state whose commit index lies past the log.
type CorruptionError struct {
	// File is the path of the file holding the damage (a segment, or the
	// segment manifest).
	File string
	// Offset is the byte offset, within File, of the record that fails.
	Offset int64
	// Reason says what check failed.
	Reason string
	// Lost reports whether the damage destroyed data that was synced, and
	// so acknowledged: the error then also matches raft.ErrLostLog.
	Lost bool
}

// Error returns "wal: corrupt log: FILE at offset N: REASON".
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("%v: %s at offset %d: %s", ErrCorrupt, e.File, e.Offset, e.Reason)
}

// Is reports whether target is ErrCorrupt, or raft.ErrLostLog when the
// damage lost synced data, so that errors.Is(err, ErrCorrupt) holds for
// every CorruptionError.
func (e *CorruptionError) Is(target error) bool {
	return target == ErrCorrupt || (e.Lost && target == raft.ErrLostLog)
}
