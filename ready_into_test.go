package raft

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tickraft/raft/raftpb"
)

// junkReady returns a Ready with every field set, as a variable reused
// from an earlier Ready may be: ReadyInto must overwrite each of them.
func junkReady() Ready {
	junk := []raftpb.Message{{Type: raftpb.MsgApp, To: 99, From: 98, Term: 97}}
	return Ready{
		SoftState:            &SoftState{Lead: 99, RaftState: StateCandidate},
		HardState:            raftpb.HardState{Term: 99, Vote: 98, Commit: 97},
		Entries:              []raftpb.Entry{{Term: 99, Index: 99}},
		Snapshot:             raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 99, Term: 99}},
		CommittedEntries:     []raftpb.Entry{{Term: 98, Index: 98}},
		Messages:             junk,
		MessagesAfterPersist: junk,
		LocalMessages:        junk,
		ReadStates:           []ReadState{{Index: 99, RequestCtx: []byte("junk"), Err: errors.New("junk")}},
		MustSync:             true,
	}
}

// TestReadyIntoOverwritesTheWholeReady: ReadyInto, into a variable whose
// every field holds what an earlier Ready left there, hands out the Ready
// that Ready hands out, field by field, on twin groups: a leader's
// election (entries, hard and soft state, messages), and an elected
// leader's heartbeats (only messages: built without the full
// computation).
func TestReadyIntoOverwritesTheWholeReady(t *testing.T) {
	a := benchCluster{nodes: newClusterNodes(t, 3, nil)}
	b := benchCluster{nodes: newClusterNodes(t, 3, nil)}
	check := func(what string) {
		t.Helper()
		want := a.nodes[0].rn.Ready()
		got := junkReady()
		b.nodes[0].rn.ReadyInto(&got)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s: ReadyInto differs from Ready (-Ready +ReadyInto):\n%s", what, diff)
		}
		if len(want.Messages) == 0 {
			t.Fatalf("%s: the leader sends nothing: the test tests too little", what)
		}
		a.nodes[0].rn.Advance()
		b.nodes[0].rn.Advance()
	}
	for _, c := range []*benchCluster{&a, &b} {
		if err := c.nodes[0].rn.Campaign(); err != nil {
			t.Fatal(err)
		}
	}
	check("campaign")
	a.elect(t)
	b.elect(t)
	for _, c := range []*benchCluster{&a, &b} {
		c.nodes[0].rn.Tick()
	}
	check("heartbeats")
}
