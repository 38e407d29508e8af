package raft

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	"github.com/tickraft/raft/raftpb"
)

// digestState is a state machine that remembers, for each index it
// applied since the snapshot it started from, a digest of every entry up
// to that index: two nodes agree at an index exactly when they applied the
// same entries up to it (or snapshots of the same). A snapshot's data is
// the digest at its index.
type digestState struct {
	// first is the index of digests[0], the snapshot the state started
	// from (0: the empty state).
	first   uint64
	digests []uint64
}

// newDigestState returns the empty state, at index 0.
func newDigestState() digestState { return digestState{digests: []uint64{0}} }

// applied returns the index of the last entry applied.
func (s *digestState) applied() uint64 { return s.first + uint64(len(s.digests)) - 1 }

// at returns the digest at index i, which must be in [first, applied].
func (s *digestState) at(i uint64) uint64 { return s.digests[i-s.first] }

// apply applies e, which must follow the last entry applied.
func (s *digestState) apply(e raftpb.Entry) error {
	if e.Index != s.applied()+1 {
		return fmt.Errorf("applied %d/%d right after index %d", e.Term, e.Index, s.applied())
	}
	h := fnv.New64a()
	var b [25]byte
	binary.LittleEndian.PutUint64(b[0:], s.at(s.applied()))
	binary.LittleEndian.PutUint64(b[8:], e.Index)
	binary.LittleEndian.PutUint64(b[16:], e.Term)
	b[24] = byte(e.Type)
	h.Write(b[:])
	h.Write(e.Data)
	s.digests = append(s.digests, h.Sum64())
	return nil
}

// snapshotData returns the data of a snapshot at index i.
func (s *digestState) snapshotData(i uint64) []byte {
	return binary.LittleEndian.AppendUint64(nil, s.at(i))
}

// restore replaces the state with that of a snapshot at index with data
// (index 0 and no data: the empty state).
func (s *digestState) restore(index uint64, data []byte) error {
	var d uint64
	switch {
	case len(data) == 8:
		d = binary.LittleEndian.Uint64(data)
	case index != 0 || len(data) != 0:
		return fmt.Errorf("snapshot at %d holds %d bytes, not a digest", index, len(data))
	}
	s.first, s.digests = index, []uint64{d}
	return nil
}
