package walbench

import (
	"errors"
	"time"

	"github.com/hashicorp/raft"
)

// The stable-store keys hashicorp/raft (v1.7.2) keeps its term and vote
// under.
var (
	keyCurrentTerm  = []byte("CurrentTerm")
	keyLastVoteTerm = []byte("LastVoteTerm")
	keyLastVoteCand = []byte("LastVoteCand")
)

// hashicorpStore is what hashicorp/raft needs of its disk: a LogStore and
// a StableStore, which both hashicorp stores are at once.
type hashicorpStore interface {
	raft.LogStore
	raft.StableStore
}

// hashicorpWriter writes a batch as hashicorp/raft does: the entries
// with one StoreLogs call (durable when it returns), and the term and
// vote with SetUint64 and Set only when they change, as setCurrentTerm
// and persistVote do. The commit index is not persisted by that library.
type hashicorpWriter struct {
	s     hashicorpStore
	close func() error
	hs    HardState // the term and vote last stored
	logs  []*raft.Log
	slab  []raft.Log
}

func (h *hashicorpWriter) Save(b Batch) error {
	if err := h.storeTermAndVote(b.HardState); err != nil {
		return err
	}
	if len(b.Entries) == 0 {
		return nil
	}
	h.logs, h.slab = h.logs[:0], h.slab[:0]
	now := time.Now() // the leader stamps AppendedAt once per dispatch
	for _, e := range b.Entries {
		h.slab = append(h.slab, raft.Log{Index: e.Index, Term: e.Term, Type: raft.LogCommand, Data: e.Data, AppendedAt: now})
	}
	for i := range h.slab {
		h.logs = append(h.logs, &h.slab[i])
	}
	return h.s.StoreLogs(h.logs)
}

// storeTermAndVote persists the term and the vote when they changed.
func (h *hashicorpWriter) storeTermAndVote(hs HardState) error {
	if hs.Term != h.hs.Term {
		if err := h.s.SetUint64(keyCurrentTerm, hs.Term); err != nil {
			return err
		}
	}
	if hs.Term != h.hs.Term || hs.Vote != h.hs.Vote {
		if err := h.s.SetUint64(keyLastVoteTerm, hs.Term); err != nil {
			return err
		}
		if err := h.s.Set(keyLastVoteCand, uint64Bytes(hs.Vote)); err != nil {
			return err
		}
	}
	h.hs.Term, h.hs.Vote = hs.Term, hs.Vote
	return nil
}

func (h *hashicorpWriter) Close() error { return h.close() }

// replayHashicorp reads back what a restarting hashicorp/raft node
// reads: the term and vote, the first and last index, and then every
// entry with GetLog, in index order (as the node does when it
// replays its log into the state machine).
func replayHashicorp(s hashicorpStore, visit func(Entry)) (Recovered, error) {
	var rec Recovered
	term, err := s.GetUint64(keyCurrentTerm)
	if err != nil {
		return rec, err
	}
	cand, err := s.Get(keyLastVoteCand)
	if err != nil {
		return rec, err
	}
	rec.HardState = HardState{Term: term, Vote: bytesUint64(cand)}
	first, err := s.FirstIndex()
	if err != nil {
		return rec, err
	}
	last, err := s.LastIndex()
	if err != nil {
		return rec, err
	}
	var l raft.Log
	for i := first; i <= last && last != 0; i++ {
		if err := s.GetLog(i, &l); err != nil {
			return rec, err
		}
		rec.visit(Entry{Index: l.Index, Term: l.Term, Data: l.Data}, visit)
	}
	if rec.Entries > 0 && rec.Last != last {
		return rec, errors.New("walbench: the store's last index is not the last entry read")
	}
	return rec, nil
}

// uint64Bytes encodes a vote as the candidate's ID in decimal, as a
// server ID is a string in hashicorp/raft.
func uint64Bytes(v uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return append([]byte(nil), b[i:]...)
		}
	}
}

// bytesUint64 decodes what uint64Bytes encoded; nil decodes to zero.
func bytesUint64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v*10 + uint64(c-'0')
	}
	return v
}
