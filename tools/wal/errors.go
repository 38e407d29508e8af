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
	// Group is the Raft group whose records hold the damage (in a log of
	// one group, Options.GroupID), unless EveryGroup is set.
	Group uint64
	// EveryGroup reports, for a log shared by many groups (OpenShared),
	// that the damage is not within one group's records (a segment missing
	// or cut short, a record whose stamp cannot be read): every group of
	// the log may have lost data.
	EveryGroup bool
}

// Error returns "wal: corrupt log: FILE at offset N: REASON", with
// " (group G)" or " (every group)" after N when the damage is known to
// concern one group other than group 0, or every group of a shared log.
func (e *CorruptionError) Error() string {
	var group string
	switch {
	case e.EveryGroup:
		group = " (every group)"
	case e.Group != 0:
		group = fmt.Sprintf(" (group %d)", e.Group)
	}
	return fmt.Sprintf("%v: %s at offset %d%s: %s", ErrCorrupt, e.File, e.Offset, group, e.Reason)
}

// everyGroup marks e as damage that is not within one group's records:
// in a shared log it concerns every group, in a log of one group that
// group. It returns e.
func (w *WAL) everyGroup(e *CorruptionError) *CorruptionError {
	if w.shared {
		e.EveryGroup = true
	} else {
		e.Group = w.opts.GroupID
	}
	return e
}

// Is reports whether target is ErrCorrupt, or raft.ErrLostLog when the
// damage lost synced data, so that errors.Is(err, ErrCorrupt) holds for
// every CorruptionError.
func (e *CorruptionError) Is(target error) bool {
	return target == ErrCorrupt || (e.Lost && target == raft.ErrLostLog)
}
