// Command waldump prints what a tickraft write-ahead log (package
// tools/wal) holds, without changing it: its segments, every record (hard
// states, snapshot markers, entries) in the notation of the library's
// transcripts (raftpb's String forms), the state a node would boot from,
// and the snapshot files beside the log.
//
//	go run ./tools/waldump DIR
//	go run ./tools/waldump -group G DIR
//	go run ./tools/waldump -verify DIR
//
// DIR is a log directory (holding *.wal segments), or a directory holding
// one as DIR/wal with snapshots in DIR/snap: a wal.Storage's directory or
// the example server's -data directory.
//
// A log shared by many groups (wal.OpenShared, segments named
// SEQ-shared.wal) is listed record by record, each with its group, and
// summed up group by group: one state line per group, a group dropped
// from the process (wal.SharedLog.Drop) as dropped with the term and vote
// its tombstone keeps. With -group G only
// group G's records (and the segment heads and seals) are listed, and its
// state alone.
//
// With -verify it checks every record's checksums, every segment's size
// and the synced length the next segment's head records for it, and every
// snapshot file's checksum; it prints the first damage with its file and
// offset and exits with status 1, or prints "ok" and exits 0. A damaged
// tail of the last segment that no later record says was synced is a
// write torn by a crash: it is reported, and Open makes it good.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
	"github.com/tickraft/raft/tools/wal/snapfile"
)

func main() {
	verify := flag.Bool("verify", false, "check every checksum and print the first damage")
	var only *uint64
	flag.Func("group", "list only this group's records and state (a shared log's)", func(v string) error {
		g, err := strconv.ParseUint(v, 10, 64)
		only = &g
		return err
	})
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: waldump [-verify] [-group G] DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(runGroup(os.Stdout, flag.Arg(0), *verify, only))
}

// run dumps or verifies dir, every group, and returns the exit status.
func run(out io.Writer, dir string, verify bool) int { return runGroup(out, dir, verify, nil) }

// runGroup dumps (group's records alone when group is not nil) or
// verifies dir and returns the exit status.
func runGroup(out io.Writer, dir string, verify bool, group *uint64) int {
	walDir, snapDir := locate(dir)
	segs, err := wal.Inspect(nil, walDir)
	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	if len(segs) == 0 {
		fmt.Fprintf(out, "error: no segment in %s\n", walDir)
		return 1
	}
	if verify {
		return verifyLog(out, segs, snapDir)
	}
	dump(out, segs, snapDir, group)
	return 0
}

// locate returns the log's directory and the snapshots' directory ("" when
// there is none) for the directory the user named.
func locate(dir string) (walDir, snapDir string) {
	if fi, err := os.Stat(filepath.Join(dir, "wal")); err == nil && fi.IsDir() {
		return filepath.Join(dir, "wal"), filepath.Join(dir, "snap")
	}
	return dir, ""
}

// dump prints every segment and record (only group's, and the heads and
// seals, when group is not nil), the state they add up to (for each
// group of a shared log), and the snapshot files.
func dump(out io.Writer, segs []wal.SegmentInfo, snapDir string, group *uint64) {
	states := map[uint64]*replayState{}
	shared := false
	for _, s := range segs {
		shared = shared || s.Shared
		if s.Shared {
			fmt.Fprintf(out, "segment %s: seq %d, shared by many groups, format version %d, %d bytes (created with %d), records end at %d, previous segment synced to %d\n",
				filepath.Base(s.Path), s.Seq, s.Version, s.Size, s.Created, s.RecordsEnd, s.PrevEnd)
		} else {
			fmt.Fprintf(out, "segment %s: seq %d, first index %d, format version %d, group %d, %d bytes (created with %d), records end at %d, previous segment synced to %d\n",
				filepath.Base(s.Path), s.Seq, s.FirstIndex, s.Version, s.Group, s.Size, s.Created, s.RecordsEnd, s.PrevEnd)
		}
		for _, r := range s.Records {
			data := !r.Head && r.Seal == 0
			if data && group != nil && r.Group != *group {
				continue
			}
			fmt.Fprintf(out, "  @%d %s\n", r.Offset, describe(r))
			if data {
				key := r.Group
				if !s.Shared {
					key = 0 // a log of one group sums up all its records
				}
				if states[key] == nil {
					states[key] = &replayState{}
				}
				states[key].apply(r)
			}
		}
		if s.Damage != "" {
			fmt.Fprintf(out, "  @%d damage: %s\n", s.RecordsEnd, s.Damage)
		}
	}
	printStates(out, states, shared)
	if snapDir == "" {
		return
	}
	names := snapFiles(snapDir)
	for _, n := range names {
		snap, err := snapfile.ReadFile(n)
		if err != nil {
			fmt.Fprintf(out, "snapshot file %s: %v\n", snapName(snapDir, n), err)
			continue
		}
		fmt.Fprintf(out, "snapshot file %s: %s\n", snapName(snapDir, n), snap)
	}
}

// printStates prints the state the records add up to: one line for a log
// of one group, one per group, in order, for a shared log.
func printStates(out io.Writer, states map[uint64]*replayState, shared bool) {
	if !shared {
		state := states[0]
		if state == nil {
			state = &replayState{}
		}
		fmt.Fprintf(out, "state: hard state %s; snapshot %s; entries %s\n",
			state.hs, raftpb.Snapshot{Metadata: state.snap}, state.entries())
		return
	}
	for _, id := range slices.Sorted(maps.Keys(states)) {
		st := states[id]
		if st.dropped {
			fmt.Fprintf(out, "state of group %d: dropped, term %d and vote %d kept\n", id, st.tomb.Term, st.tomb.Vote)
			continue
		}
		fmt.Fprintf(out, "state of group %d: hard state %s; snapshot %s; entries %s\n",
			id, st.hs, raftpb.Snapshot{Metadata: st.snap}, st.entries())
	}
}

// snapName returns a snapshot file's path under snapDir (GROUP/NAME for
// a group's).
func snapName(snapDir, path string) string {
	if rel, err := filepath.Rel(snapDir, path); err == nil {
		return rel
	}
	return filepath.Base(path)
}

// snapFiles returns the snapshot files in snapDir and, for a storage of
// many groups (wal.SharedStorage), in its per-group directories.
func snapFiles(snapDir string) []string {
	names, _ := filepath.Glob(filepath.Join(snapDir, "*.snap"))
	perGroup, _ := filepath.Glob(filepath.Join(snapDir, "*", "*.snap"))
	return append(names, perGroup...)
}

// describe returns a record's one-line form.
func describe(r wal.RecordInfo) string {
	var s string
	switch {
	case r.Head:
		return "segment head"
	case r.Seal != 0:
		s = fmt.Sprintf("seal: continued in segment %d", r.Seal)
	case r.GroupFirst != 0:
		s = fmt.Sprintf("group record: first index %d in this segment", r.GroupFirst)
	case r.Tombstone != nil && r.Restated:
		s = fmt.Sprintf("tombstone (restated): dropped with term %d, vote %d", r.Tombstone.Term, r.Tombstone.Vote)
	case r.Tombstone != nil:
		s = fmt.Sprintf("drop: the group's state is deleted, its term %d and vote %d kept", r.Tombstone.Term, r.Tombstone.Vote)
	case r.HardState != nil:
		s = "hard state " + r.HardState.String()
	case r.Snapshot != nil:
		s = "snapshot " + raftpb.Snapshot{Metadata: *r.Snapshot}.String()
		if r.KeepsLog {
			s += " (keeps the entries after it)"
		} else {
			s += " (replaces the log)"
		}
	default:
		s = "entries " + raftpb.DescribeEntries(r.Entries)
	}
	s += fmt.Sprintf(" [group %d, synced %d]", r.Group, r.Synced)
	if r.Err != nil {
		s += " error: " + r.Err.Error()
	}
	return s
}

// replayState folds records the way Open does, for the summary line: an
// entries record replaces the log from its first index, a marker that does
// not keep the log empties it.
type replayState struct {
	hs   raftpb.HardState
	snap raftpb.SnapshotMetadata
	ents []raftpb.Entry
	// tomb is the group's last tombstone (a shared log's), and dropped
	// reports whether no record of the group followed its last drop.
	tomb    *raftpb.HardState
	dropped bool
	// seen reports whether a record other than a tombstone was read.
	seen bool
}

// apply folds one record in: a drop empties the group, whose next record
// starts it again from the tombstone's term and vote.
func (st *replayState) apply(r wal.RecordInfo) {
	if r.Tombstone != nil {
		st.tomb = r.Tombstone
		if !r.Restated || !st.seen {
			// A restated tombstone before any record of its group: the
			// drop itself lies in a deleted segment.
			*st = replayState{tomb: r.Tombstone, dropped: true}
		}
		return
	}
	st.seen = true
	if st.dropped {
		st.dropped, st.hs = false, *st.tomb
	}
	switch {
	case r.HardState != nil:
		st.hs = *r.HardState
	case r.Snapshot != nil:
		st.snap = *r.Snapshot
		kept := st.ents[:0:0]
		for _, e := range st.ents {
			if r.KeepsLog && e.Index > r.Snapshot.Index {
				kept = append(kept, e)
			}
		}
		st.ents = kept
	case len(r.Entries) > 0:
		first := r.Entries[0].Index
		keep := 0
		for keep < len(st.ents) && st.ents[keep].Index < first {
			keep++
		}
		st.ents = append(st.ents[:keep:keep], r.Entries...)
	}
}

// entries returns "FIRST..LAST (N)" or "none".
func (st *replayState) entries() string {
	if len(st.ents) == 0 {
		return "none"
	}
	return fmt.Sprintf("%d..%d (%d)", st.ents[0].Index, st.ents[len(st.ents)-1].Index, len(st.ents))
}

// verifyLog checks every segment and snapshot file and prints the first
// damage.
func verifyLog(out io.Writer, segs []wal.SegmentInfo, snapDir string) int {
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case s.Size < s.Created:
			return damage(out, s.Path, s.Size, fmt.Sprintf("the file has %d bytes, but the segment was created with %d: it was cut short", s.Size, s.Created))
		case !last && segs[i+1].PrevEnd > s.RecordsEnd:
			return damage(out, s.Path, s.RecordsEnd, fmt.Sprintf("the records end at %d, but the segment was synced to %d", s.RecordsEnd, segs[i+1].PrevEnd))
		case s.Damage != "" && last && !s.SyncedPast:
			fmt.Fprintf(out, "torn tail: %s at offset %d: %s (a write a crash tore; Open makes it good)\n", s.Path, s.RecordsEnd, s.Damage)
		case s.Damage != "":
			return damage(out, s.Path, s.RecordsEnd, s.Damage)
		}
		for _, r := range s.Records {
			if r.Err != nil {
				return damage(out, s.Path, r.Offset, r.Err.Error())
			}
		}
	}
	if snapDir != "" {
		names := snapFiles(snapDir)
		for _, n := range names {
			if _, err := snapfile.ReadFile(n); err != nil {
				if errors.Is(err, snapfile.ErrDamaged) {
					return damage(out, n, 0, err.Error())
				}
				fmt.Fprintln(out, "error:", err)
				return 1
			}
		}
	}
	fmt.Fprintln(out, "ok")
	return 0
}

// damage prints the first damage found and returns the exit status.
func damage(out io.Writer, file string, offset int64, reason string) int {
	fmt.Fprintf(out, "damage: %s at offset %d: %s\n", file, offset, reason)
	return 1
}
