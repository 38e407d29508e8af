package raftpb_test

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// TestStorageAppendCarriesTheWholeHardState: every field of a HardState,
// RecoveringTerm included, survives the trip through a MsgStorageAppend.
func TestStorageAppendCarriesTheWholeHardState(t *testing.T) {
	want := raftpb.HardState{Term: 7, Vote: 3, Commit: 41, RecoveringTerm: 5}
	m := raftpb.Message{Type: raftpb.MsgStorageAppend}
	m.SetStorageAppendHardState(want)
	if got := m.StorageAppendHardState(); got != want {
		t.Fatalf("carried %v, want %v", got, want)
	}
	var none raftpb.Message
	if !none.StorageAppendHardState().IsEmpty() {
		t.Fatal("a message without a hard state carries one")
	}
}
