package confchange_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tickraft/raft/confchange"
	"github.com/tickraft/raft/raftpb"
)

func TestNotationReadsEveryChangeType(t *testing.T) {
	got, err := confchange.ParseConfChanges("  v1 l2\tr3\nu4 v18446744073709551615 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []raftpb.ConfChangeSingle{
		{Type: raftpb.ConfChangeAddNode, NodeID: 1},
		{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 2},
		{Type: raftpb.ConfChangeRemoveNode, NodeID: 3},
		{Type: raftpb.ConfChangeUpdateNode, NodeID: 4},
		{Type: raftpb.ConfChangeAddNode, NodeID: 1<<64 - 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if got, want := confchange.Describe(got...), "v1 l2 r3 u4 v18446744073709551615"; got != want {
		t.Fatalf("Describe = %q, want %q", got, want)
	}
}

func TestNotationOfNothingIsEmpty(t *testing.T) {
	ccs, err := confchange.ParseConfChanges(" ")
	if err != nil || ccs != nil {
		t.Fatalf("got %v, %v; want nil, nil", ccs, err)
	}
	if s := confchange.Describe(); s != "" {
		t.Fatalf("Describe() = %q", s)
	}
}

func TestNotationRefusesWhatItCannotRead(t *testing.T) {
	for _, s := range []string{"x1", "v", "v-1", "v1x", "V1", "v1 l", "v18446744073709551616"} {
		if _, err := confchange.ParseConfChanges(s); !errors.Is(err, confchange.ErrSyntax) {
			t.Errorf("ParseConfChanges(%q): error %v, want ErrSyntax", s, err)
		}
	}
}

func TestDescribeMarksUnknownTypesUnreadably(t *testing.T) {
	s := confchange.Describe(raftpb.ConfChangeSingle{Type: 9, NodeID: 3})
	if s != "?9:3" {
		t.Fatalf("got %q, want %q", s, "?9:3")
	}
	if _, err := confchange.ParseConfChanges(s); !errors.Is(err, confchange.ErrSyntax) {
		t.Fatalf("unknown type parsed back: %v", err)
	}
}
