package raftpb_test

import (
	"bytes"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// msgApp returns a MsgApp carrying 64 entries of 128 bytes each, the shape
// of a leader's steady-state replication traffic.
func msgApp() raftpb.Message {
	entries := make([]raftpb.Entry, 64)
	for i := range entries {
		entries[i] = raftpb.Entry{
			Term: 7, Index: uint64(1001 + i), Type: raftpb.EntryNormal,
			Data: bytes.Repeat([]byte{byte(i)}, 128),
		}
	}
	return raftpb.Message{
		Type: raftpb.MsgApp, To: 2, From: 1, Term: 7, LogTerm: 7, Index: 1000,
		Commit: 990, Entries: entries,
	}
}

func BenchmarkMarshalMsgApp(b *testing.B) {
	m := msgApp()
	buf := make([]byte, 0, m.Size())
	b.SetBytes(int64(m.Size()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = m.AppendMarshal(buf[:0])
	}
}

func BenchmarkUnmarshalMsgApp(b *testing.B) {
	m := msgApp()
	enc := m.Marshal()
	var got raftpb.Message
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := got.Unmarshal(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAppendMarshalAllocatesNothingWithRoom(t *testing.T) {
	m := msgApp()
	m.Snapshot = &raftpb.Snapshot{Data: []byte("s"), Metadata: raftpb.SnapshotMetadata{
		ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}},
	}}
	m.Context = []byte("ctx")
	m.Responses = []raftpb.Message{msgApp()}
	buf := make([]byte, 0, m.Size())
	allocs := testing.AllocsPerRun(100, func() {
		buf = m.AppendMarshal(buf[:0])
	})
	if allocs != 0 {
		t.Fatalf("AppendMarshal into a buffer with room made %v allocations, want 0", allocs)
	}
}

func TestUnmarshalAllocatesTheEntriesOnceAndNothingPerEntry(t *testing.T) {
	m := msgApp()
	enc := m.Marshal()
	var got raftpb.Message
	allocs := testing.AllocsPerRun(100, func() {
		if err := got.Unmarshal(enc); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 1 {
		t.Fatalf("Unmarshal of a MsgApp with %d entries made %v allocations, want 1", len(m.Entries), allocs)
	}
}

func TestHostileLengthsAllocateNothingButTheError(t *testing.T) {
	// A length prefix of 2^62 for an entry: the decoder must fail without
	// allocating for what the input only claims. The one allocation is the
	// *DecodeError.
	huge := unhex(t, "3a 80 80 80 80 80 80 80 80 40")
	var m raftpb.Message
	allocs := testing.AllocsPerRun(100, func() { _ = m.Unmarshal(huge) })
	if allocs > 1 {
		t.Fatalf("Unmarshal of a 2^62 length made %v allocations, want at most 1", allocs)
	}
}
