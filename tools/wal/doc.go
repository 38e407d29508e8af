// Package wal is the example key-value server's write-ahead log: the
// entries, hard state and snapshot markers a Raft node must find again
// after a crash, kept in segment files in one directory.
//
// It is built on the standard library and raftpb alone. It does I/O and
// nothing else: it starts no goroutines and reads no clock. The snapshots'
// data live apart from the log, in the files of package snapfile; the log
// holds only markers naming them.
//
// # Use
//
// A node opens its log once, loads what it holds into its storage, then
// writes each Ready (or each message to its append worker) through Save:
//
//	w, rp, err := wal.Open(dir, wal.Options{Logger: logger})
//	// storage.ApplySnapshot(snapshot at rp.Snapshot, data from snapfile)
//	// storage.SetHardState(rp.HardState); storage.Append(rp.Entries)
//	...
//	err = w.Save(rd.HardState, rd.Entries, rd.MustSync)
//
// After taking a snapshot at index i (or receiving one), the node writes
// its data with snapfile, then SaveSnapshot with its metadata, and may then
// call ReleaseTo(i) to delete the segments the snapshot made useless.
//
// # Files
//
// Segments are named SEQ-FIRSTINDEX.wal, both numbers as 16 hexadecimal
// digits: SEQ counts segments up from 1 with no gap, FIRSTINDEX is one past
// the log's last index when the segment was started (every entry of an
// older segment that is still in the log has a smaller index, which is
// what ReleaseTo relies on). A segment is created as NAME.tmp, synced,
// renamed into place and the directory synced, so it exists with its
// whole head or not at all; Open removes a leftover NAME.tmp. Each segment
// starts with the hard state and snapshot marker in force when it was
// created, so deleting the segments before it loses only entries.
//
// # Records
//
// A segment is a sequence of records, each a 16-byte header followed by
// its payload:
//
//	0  uint32  payload length (little endian), at most MaxRecordBytes
//	4  uint8   type: 1 entries, 2 hard state, 3 snapshot marker
//	5  [3]byte zero
//	8  uint32  CRC-32C (Castagnoli) of bytes 0..7
//	12 uint32  CRC-32C of the type byte followed by the payload
//
// An entries record holds a batch of entries with consecutive indexes, each
// as an unsigned varint length and the entry's raftpb encoding; on replay
// it replaces the log from its first index on, as a follower's log is
// overwritten. A hard state record holds a raftpb.HardState encoding. A
// snapshot marker holds a flags byte and a raftpb.SnapshotMetadata
// encoding; the flag says whether the snapshot matched the log (its index
// held with its term), in which case the entries after it stay, or not, in
// which case it replaced the whole log (§7 of the Raft paper).
//
// # Recovery
//
// Open reads every segment in order. A crash in the middle of a write can
// leave only the last segment's last record damaged, so that, and only
// that, is repaired: when the last segment ends in a record cut short (a
// short header or a short payload), or in a record whose payload fails its
// checksum and after which nothing but zero bytes follows, or in a
// zero-filled region, Open truncates the file at the end of the last good
// record, fsyncs, logs a warning and carries on; Replay.TruncatedBytes says
// how much went. What was cut had not been acknowledged: Save with sync
// returns only after the fsync. Any other failure (a bad header or payload
// checksum followed by more data, an unknown type, an impossible length,
// any damage in a segment other than the last, a missing segment, records
// that leave a hole in the log) is a *CorruptionError naming the file and
// the offset of the failing record, matched by errors.Is(err, ErrCorrupt).
// Open never drops data it cannot prove was torn.
//
// The header's own checksum is what tells the two apart: a record cut
// short by a crash still has a header that checks out (or a partial one),
// whereas a damaged length field does not, so a flipped bit in a length
// cannot make Open read good records after it as a torn tail.
//
// # Durability
//
// Save fsyncs only when asked; SaveSnapshot always does; rollover fsyncs
// the old segment before starting the new one; creating a segment fsyncs
// the file and the directory; ReleaseTo fsyncs the directory after its
// deletions. A write or fsync failure is sticky: the state of the file is
// then unknown, and every later call returns the error.
package wal
