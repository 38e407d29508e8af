package raftpb_test

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
)

// The golden vectors below are written by hand from the protobuf encoding
// rules and the field numbers of etcd's raft.proto (the key constants of
// codec_log.go, codec_message.go and codec_confchange.go list them): a key
// is (number << 3) | wire type, "always" fields are written even when
// zero, fields go in ascending number order. A "|" separates fields.

const u64max = maxVarint

type goldenCase struct {
	name  string
	value codec
	hex   string
}

var entryGolden = []goldenCase{
	{"zero", &raftpb.Entry{}, "08 00 | 10 00 | 18 00"},
	{"empty data is written with length 0", &raftpb.Entry{Data: []byte{}}, "08 00 | 10 00 | 18 00 | 22 00"},
	{"all fields", &raftpb.Entry{Type: raftpb.EntryConfChangeV2, Term: 1, Index: 2, Data: []byte("hi")},
		"08 02 | 10 01 | 18 02 | 22 02 68 69"},
	{"multi-byte varints", &raftpb.Entry{Term: 300, Index: 128}, "08 00 | 10 ac 02 | 18 80 01"},
	{"max values", &raftpb.Entry{Type: raftpb.EntryConfChange, Term: math.MaxUint64, Index: math.MaxUint64},
		"08 01 | 10 " + u64max + " | 18 " + u64max},
	{"unknown enum value", &raftpb.Entry{Type: 100}, "08 64 | 10 00 | 18 00"},
}

var hardStateGolden = []goldenCase{
	{"zero", &raftpb.HardState{}, "08 00 | 10 00 | 18 00"},
	{"all of etcd's fields", &raftpb.HardState{Term: 5, Vote: 2, Commit: 300}, "08 05 | 10 02 | 18 ac 02"},
	// Field 100 takes a two-byte key and is written only when set.
	{"recovering", &raftpb.HardState{Term: 5, Commit: 3, RecoveringTerm: 4}, "08 05 | 10 00 | 18 03 | a0 06 04"},
	{"max values", &raftpb.HardState{Term: math.MaxUint64, Vote: math.MaxUint64, Commit: math.MaxUint64},
		"08 " + u64max + " | 10 " + u64max + " | 18 " + u64max},
}

var confStateGolden = []goldenCase{
	{"zero writes only auto_leave", &raftpb.ConfState{}, "28 00"},
	{"repeated fields are unpacked", &raftpb.ConfState{
		Voters: []uint64{1, 2}, Learners: []uint64{3}, VotersOutgoing: []uint64{1},
		LearnersNext: []uint64{4}, AutoLeave: true,
	}, "08 01 | 08 02 | 10 03 | 18 01 | 20 04 | 28 01"},
	{"max values", &raftpb.ConfState{Voters: []uint64{math.MaxUint64, 0}, LearnersNext: []uint64{math.MaxUint64}},
		"08 " + u64max + " | 08 00 | 20 " + u64max + " | 28 00"},
}

var snapshotMetadataGolden = []goldenCase{
	{"zero writes an empty conf state", &raftpb.SnapshotMetadata{}, "0a 02 28 00 | 10 00 | 18 00"},
	{"all fields", &raftpb.SnapshotMetadata{
		ConfState: raftpb.ConfState{Voters: []uint64{1}}, Index: 10, Term: 3,
	}, "0a 04 08 01 28 00 | 10 0a | 18 03"},
	{"max values", &raftpb.SnapshotMetadata{Index: math.MaxUint64, Term: math.MaxUint64},
		"0a 02 28 00 | 10 " + u64max + " | 18 " + u64max},
}

var snapshotGolden = []goldenCase{
	{"zero writes the metadata", &raftpb.Snapshot{}, "12 08 0a 02 28 00 10 00 18 00"},
	{"empty data is written with length 0", &raftpb.Snapshot{Data: []byte{}},
		"0a 00 | 12 08 0a 02 28 00 10 00 18 00"},
	{"all fields", &raftpb.Snapshot{Data: []byte("ab"), Metadata: raftpb.SnapshotMetadata{Index: 1, Term: 1}},
		"0a 02 61 62 | 12 08 0a 02 28 00 10 01 18 01"},
	{"max values", &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: math.MaxUint64}},
		"12 11 0a 02 28 00 10 " + u64max + " 18 00"},
}

// zeroMessage is the encoding of the zero Message: the twelve "always"
// scalar fields in number order.
const zeroMessage = "08 00 | 10 00 | 18 00 | 20 00 | 28 00 | 30 00 | 40 00 | 50 00 | 58 00 | 68 00"

var messageGolden = []goldenCase{
	{"zero", &raftpb.Message{}, zeroMessage},
	{"MsgApp with one entry", &raftpb.Message{
		Type: raftpb.MsgApp, To: 2, From: 1, Term: 5, LogTerm: 4, Index: 10, Commit: 9,
		Entries: []raftpb.Entry{{Term: 5, Index: 11, Data: []byte("x")}},
	}, "08 03 | 10 02 | 18 01 | 20 05 | 28 04 | 30 0a | 3a 09 08 00 10 05 18 0b 22 01 78 | 40 09 | 50 00 | 58 00 | 68 00"},
	{"vote is written after context", &raftpb.Message{
		Type: raftpb.MsgStorageAppend, Snapshot: &raftpb.Snapshot{}, Reject: true, RejectHint: 7,
		Context: []byte("c"), Vote: 3, Responses: []raftpb.Message{{Type: raftpb.MsgStorageAppendResp}},
	}, "08 13 | 10 00 | 18 00 | 20 00 | 28 00 | 30 00 | 40 00 | 4a 0a 12 08 0a 02 28 00 10 00 18 00 |" +
		" 50 01 | 58 07 | 62 01 63 | 68 03 | 72 14 08 14 10 00 18 00 20 00 28 00 30 00 40 00 50 00 58 00 68 00"},
	{"empty context is written with length 0", &raftpb.Message{Context: []byte{}},
		"08 00 | 10 00 | 18 00 | 20 00 | 28 00 | 30 00 | 40 00 | 50 00 | 58 00 | 62 00 | 68 00"},
	{"max values", &raftpb.Message{
		Type: raftpb.MsgForgetLeader, To: math.MaxUint64, From: math.MaxUint64, Term: math.MaxUint64,
		LogTerm: math.MaxUint64, Index: math.MaxUint64, Commit: math.MaxUint64,
		RejectHint: math.MaxUint64, Vote: math.MaxUint64,
	}, "08 17 | 10 " + u64max + " | 18 " + u64max + " | 20 " + u64max + " | 28 " + u64max + " | 30 " + u64max +
		" | 40 " + u64max + " | 50 00 | 58 " + u64max + " | 68 " + u64max},
	{"unknown message type", &raftpb.Message{Type: 200}, "08 c8 01 | 10 00 | 18 00 | 20 00 | 28 00 | 30 00 | 40 00 | 50 00 | 58 00 | 68 00"},
}

var confChangeGolden = []goldenCase{
	{"zero", &raftpb.ConfChange{}, "08 00 | 10 00 | 18 00"},
	{"all fields", &raftpb.ConfChange{ID: 1, Type: raftpb.ConfChangeRemoveNode, NodeID: 3, Context: []byte("ctx")},
		"08 01 | 10 01 | 18 03 | 22 03 63 74 78"},
	{"max values", &raftpb.ConfChange{ID: math.MaxUint64, Type: raftpb.ConfChangeAddLearnerNode, NodeID: math.MaxUint64},
		"08 " + u64max + " | 10 03 | 18 " + u64max},
}

var confChangeSingleGolden = []goldenCase{
	{"zero", &raftpb.ConfChangeSingle{}, "08 00 | 10 00"},
	{"all fields", &raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 300}, "08 03 | 10 ac 02"},
	{"max values", &raftpb.ConfChangeSingle{Type: raftpb.ConfChangeUpdateNode, NodeID: math.MaxUint64},
		"08 02 | 10 " + u64max},
}

var confChangeV2Golden = []goldenCase{
	{"zero", &raftpb.ConfChangeV2{}, "08 00"},
	{"all fields", &raftpb.ConfChangeV2{
		Transition: raftpb.ConfChangeTransitionJointExplicit,
		Changes: []raftpb.ConfChangeSingle{
			{Type: raftpb.ConfChangeAddNode, NodeID: 1}, {Type: raftpb.ConfChangeAddLearnerNode, NodeID: 2},
		},
		Context: []byte{},
	}, "08 02 | 12 04 08 00 10 01 | 12 04 08 03 10 02 | 1a 00"},
	{"max values", &raftpb.ConfChangeV2{
		Transition: raftpb.ConfChangeTransitionJointImplicit,
		Changes:    []raftpb.ConfChangeSingle{{NodeID: math.MaxUint64}},
	}, "08 01 | 12 0d 08 00 10 " + u64max},
}

// allGolden lists the vectors of every type, in a fixed order.
var allGolden = []struct {
	typ   string
	cases []goldenCase
}{
	{"Entry", entryGolden},
	{"HardState", hardStateGolden},
	{"ConfState", confStateGolden},
	{"SnapshotMetadata", snapshotMetadataGolden},
	{"Snapshot", snapshotGolden},
	{"Message", messageGolden},
	{"ConfChange", confChangeGolden},
	{"ConfChangeSingle", confChangeSingleGolden},
	{"ConfChangeV2", confChangeV2Golden},
}

// newLike returns a pointer to a new zero value of the type v points to.
func newLike(v codec) codec {
	return reflect.New(reflect.TypeOf(v).Elem()).Interface().(codec)
}

func TestEncodingMatchesGoldenVectors(t *testing.T) {
	for _, g := range allGolden {
		for _, tc := range g.cases {
			t.Run(g.typ+"/"+tc.name, func(t *testing.T) {
				want := unhex(t, tc.hex)
				if got := tc.value.Marshal(); !bytes.Equal(got, want) {
					t.Errorf("Marshal\n got % x\nwant % x", got, want)
				}
				if got := tc.value.Size(); got != len(want) {
					t.Errorf("Size() = %d, want %d", got, len(want))
				}
				if got := tc.value.AppendMarshal(nil); !bytes.Equal(got, want) {
					t.Errorf("AppendMarshal(nil)\n got % x\nwant % x", got, want)
				}
			})
		}
	}
}

func TestGoldenVectorsDecodeToTheirValues(t *testing.T) {
	for _, g := range allGolden {
		for _, tc := range g.cases {
			t.Run(g.typ+"/"+tc.name, func(t *testing.T) {
				got := newLike(tc.value)
				if err := got.Unmarshal(unhex(t, tc.hex)); err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				if diff := cmp.Diff(tc.value, got); diff != "" {
					t.Errorf("decoded value differs (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestMarshalIsExactlySized checks that Marshal allocates no spare
// capacity, so a caller keeping many encodings wastes nothing.
func TestMarshalIsExactlySized(t *testing.T) {
	for _, g := range allGolden {
		for _, tc := range g.cases {
			b := tc.value.Marshal()
			if cap(b) != len(b) {
				t.Errorf("%s/%s: cap %d != len %d", g.typ, tc.name, cap(b), len(b))
			}
		}
	}
}
