package raft_test

import (
	"errors"
	"testing"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// singleNode returns a one-voter node that has elected itself, with cfg
// adjusted by opt.
func singleNode(t *testing.T, opt func(*raft.Config)) (*raft.RawNode, *raft.MemoryStorage) {
	t.Helper()
	st := raft.NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1}})
	cfg := &raft.Config{ID: 1, Storage: st}
	if opt != nil {
		opt(cfg)
	}
	rn, err := raft.NewRawNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	persistAll(t, rn, st)
	return rn, st
}

// persistAll runs the synchronous loop until nothing is ready and returns
// the committed entries with data.
func persistAll(t *testing.T, rn *raft.RawNode, st *raft.MemoryStorage) (committed []raftpb.Entry) {
	t.Helper()
	for rn.HasReady() {
		rd := rn.Ready()
		if !rd.HardState.IsEmpty() {
			if err := st.SetHardState(rd.HardState); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Append(rd.Entries); err != nil {
			t.Fatal(err)
		}
		for _, e := range rd.CommittedEntries {
			if len(e.Data) > 0 {
				committed = append(committed, e)
			}
		}
		rn.Advance()
	}
	return committed
}

func TestProposeEntriesAppendsTheBatchTogether(t *testing.T) {
	rn, st := singleNode(t, nil)
	last := rn.BasicStatus().Commit
	batch := []raftpb.Entry{{Data: []byte("a")}, {Data: []byte("b")}, {Data: []byte("c")}}
	index, term, err := rn.ProposeEntries(batch)
	if err != nil {
		t.Fatal(err)
	}
	if index != last+3 || term != rn.BasicStatus().Term {
		t.Fatalf("ProposeEntries = (%d, %d), want (%d, %d)", index, term, last+3, rn.BasicStatus().Term)
	}
	got := persistAll(t, rn, st)
	if len(got) != 3 || string(got[0].Data) != "a" || string(got[2].Data) != "c" || got[2].Index != index {
		t.Fatalf("committed %v", got)
	}
}

// TestProposeEntriesIsAllOrNothing: a batch over the uncommitted bound is
// refused whole; none of its entries is appended.
func TestProposeEntriesIsAllOrNothing(t *testing.T) {
	rn, st := singleNode(t, func(c *raft.Config) { c.MaxUncommittedEntries = 2 })
	if _, _, err := rn.ProposeEntries([]raftpb.Entry{{Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	before, _ := st.LastIndex()
	_, _, err := rn.ProposeEntries([]raftpb.Entry{{Data: []byte("a")}, {Data: []byte("b")}})
	if !errors.Is(err, raft.ErrProposalDropped) {
		t.Fatalf("a batch past the bound = %v, want ErrProposalDropped", err)
	}
	got := persistAll(t, rn, st)
	after, _ := st.LastIndex()
	if len(got) != 1 || after != before+1 {
		t.Fatalf("committed %v, last index %d -> %d: part of a refused batch was appended", got, before, after)
	}
}
