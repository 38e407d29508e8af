package sim

import (
	"fmt"
	"math"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// diskWrite is one write a node handed to its disk: a snapshot, entries
// and a hard state, in that order on the platter, and what to do once it
// is durable.
type diskWrite struct {
	durableAt uint64
	snap      *raftpb.Snapshot
	entries   []raftpb.Entry
	hard      raftpb.HardState
	// ready is the Ready of the synchronous loop that waits for this
	// write (nil in the asynchronous mode).
	ready *raftloop.Pending
}

// records returns the number of records of the write: what a crash can
// cut it after.
func (w *diskWrite) records() int {
	n := len(w.entries)
	if w.snap != nil {
		n++
	}
	if !w.hard.IsEmpty() {
		n++
	}
	return n
}

// disk is a node's stable storage: the MemoryStorage holds exactly what
// is durable, and the writes still on their way are queued in order. A
// write becomes durable at its time, after every write before it (the
// disk keeps their order); a crash loses the queue, keeping a prefix of
// the oldest write's records (a torn write).
type disk struct {
	st    *raft.MemoryStorage
	queue []*diskWrite
	// last is the time the last queued write becomes durable.
	last uint64
	// stallUntil is the step until which the disk is stalled, each write
	// taking stall more steps.
	stallUntil uint64
	stall      int
	// frozenUntil is the step until which the disk completes no write at
	// all (a long stall, see longstall.go).
	frozenUntil uint64
	// writes counts the changes made to st, so that an unchanged node
	// is not observed again.
	writes uint64
	// highIndex is the highest last index the log ever had durable,
	// highTerm the highest durable term, and votes the vote durable in
	// each term: what the node may answer for (checkAckDurable). Durable
	// stays durable, so none of them ever shrinks.
	highIndex, highTerm uint64
	votes               map[uint64]uint64
	// overwritten holds the durable entries that the last write which
	// replaced some of them replaced, from the first one it changed to
	// the log's end then: an older term's tail, which the disk gives back
	// if it loses that write (loss.go, Faults.LoseOverwrite).
	overwritten []raftpb.Entry
	// overwrittenAfter is the term of the entry before overwritten[0]
	// when that write replaced them: the older tail follows that entry,
	// and only that one (a log since cut below it and written again, say
	// after a lost tail, holds another entry there).
	overwrittenAfter uint64
	// mutation is the Sim's, for the tests of the checks.
	mutation mutation
}

// enqueue queues w to become durable latency steps from now, after every
// write already queued.
func (d *disk) enqueue(now uint64, latency int, w *diskWrite) {
	if now < d.stallUntil {
		latency += d.stall
	}
	w.durableAt = max(now+uint64(latency), d.last)
	d.last = w.durableAt
	d.queue = append(d.queue, w)
}

// due returns the oldest queued write if it is durable at now.
func (d *disk) due(now uint64) *diskWrite {
	if len(d.queue) == 0 || d.queue[0].durableAt > now || now < d.frozenUntil {
		return nil
	}
	w := d.queue[0]
	d.queue = d.queue[1:]
	if len(d.queue) == 0 {
		d.queue = nil
	}
	return w
}

// persist writes the first n records of w to storage (all of them when n
// is the record count).
func (d *disk) persist(w *diskWrite, n int) error {
	if d.mutation == mutateLoseTail {
		w.entries = w.entries[:min(1, len(w.entries))]
	}
	if n > 0 && w.snap != nil {
		if err := d.st.ApplySnapshot(*w.snap); err != nil {
			return fmt.Errorf("cannot persist snapshot %d/%d: %w", w.snap.Metadata.Term, w.snap.Metadata.Index, err)
		}
		n--
		d.writes++
		d.overwritten = nil
	}
	if k := min(n, len(w.entries)); k > 0 {
		d.noteOverwrite(w.entries[:k])
		if err := d.st.Append(w.entries[:k]); err != nil {
			return fmt.Errorf("cannot persist entries from %d: %w", w.entries[0].Index, err)
		}
		n -= k
		d.writes++
	}
	if n > 0 && !w.hard.IsEmpty() {
		if err := d.st.SetHardState(w.hard); err != nil {
			return fmt.Errorf("cannot persist %v: %w", w.hard, err)
		}
		d.writes++
		d.recordVote(w.hard)
	}
	last, _ := d.st.LastIndex()
	d.highIndex = max(d.highIndex, last)
	return nil
}

// noteOverwrite keeps, before ents are written, the durable entries they
// replace (from the first whose term differs), if any.
func (d *disk) noteOverwrite(ents []raftpb.Entry) {
	first, _ := d.st.FirstIndex()
	last, _ := d.st.LastIndex()
	for _, e := range ents {
		if e.Index > last {
			return
		}
		if t, err := d.st.Term(e.Index); e.Index >= first && err == nil && t != e.Term {
			prev, perr := d.st.Term(e.Index - 1)
			if old, err := readEntries(d.st, e.Index, last+1); err == nil && perr == nil {
				d.overwritten, d.overwrittenAfter = old, prev
			}
			return
		}
	}
}

// recordVote remembers the vote hs makes durable in its term.
func (d *disk) recordVote(hs raftpb.HardState) {
	d.highTerm = max(d.highTerm, hs.Term)
	if hs.Vote == 0 {
		return
	}
	if d.votes == nil {
		d.votes = map[uint64]uint64{}
	}
	d.votes[hs.Term] = hs.Vote
}

// crash loses every queued write but a prefix of the oldest one's
// records, of length keep modulo its record count (so never all of it).
// It returns the records kept and the records of that write.
func (d *disk) crash(keep int) (kept, of int, err error) {
	if len(d.queue) > 0 {
		w := d.queue[0]
		of = w.records()
		if of > 0 {
			kept = keep % of
			err = d.persist(w, kept)
		}
	}
	d.queue, d.last, d.stallUntil, d.frozenUntil = nil, 0, 0, 0
	return kept, of, err
}

// idle reports whether no write is queued.
func (d *disk) idle() bool { return len(d.queue) == 0 }

// storedLog returns every entry in the storage.
func storedLog(st *raft.MemoryStorage) []raftpb.Entry {
	first, _ := st.FirstIndex()
	last, _ := st.LastIndex()
	if first > last {
		return nil
	}
	ents, err := readEntries(st, first, last+1)
	if err != nil {
		panic(fmt.Sprintf("MemoryStorage cannot read its own entries [%d, %d]: %v", first, last, err))
	}
	return ents
}

// readEntries returns the entries [lo, hi) of st, asking again from where
// each answer ends: Storage.Entries may return a shorter prefix.
func readEntries(st raft.Storage, lo, hi uint64) ([]raftpb.Entry, error) {
	var out []raftpb.Entry
	for lo < hi {
		ents, err := st.Entries(lo, hi, math.MaxUint64)
		if err != nil {
			return nil, err
		}
		out = append(out, ents...)
		lo += uint64(len(ents))
	}
	return out, nil
}
