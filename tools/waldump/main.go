// Command waldump prints what a tickraft write-ahead log (package
// tools/wal) holds, without changing it: its segments, every record (hard
// states, snapshot markers, entries) in the notation of the library's
// transcripts (raftpb's String forms), the state a node would boot from,
// and the snapshot files beside the log.
//
//	go run ./tools/waldump DIR
//	go run ./tools/waldump -verify DIR
//
// DIR is a log directory (holding *.wal segments), or a directory holding
// one as DIR/wal with snapshots in DIR/snap: a wal.Storage's directory or
// the example server's -data directory.
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
	"os"
	"path/filepath"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal"
	"github.com/tickraft/raft/tools/wal/snapfile"
)

func main() {
	verify := flag.Bool("verify", false, "check every checksum and print the first damage")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: waldump [-verify] DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(os.Stdout, flag.Arg(0), *verify))
}

// run dumps or verifies dir and returns the exit status.
func run(out io.Writer, dir string, verify bool) int {
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
	dump(out, segs, snapDir)
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

// dump prints every segment and record, the state they add up to, and the
// snapshot files.
func dump(out io.Writer, segs []wal.SegmentInfo, snapDir string) {
	var state replayState
	for _, s := range segs {
		fmt.Fprintf(out, "segment %s: seq %d, first index %d, format version %d, group %d, %d bytes (created with %d), records end at %d, previous segment synced to %d\n",
			filepath.Base(s.Path), s.Seq, s.FirstIndex, s.Version, s.Group, s.Size, s.Created, s.RecordsEnd, s.PrevEnd)
		for _, r := range s.Records {
			fmt.Fprintf(out, "  @%d %s\n", r.Offset, describe(r))
			state.apply(r)
		}
		if s.Damage != "" {
			fmt.Fprintf(out, "  @%d damage: %s\n", s.RecordsEnd, s.Damage)
		}
	}
	fmt.Fprintf(out, "state: hard state %s; snapshot %s; entries %s\n",
		state.hs, raftpb.Snapshot{Metadata: state.snap}, state.entries())
	if snapDir == "" {
		return
	}
	names, _ := filepath.Glob(filepath.Join(snapDir, "*.snap"))
	for _, n := range names {
		snap, err := snapfile.ReadFile(n)
		if err != nil {
			fmt.Fprintf(out, "snapshot file %s: %v\n", filepath.Base(n), err)
			continue
		}
		fmt.Fprintf(out, "snapshot file %s: %s\n", filepath.Base(n), snap)
	}
}

// describe returns a record's one-line form.
func describe(r wal.RecordInfo) string {
	var s string
	switch {
	case r.Head:
		return "segment head"
	case r.Seal != 0:
		s = fmt.Sprintf("seal: continued in segment %d", r.Seal)
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
}

// apply folds one record in.
func (st *replayState) apply(r wal.RecordInfo) {
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
		names, _ := filepath.Glob(filepath.Join(snapDir, "*.snap"))
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
