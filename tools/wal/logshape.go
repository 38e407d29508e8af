package wal

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// logShape is what the WAL remembers of the log it holds, without its
// entries: the snapshot it starts from, its last index and the term of
// every entry after the snapshot, as runs of equal terms (a handful per
// log). It lets Save refuse a batch that would leave a hole, SaveSnapshot
// decide whether the entries after a snapshot survive it, and rollover
// name a new segment by the index that follows the log.
type logShape struct {
	snapIndex, snapTerm uint64
	last                uint64
	// runs are the entries after snapIndex up to last: runs[i].term from
	// runs[i].first up to the next run's first.
	runs []termRun
}

// termRun is a run of entries of the same term starting at index first.
type termRun struct {
	first, term uint64
}

// checkAppend returns an error when ents cannot extend the log: their
// indexes are not consecutive, they start at or before the snapshot (which
// is committed and never rewritten), or past the log's end.
func (s *logShape) checkAppend(ents []raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	first := ents[0].Index
	for i := range ents {
		if ents[i].Index != first+uint64(i) {
			return fmt.Errorf("wal: entry %d has index %d, want %d", i, ents[i].Index, first+uint64(i))
		}
	}
	if first <= s.snapIndex {
		return fmt.Errorf("wal: entries from %d would rewrite the snapshot at %d", first, s.snapIndex)
	}
	if first > s.last+1 {
		return fmt.Errorf("wal: entries from %d would leave a hole after the last index %d", first, s.last)
	}
	return nil
}

// append records ents, which checkAppend accepted, replacing the log from
// their first index on.
func (s *logShape) append(ents []raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	s.truncateFrom(ents[0].Index)
	for i := range ents {
		if n := len(s.runs); n == 0 || s.runs[n-1].term != ents[i].Term {
			s.runs = append(s.runs, termRun{first: ents[i].Index, term: ents[i].Term})
		}
	}
	s.last = ents[len(ents)-1].Index
}

// truncateFrom drops the entries from index on.
func (s *logShape) truncateFrom(index uint64) {
	for len(s.runs) > 0 && s.runs[len(s.runs)-1].first >= index {
		s.runs = s.runs[:len(s.runs)-1]
	}
	s.last = min(s.last, index-1)
}

// termAt returns the term of the entry at index, and false when the log
// does not hold it.
func (s *logShape) termAt(index uint64) (uint64, bool) {
	if index == s.snapIndex {
		return s.snapTerm, true
	}
	if index < s.snapIndex || index > s.last {
		return 0, false
	}
	term, found := uint64(0), false
	for _, r := range s.runs {
		if r.first > index {
			break
		}
		term, found = r.term, true
	}
	return term, found
}

// snapshot makes the log start from a snapshot at (index, term) and
// reports whether the entries after it survive: they do when the log holds
// the snapshot's last entry with its term (Log Matching, §5.3, makes the
// prefixes equal); otherwise the log is replaced by the snapshot (§7).
func (s *logShape) snapshot(index, term uint64) (keepLog bool) {
	t, ok := s.termAt(index)
	keepLog = ok && t == term
	if !keepLog {
		s.runs, s.last = nil, index
	} else {
		s.dropThrough(index)
	}
	s.snapIndex, s.snapTerm = index, term
	return keepLog
}

// dropThrough forgets the entries up to and including index.
func (s *logShape) dropThrough(index uint64) {
	for len(s.runs) > 0 {
		if len(s.runs) > 1 && s.runs[1].first <= index+1 {
			s.runs = s.runs[1:]
			continue
		}
		if s.runs[0].first <= index {
			s.runs[0].first = index + 1
		}
		break
	}
	if s.last <= index {
		s.runs, s.last = nil, index
	}
}
