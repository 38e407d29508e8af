package core

import (
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// Reading the log: entries in a range, from Storage below the unstable
// offset and from the unstable tail above it, bounded in payload bytes.

// entries returns the entries from i to the last, cut to maxSize payload
// bytes but at least one entry. Errors are those of slice.
func (l *raftLog) entries(i, maxSize uint64) ([]raftpb.Entry, error) {
	if i > l.lastIndex() {
		return nil, nil
	}
	return l.slice(i, l.lastIndex()+1, maxSize)
}

// allEntries returns every entry of the log from firstIndex on. It is for
// tests, and panics on error.
func (l *raftLog) allEntries() []raftpb.Entry {
	var all []raftpb.Entry
	err := l.scan(l.firstIndex(), l.lastIndex()+1, noLimit, func(ents []raftpb.Entry) (bool, error) {
		all = append(all, ents...)
		return true, nil
	})
	if err != nil {
		panic(fmt.Sprintf("invariant violated: the whole log cannot be read: %v", err))
	}
	return all
}

// scan hands visit the entries [lo, hi) in order, in the prefixes slice
// returns (each at most maxSize payload bytes but one entry, and a
// Storage may cut one shorter): it asks again from where each ends, until
// hi, an error, or visit answers false. A read that returns no entry is
// an error, so that a Storage breaking its contract cannot make it spin.
func (l *raftLog) scan(lo, hi, maxSize uint64, visit func(ents []raftpb.Entry) (more bool, err error)) error {
	for lo < hi {
		ents, err := l.slice(lo, hi, maxSize)
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			return fmt.Errorf("%w: no entry returned for [%d, %d)", ErrUnavailable, lo, hi)
		}
		if more, err := visit(ents); err != nil || !more {
			return err
		}
		lo = ents[len(ents)-1].Index + 1
	}
	return nil
}

// checkBounds returns an error unless [lo, hi) is a range of entries the
// log can serve: ErrCompacted below firstIndex, ErrUnavailable beyond
// lastIndex.
func (l *raftLog) checkBounds(lo, hi uint64) error {
	if lo > hi {
		return fmt.Errorf("invalid entry range [%d, %d)", lo, hi)
	}
	if first := l.firstIndex(); lo < first {
		return fmt.Errorf("%w: entries from %d asked for, first index is %d", ErrCompacted, lo, first)
	}
	if last := l.lastIndex(); hi > last+1 {
		return fmt.Errorf("%w: entries up to %d asked for, last index is %d", ErrUnavailable, hi-1, last)
	}
	return nil
}

// stableEntries returns a prefix of the stable entries [lo, hi), lo < hi,
// cut to maxSize payload bytes but at least one entry: from the entries
// that last became stable if they hold lo, and else from Storage.
func (l *raftLog) stableEntries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	if ents := l.unstable.recentSlice(lo, hi); ents != nil {
		ents = limitSize(ents, maxSize)
		return ents[:len(ents):len(ents)], nil
	}
	return l.storage.Entries(lo, hi, maxSize)
}

// slice returns a prefix of the entries [lo, hi), read from storage (or
// the recent entries) below unstable.offset and from the unstable tail
// from there on: at most the longest prefix within maxSize payload bytes
// but at least one entry (maxSize 0: exactly one), and shorter where
// storage's answer or the recent entries end; callers ask again from
// there. Out-of-range requests and storage errors are returned. The
// caller must not modify the entries.
func (l *raftLog) slice(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	if err := l.checkBounds(lo, hi); err != nil {
		return nil, err
	}
	if lo == hi {
		return nil, nil
	}
	if lo >= l.unstable.offset {
		ents := limitSize(l.unstable.slice(lo, hi), maxSize)
		return ents[:len(ents):len(ents)], nil // an append must not reach unstable
	}
	cut := min(hi, l.unstable.offset)
	stored, err := l.stableEntries(lo, cut, maxSize)
	if err != nil {
		return nil, err
	}
	if hi == cut || maxSize == 0 || uint64(len(stored)) < cut-lo {
		return stored, nil // no unstable part asked for, or the limit was reached
	}
	size := payloadSize(stored)
	if size > maxSize {
		return stored, nil // a single entry above the limit
	}
	tail := l.unstable.slice(cut, hi)
	tail = tail[:prefixWithin(tail, maxSize-size)]
	if len(tail) == 0 {
		return stored, nil
	}
	// A fresh array: storage's slice belongs to storage.
	ents := make([]raftpb.Entry, 0, len(stored)+len(tail))
	ents = append(ents, stored...)
	return append(ents, tail...), nil
}
