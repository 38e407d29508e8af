// Package wal is tickraft's write-ahead log: the entries, hard state and
// snapshots a Raft node must find again after a crash, kept in files in
// one directory, with a ready-made raft.Storage on top (Storage).
//
// It is supported API: it changes like the root package (see
// "Compatibility" in README.md), and its on-disk format is a persisted
// format: a release reads what the previous one wrote, and a format
// change bumps FormatVersion and is listed in CHANGELOG.md. It is built on
// the standard library and the library's own packages. It does I/O and
// nothing else: it starts no goroutines and reads no clock (but for
// Options.ObserveSync).
//
// # Use
//
// Most embedders use Storage, which holds a node's log (DIR/wal) and
// snapshots (DIR/snap, package snapfile) and serves the node:
//
//	st, err := wal.OpenStorage(dir, wal.Options{})
//	if new cluster && first start { st.Bootstrap(raftpb.ConfState{Voters: ids}) }
//	snap, _ := st.Snapshot() // restore the state machine from snap.Data
//	rn, err := raft.NewRawNode(&raft.Config{ID: id, Storage: st, Applied: snap.Metadata.Index})
//	for each Ready rd: st.Save(rd) // before MessagesAfterPersist and Advance
//	after applying through index i: st.Compact(i, confState, stateAt(i))
//
// The WAL type beneath it is for loops that keep their own raft.Storage
// (the example server, tools/kvexample, keeps a raft.MemoryStorage and
// snapshots received in chunks): Open returns the log with a Replay of
// what it held; Save writes each Ready's entries and hard state;
// SaveSnapshot a snapshot marker once the snapshot's file (snapfile) is
// durable; ReleaseTo deletes the segments a snapshot covers.
//
// # Use for many groups
//
// A process that runs many Raft groups (keys sharded over groups, each
// replicated on the same processes) shares one log among them, so that
// the groups' writes cost one sync together instead of one each.
// SharedStorage is the ready-made form, Storage for many groups: one
// shared log in DIR/wal, each group's snapshots in DIR/snap/GROUP, and a
// raft.Storage per group:
//
//	st, err := wal.OpenSharedStorage(dir, wal.Options{})
//	g, err := st.Group(id) // a raft.Storage; Bootstrap, Compact, Loss as for Storage
//	each turn: st.Save([]wal.GroupReady{{Group: id1, Ready: rd1}, {Group: id2, Ready: rd2}, ...})
//	    // one write and one sync for every group's Ready; then send and Advance
//
// The SharedLog beneath it is for loops that keep their own storage per
// group:
//
//	log, rp, err := wal.OpenShared(dir, wal.Options{})
//	for each group g: restore g's storage from rp.Group(g) as from a Replay
//	    (its snapshot file, kept per group with snapfile, then HardState and Entries)
//	each turn: log.Save([]wal.Update{{Group: g1, Entries: rd1.Entries, HardState: rd1.HardState}, ...}, true)
//	    // one write and one sync for every group's Ready; then send and Advance
//	after group g's snapshot at i is durable: log.SaveSnapshot(g, meta); log.ReleaseTo(g, i)
//
// SharedLog.Group(g) is a view of the log with the methods of a WAL (Save,
// SaveSnapshot, ReleaseTo, Sync), for a loop written against a WAL:
// several groups' Saves without sync followed by one Sync also cost one
// sync. Each group recovers on its own: its Replay holds its own hard
// state, snapshot marker and entries (a new leader's entries replacing
// its tail, as in a log of one group), and every loss Open detects in a
// log of one group is detected in each group's records, reported as a
// *CorruptionError naming the file and the group (CorruptionError.Group),
// or every group (CorruptionError.EveryGroup) when the damage lies
// outside any one group's records, such as a segment cut short.
//
// Compaction is per group and never rewrites a segment: ReleaseTo(g, i)
// says that group g needs none of its entries up to i, and a segment is
// deleted only once no group needs a record in it, the oldest segment
// kept being the oldest that some group still needs. So a lagging group
// costs disk: a group that neither snapshots nor releases pins every
// segment written since its oldest entry that is still in its log, the
// other groups' records in them included, and the log grows with the
// busiest group's writes until it releases. A host avoids it by taking a
// snapshot of every group now and then (by entries applied, and by the
// age of its oldest entry, so that an idle group with a short log is
// snapshotted too) and releasing up to it; SharedLog.Pinning names the
// groups that keep the oldest segment, with the index each must release. What a group released is not written
// down: OpenShared releases every group up to its snapshot marker (the
// group's Replay starts after it; the segments that frees go at the next
// release of any group), having synced what it read so that the markers
// it relies on are durable.
//
// A process whose replica of a group was removed from the group's
// configuration drops the group (SharedLog.Drop, SharedStorage.Drop): its
// state goes, and it pins no segment, but its term and vote stay for
// good, as the group's tombstone, so that a replica added back later
// under the same ID never votes twice in a term (§5.2). A later save of
// the group starts it afresh from an empty log; a hard state below the
// tombstone is refused (ErrStaleHardState). OpenShared reports dropped
// groups in SharedReplay.Dropped, and every segment head restates each
// tombstone, so that it outlives the segment holding the drop.
//
// # The write order
//
// One Save is one write, records in the order of the persistence contract:
// a snapshot marker, then the entries, then the hard state, so that the
// hard state is never durable before the entries and snapshot of its
// Ready. A crash keeps a prefix of what was written and not synced, never
// a later record without an earlier one (see Recovery), so a persisted
// commit index past the log always means synced data was lost. Save syncs
// only when asked (one sync for the whole Ready); SaveSnapshot always
// does.
//
// # Files
//
// DIR/LOCK is held with flock while the log is open. Segments are named
// SEQ-FIRSTINDEX.wal, both numbers as 16 hexadecimal digits: SEQ counts
// segments up from 1 with no gap, FIRSTINDEX is one past the log's last
// index when the segment was started (every entry of an older segment
// that is still in the log has a smaller index, which is what ReleaseTo
// relies on). In a shared log, where that index is each group's, they are
// named SEQ-shared.wal and each group's first index is in the segment,
// in the group records after its head (see Records); a directory holds
// one kind of log, and opening it as the other fails with ErrVersion. A segment is created at its full size, Options.SegmentBytes
// reserved on disk (fallocate), as NAME.tmp, synced, renamed into place
// and the directory synced, so it exists with its whole head and size or
// not at all; writes then fill it without changing its size, so that a
// sync flushes data alone (fdatasync), not a growing file's metadata. A
// Save that does not fit in what is left rolls over: it syncs this
// segment, creates the next, then writes a seal naming the next at the end
// of this one and syncs it (four syncs); a crash before the seal is
// durable leaves a new segment holding only its head, which Open removes.
// DIR/SEGMENTS, the manifest, names the run of segments that must exist as
// of the last open or release; it is replaced (temporary file, sync,
// rename, directory sync) then, not at rollovers, where the seals chain
// the segments.
//
// # Records
//
// A segment is a sequence of records, each a 16-byte header followed by
// its payload:
//
//	0  uint32  payload length (little endian), at most MaxRecordBytes
//	4  uint8   type: 1 entries, 2 hard state, 3 snapshot marker, 4 segment head, 5 seal, 6 group, 7 drop
//	5  [3]byte zero
//	8  uint32  CRC-32C (Castagnoli) of bytes 0..7
//	12 uint32  CRC-32C of the type byte followed by the payload
//
// The first record of a segment is its head: unsigned varints of the
// format version, the group ID (Options.GroupID), the sequence number and
// first index of its name, the offset where the previous segment's
// records end, the size the segment was created with, and, from version 2
// on, flags (1: the segment belongs to a shared log, whose heads carry
// group 0 and first index 0). It is followed by the hard state and
// snapshot marker in force when the segment was created, so that deleting
// older segments loses only entries; in a shared log, for every group it
// holds (in increasing order of group ID), a group record (type 6: the
// group's first index in the segment, one past its last index then),
// then that group's hard state and snapshot marker, each preceded by the
// group's tombstone when it was ever dropped (a drop record with the
// restated flag), and a tombstone alone for a group dropped and not saved
// since. A log of one group is
// written in version 1, the format before shared logs; a shared log in
// version 2 (FormatVersion). A seal, the last record of every segment but the newest,
// holds the next segment's sequence number. Every record but a head
// starts its payload with a stamp, two unsigned varints: the group ID (in
// a shared log, the group the record belongs to; zero in a seal, which
// belongs to none), and how many bytes of the segment were synced before
// the write that carries the record began. One Save of a shared log
// writes each update's records in turn, in the order of the batch.
//
// After the stamp: an entries record holds a batch of entries with
// consecutive indexes, each as an unsigned varint length and the entry's
// raftpb encoding; on replay it replaces the log from its first index on,
// as a follower's log is overwritten. A hard state record holds a
// raftpb.HardState encoding. A snapshot marker holds a flags byte and a
// raftpb.SnapshotMetadata encoding; the flag says whether the snapshot
// matched the log (its index held with its term), in which case the
// entries after it stay, or not, in which case it replaced the whole log
// (§7 of the Raft paper). A marker at index 0 carries a new cluster's
// first configuration (Storage.Bootstrap). A drop record (shared log
// only) holds a flags byte and a raftpb.HardState encoding of the term and
// vote kept (its commit is zero): without flags it drops the group, whose
// records before it no longer count and whose next record starts it
// afresh from that term and vote; with the restated flag (1), in a
// segment head, it restates the tombstone and leaves the group's state as
// it is.
//
// # Recovery
//
// Open reads every segment in order. What a crash can leave is bounded by
// what was not synced: the bytes of the last segment after its last sync,
// each of which may hold what was written, or zero (never written), in any
// mix (a page cache writes pages back in any order). Open therefore reads
// records up to the first that fails a check and, in the last segment,
// treats that failure as a torn write unless an intact record after it
// carries a stamp saying the failing bytes were synced: then they were
// acknowledged, and their loss is an error. A torn tail is zeroed and
// synced before anything new is written; Replay.TruncatedBytes says how
// much went.
//
// Open does not read the whole preallocated rest of the last segment. A
// segment never holds more than 4 MiB written past its last sync: a write
// that would end further than that past the last sync syncs first, and a
// longer one goes in pieces with a sync between them. Say the last sync
// that completed ended at D. Every byte past D that a crash can leave
// written then lies before D+4 MiB; and the records before D are intact,
// so the records Open can follow (each header has its own checksum and
// gives the next one's place) reach at least D. Open therefore follows the
// headers and reads 4 MiB past the last it can follow: nothing a crash
// wrote lies further, so every byte of a torn tail is seen and zeroed, and
// every record that could prove a damaged one synced is within reach when
// the damage is a crash's. Damage that is not a crash's (bytes of synced
// records lost) is proven only by a record within 4 MiB of the last
// header Open can follow.
//
// Every loss of synced data Open can see is a *CorruptionError naming the
// file (and the offset) and matching raft.ErrLostLog: a segment missing
// (the newest too: the seal before it or the manifest names it), a segment
// shorter than it was created (cut short), a segment before the last whose
// records end before the offset the next segment's head says it was
// synced to, a damaged record that a later one says was synced or that
// lies in a segment before the last, and a hard state whose commit index
// lies past the log. Other damage (an unknown record type, a record of
// another group) matches ErrCorrupt. In a shared log the checks of a
// group's records (a hole in its entries, a commit index past its log, a
// record that does not decode) are made group by group and name the
// group; the others name every group. Open never drops data it cannot
// prove was torn, and never changes a log it refuses.
//
// What it cannot see: the loss of the last synced write of the last
// segment when nothing written after it survived (it looks exactly like a
// write torn by a crash), and synced records overwritten with zeros at the
// end of the last segment. Seeing those would take a record of the synced
// length outside the segment, made durable by a second sync on every Save;
// the stamps and the segments' fixed sizes see every other loss at no
// cost. The operator of a node that loses data Open can see chooses: stop,
// or open with Options.AcceptLoss and boot the node in recovering mode
// (raft.Config.Recovering), which is safe only if the hard state (term and
// vote) survived; otherwise remove the member and add it back under a new
// ID.
//
// A write or sync failure is sticky: the state of the file is then
// unknown, and every later call returns the error.
package wal
