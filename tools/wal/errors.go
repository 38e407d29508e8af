package wal

import (
	"errors"
	"fmt"
)

// ErrCorrupt is matched (with errors.Is) by every *CorruptionError: the log
// on disk holds a damaged record somewhere other than its very tail, and
// Open refuses to guess what the damage destroyed.
var ErrCorrupt = errors.New("wal: corrupt log")

// ErrClosed is returned by the methods of a WAL after Close.
var ErrClosed = errors.New("wal: closed")

// CorruptionError names the place where Open found damage it must not
// repair by itself: a record that fails its checks and is followed by more
// data, any damage in a segment other than the last, a missing segment, or
// records that contradict each other. Only a torn tail is repaired.
type CorruptionError struct {
	// File is the path of the segment holding the damage.
	File string
	// Offset is the byte offset, within File, of the record that fails.
	Offset int64
	// Reason says what check failed.
	Reason string
}

// Error returns "wal: corrupt log: FILE at offset N: REASON".
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("%v: %s at offset %d: %s", ErrCorrupt, e.File, e.Offset, e.Reason)
}

// Is reports whether target is ErrCorrupt, so that errors.Is(err, ErrCorrupt)
// holds for every CorruptionError.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }
