package raftpb_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
	"pgregory.net/rapid"
)

// The generators draw every field over its whole range: numbers near 0 and
// near MaxUint64, enum values outside the known ones (negative ones too,
// which take ten bytes on the wire), and byte fields nil, empty or full.

func genBytes() *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		switch rapid.IntRange(0, 2).Draw(t, "bytesKind") {
		case 0:
			return nil
		case 1:
			return []byte{}
		}
		return rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(t, "bytes")
	})
}

func genEnum(known int32) *rapid.Generator[int32] {
	return rapid.OneOf(rapid.Int32Range(0, known-1), rapid.Int32())
}

func genUints() *rapid.Generator[[]uint64] {
	return rapid.SliceOfN(rapid.Uint64(), 0, 5)
}

func genEntry() *rapid.Generator[raftpb.Entry] {
	return rapid.Custom(func(t *rapid.T) raftpb.Entry {
		return raftpb.Entry{
			Term:  rapid.Uint64().Draw(t, "Term"),
			Index: rapid.Uint64().Draw(t, "Index"),
			Type:  raftpb.EntryType(genEnum(3).Draw(t, "Type")),
			Data:  genBytes().Draw(t, "Data"),
		}
	})
}

func genHardState() *rapid.Generator[raftpb.HardState] {
	return rapid.Custom(func(t *rapid.T) raftpb.HardState {
		return raftpb.HardState{
			Term:   rapid.Uint64().Draw(t, "Term"),
			Vote:   rapid.Uint64().Draw(t, "Vote"),
			Commit: rapid.Uint64().Draw(t, "Commit"),
			// Mostly zero, as on a node that is not recovering.
			RecoveringTerm: rapid.OneOf(rapid.Just(uint64(0)), rapid.Uint64()).Draw(t, "RecoveringTerm"),
		}
	})
}

func genConfState() *rapid.Generator[raftpb.ConfState] {
	return rapid.Custom(func(t *rapid.T) raftpb.ConfState {
		return raftpb.ConfState{
			Voters:         genUints().Draw(t, "Voters"),
			Learners:       genUints().Draw(t, "Learners"),
			VotersOutgoing: genUints().Draw(t, "VotersOutgoing"),
			LearnersNext:   genUints().Draw(t, "LearnersNext"),
			AutoLeave:      rapid.Bool().Draw(t, "AutoLeave"),
		}
	})
}

func genSnapshotMetadata() *rapid.Generator[raftpb.SnapshotMetadata] {
	return rapid.Custom(func(t *rapid.T) raftpb.SnapshotMetadata {
		return raftpb.SnapshotMetadata{
			ConfState: genConfState().Draw(t, "ConfState"),
			Index:     rapid.Uint64().Draw(t, "Index"),
			Term:      rapid.Uint64().Draw(t, "Term"),
		}
	})
}

func genSnapshot() *rapid.Generator[raftpb.Snapshot] {
	return rapid.Custom(func(t *rapid.T) raftpb.Snapshot {
		return raftpb.Snapshot{
			Data:     genBytes().Draw(t, "Data"),
			Metadata: genSnapshotMetadata().Draw(t, "Metadata"),
		}
	})
}

// genMessage draws messages whose Responses nest at most depth levels.
func genMessage(depth int) *rapid.Generator[raftpb.Message] {
	return rapid.Custom(func(t *rapid.T) raftpb.Message {
		m := raftpb.Message{
			Type:       raftpb.MessageType(genEnum(24).Draw(t, "Type")),
			To:         rapid.Uint64().Draw(t, "To"),
			From:       rapid.Uint64().Draw(t, "From"),
			Term:       rapid.Uint64().Draw(t, "Term"),
			LogTerm:    rapid.Uint64().Draw(t, "LogTerm"),
			Index:      rapid.Uint64().Draw(t, "Index"),
			Entries:    rapid.SliceOfN(genEntry(), 0, 4).Draw(t, "Entries"),
			Commit:     rapid.Uint64().Draw(t, "Commit"),
			Vote:       rapid.Uint64().Draw(t, "Vote"),
			Snapshot:   rapid.Ptr(genSnapshot(), true).Draw(t, "Snapshot"),
			Reject:     rapid.Bool().Draw(t, "Reject"),
			RejectHint: rapid.Uint64().Draw(t, "RejectHint"),
			Context:    genBytes().Draw(t, "Context"),
		}
		if depth > 0 {
			m.Responses = rapid.SliceOfN(genMessage(depth-1), 0, 2).Draw(t, "Responses")
		}
		return m
	})
}

func genConfChange() *rapid.Generator[raftpb.ConfChange] {
	return rapid.Custom(func(t *rapid.T) raftpb.ConfChange {
		return raftpb.ConfChange{
			ID:      rapid.Uint64().Draw(t, "ID"),
			Type:    raftpb.ConfChangeType(genEnum(4).Draw(t, "Type")),
			NodeID:  rapid.Uint64().Draw(t, "NodeID"),
			Context: genBytes().Draw(t, "Context"),
		}
	})
}

func genConfChangeSingle() *rapid.Generator[raftpb.ConfChangeSingle] {
	return rapid.Custom(func(t *rapid.T) raftpb.ConfChangeSingle {
		return raftpb.ConfChangeSingle{
			Type:   raftpb.ConfChangeType(genEnum(4).Draw(t, "Type")),
			NodeID: rapid.Uint64().Draw(t, "NodeID"),
		}
	})
}

func genConfChangeV2() *rapid.Generator[raftpb.ConfChangeV2] {
	return rapid.Custom(func(t *rapid.T) raftpb.ConfChangeV2 {
		return raftpb.ConfChangeV2{
			Transition: raftpb.ConfChangeTransition(genEnum(3).Draw(t, "Transition")),
			Changes:    rapid.SliceOfN(genConfChangeSingle(), 0, 4).Draw(t, "Changes"),
			Context:    genBytes().Draw(t, "Context"),
		}
	})
}

// checkRoundTrip checks the codec properties of one value v: Size is the
// length of Marshal, encoding is deterministic, AppendMarshal keeps what
// the buffer held and appends the same bytes, and decoding gives v back.
func checkRoundTrip[T any, P codecPtr[T]](t *rapid.T, v T) {
	enc := P(&v).Marshal()
	if got := P(&v).Size(); got != len(enc) {
		t.Fatalf("Size() = %d, len(Marshal()) = %d", got, len(enc))
	}
	if again := P(&v).Marshal(); !bytes.Equal(again, enc) {
		t.Fatalf("Marshal is not deterministic:\n% x\n% x", enc, again)
	}
	prefix := []byte("prefix")
	buf := P(&v).AppendMarshal(append([]byte(nil), prefix...))
	if !bytes.Equal(buf[:len(prefix)], prefix) || !bytes.Equal(buf[len(prefix):], enc) {
		t.Fatalf("AppendMarshal onto a prefix gave % x, want prefix then % x", buf, enc)
	}
	var got T
	if err := P(&got).Unmarshal(enc); err != nil {
		t.Fatalf("Unmarshal(Marshal(v)): %v", err)
	}
	if diff := cmp.Diff(v, got, equalValues); diff != "" {
		t.Fatalf("decode(encode(v)) != v (-v +decoded):\n%s", diff)
	}
}

func roundTripProperty[T any, P codecPtr[T]](gen *rapid.Generator[T]) func(*testing.T) {
	return func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			checkRoundTrip[T, P](t, gen.Draw(t, "v"))
		})
	}
}

func TestEveryTypeRoundTrips(t *testing.T) {
	t.Run("Entry", roundTripProperty(genEntry()))
	t.Run("HardState", roundTripProperty(genHardState()))
	t.Run("ConfState", roundTripProperty(genConfState()))
	t.Run("SnapshotMetadata", roundTripProperty(genSnapshotMetadata()))
	t.Run("Snapshot", roundTripProperty(genSnapshot()))
	t.Run("Message", roundTripProperty(genMessage(2)))
	t.Run("ConfChange", roundTripProperty(genConfChange()))
	t.Run("ConfChangeSingle", roundTripProperty(genConfChangeSingle()))
	t.Run("ConfChangeV2", roundTripProperty(genConfChangeV2()))
}

// TestMessageEncodingHoldsEachNestedEncoding checks that each entry, the
// snapshot and each response of a message is written as its own encoding,
// byte for byte, inside the message's.
func TestMessageEncodingHoldsEachNestedEncoding(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := genMessage(1).Draw(t, "m")
		enc := m.Marshal()
		for i := range m.Entries {
			if !bytes.Contains(enc, m.Entries[i].Marshal()) {
				t.Fatalf("entry %d's encoding is not inside the message's", i)
			}
		}
		if m.Snapshot != nil && !bytes.Contains(enc, m.Snapshot.Marshal()) {
			t.Fatalf("the snapshot's encoding is not inside the message's")
		}
		for i := range m.Responses {
			if !bytes.Contains(enc, m.Responses[i].Marshal()) {
				t.Fatalf("response %d's encoding is not inside the message's", i)
			}
		}
	})
}
