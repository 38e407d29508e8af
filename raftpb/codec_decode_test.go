package raftpb_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
	"pgregory.net/rapid"
)

// decodeCase is an input the decoder must accept and the value it must
// give.
type decodeCase struct {
	name string
	hex  string
	want codec
}

var lenientCases = []decodeCase{
	{"fields out of order", "22 01 78 | 18 0b | 10 05 | 08 01",
		&raftpb.Entry{Type: raftpb.EntryConfChange, Term: 5, Index: 11, Data: []byte("x")}},
	{"message fields out of order", "68 03 | 3a 02 10 07 | 08 03 | 62 00",
		&raftpb.Message{Type: raftpb.MsgApp, Vote: 3, Context: []byte{}, Entries: []raftpb.Entry{{Term: 7}}}},
	{"absent fields stay zero", "", &raftpb.Message{}},
	{"a repeated scalar: last wins", "10 01 | 10 02 | 10 03", &raftpb.Entry{Term: 3}},
	{"a repeated byte field: last wins", "22 01 61 | 22 01 62", &raftpb.Entry{Data: []byte("b")}},
	{"a repeated enum: last wins", "08 05 | 08 02", &raftpb.Message{Type: raftpb.MsgProp}},
	{"a bool is true for any non-zero varint", "50 02", &raftpb.Message{Reject: true}},
	{"auto_leave is true for any non-zero varint", "28 80 01", &raftpb.ConfState{AutoLeave: true}},
	{"an unknown enum value decodes as its number", "08 e4 00", &raftpb.Message{Type: 100}},
	{"a repeated nested message merges", "12 02 10 05 | 12 02 18 03",
		&raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 5, Term: 3}}},
	{"a repeated conf state merges its lists", "0a 02 08 01 | 0a 04 08 02 28 01",
		&raftpb.SnapshotMetadata{ConfState: raftpb.ConfState{Voters: []uint64{1, 2}, AutoLeave: true}}},
	{"a repeated snapshot merges into one", "4a 03 0a 01 61 | 4a 04 12 02 10 07",
		&raftpb.Message{Snapshot: &raftpb.Snapshot{Data: []byte("a"), Metadata: raftpb.SnapshotMetadata{Index: 7}}}},
	{"entries apart from each other keep their order", "3a 02 18 01 | 08 03 | 3a 02 18 02",
		&raftpb.Message{Type: raftpb.MsgApp, Entries: []raftpb.Entry{{Index: 1}, {Index: 2}}}},
	{"packed repeated uint64", "0a 03 01 ac 02", &raftpb.ConfState{Voters: []uint64{1, 300}}},
	{"packed and unpacked mixed", "08 05 | 0a 02 06 07 | 08 08",
		&raftpb.ConfState{Voters: []uint64{5, 6, 7, 8}}},
	{"packed in every list", "0a 01 01 | 12 01 02 | 1a 01 03 | 22 01 04",
		&raftpb.ConfState{Voters: []uint64{1}, Learners: []uint64{2}, VotersOutgoing: []uint64{3}, LearnersNext: []uint64{4}}},
	{"an empty packed list", "0a 00", &raftpb.ConfState{}},
	{"a non-minimal varint", "10 85 80 00", &raftpb.HardState{Vote: 5}},
	{"a ten-byte varint of MaxUint64", "08 " + maxVarint, &raftpb.ConfChangeSingle{Type: -1}},
	{"an empty change", "12 00", &raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{}}}},
}

func TestDecoderAcceptsWhatProtobufAllows(t *testing.T) {
	for _, tc := range lenientCases {
		t.Run(tc.name, func(t *testing.T) {
			got := newLike(tc.want)
			if err := got.Unmarshal(unhex(t, tc.hex)); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, equalValues); diff != "" {
				t.Errorf("decoded value differs (-want +got):\n%s", diff)
			}
		})
	}
}

// unknownFields holds one field of every wire type the decoder must skip:
// varint, fixed64, length-delimited and fixed32, with numbers no type uses
// (15, and 1000 whose key takes two bytes).
var unknownFields = []struct{ name, hex string }{
	{"varint", "78 96 01"},
	{"fixed64", "79 01 02 03 04 05 06 07 08"},
	{"length-delimited", "7a 03 01 02 03"},
	{"fixed32", "7d 01 02 03 04"},
	{"two-byte key", "c0 3e 01"},
	{"max field number", "f8 ff ff ff 0f 00"},
}

func TestDecoderSkipsUnknownFieldsOfEveryWireType(t *testing.T) {
	for _, g := range allGolden {
		for _, tc := range g.cases {
			for _, u := range unknownFields {
				t.Run(g.typ+"/"+tc.name+"/"+u.name, func(t *testing.T) {
					in := unhex(t, u.hex+tc.hex+u.hex)
					got := newLike(tc.value)
					if err := got.Unmarshal(in); err != nil {
						t.Fatalf("Unmarshal: %v", err)
					}
					if diff := cmp.Diff(tc.value, got, equalValues); diff != "" {
						t.Errorf("decoded value differs (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

// errorCase is an input the decoder must refuse, the error class it must
// give and the text the error must show.
type errorCase struct {
	name    string
	into    codec
	hex     string
	wantErr error
	wantMsg string
}

var errorCases = []errorCase{
	{"a truncated key", &raftpb.Entry{}, "88", raftpb.ErrTruncated, "decoding Entry: truncated input"},
	{"a truncated varint", &raftpb.Entry{}, "10 ff", raftpb.ErrTruncated, "Entry field 2 (Term): truncated"},
	{"a key without its value", &raftpb.HardState{}, "18", raftpb.ErrTruncated, "HardState field 3 (Commit)"},
	{"a truncated fixed64", &raftpb.Entry{}, "79 01 02", raftpb.ErrTruncated, "Entry field 15: truncated"},
	{"a truncated fixed32", &raftpb.Entry{}, "7d 01 02 03", raftpb.ErrTruncated, "Entry field 15: truncated"},
	{"a truncated packed list", &raftpb.ConfState{}, "0a 01 ff", raftpb.ErrTruncated, "ConfState field 1 (Voters)"},
	{"an eleven-byte varint", &raftpb.Entry{}, "10 ff ff ff ff ff ff ff ff ff ff 01", raftpb.ErrVarintOverflow,
		"Entry field 2 (Term): varint overflows"},
	{"a ten-byte varint past 64 bits", &raftpb.HardState{}, "08 ff ff ff ff ff ff ff ff ff 02",
		raftpb.ErrVarintOverflow, "HardState field 1 (Term)"},
	{"an overflowing key", &raftpb.Message{}, "ff ff ff ff ff ff ff ff ff 7f", raftpb.ErrVarintOverflow,
		"decoding Message: varint"},
	{"a varint as a length-delimited field", &raftpb.Entry{}, "12 00", raftpb.ErrWrongWireType,
		"Entry field 2 (Term): wrong wire type"},
	{"bytes as a varint", &raftpb.Entry{}, "20 01", raftpb.ErrWrongWireType, "Entry field 4 (Data)"},
	{"entries as a varint", &raftpb.Message{}, "38 01", raftpb.ErrWrongWireType, "Message field 7 (Entries)"},
	{"a list as fixed32", &raftpb.ConfState{}, "0d 00 00 00 00", raftpb.ErrWrongWireType, "ConfState field 1 (Voters)"},
	{"a nested message as fixed64", &raftpb.Snapshot{}, "11 00 00 00 00 00 00 00 00", raftpb.ErrWrongWireType,
		"Snapshot field 2 (Metadata)"},
	{"a bool as fixed32", &raftpb.Message{}, "55 01 00 00 00", raftpb.ErrWrongWireType, "Message field 10 (Reject)"},
	{"a length past the end", &raftpb.Entry{}, "22 05 61", raftpb.ErrInvalidLength, "Entry field 4 (Data): length"},
	{"a length of 2^62", &raftpb.Message{}, "3a 80 80 80 80 80 80 80 80 40", raftpb.ErrInvalidLength,
		"Message field 7 (Entries)"},
	{"a length of MaxUint64", &raftpb.Snapshot{}, "0a " + maxVarint, raftpb.ErrInvalidLength, "Snapshot field 1 (Data)"},
	{"a length past the end of an unknown field", &raftpb.HardState{}, "22 02 00", raftpb.ErrInvalidLength,
		"HardState field 4: length"},
	{"field number 0", &raftpb.Entry{}, "00 00", raftpb.ErrInvalidFieldNumber, "decoding Entry: invalid field number"},
	{"field number 0 with bytes", &raftpb.ConfChange{}, "02 00", raftpb.ErrInvalidFieldNumber, "ConfChange"},
	{"field number 2^29", &raftpb.ConfChangeV2{}, "80 80 80 80 10 00", raftpb.ErrInvalidFieldNumber, "ConfChangeV2"},
	{"a start group", &raftpb.Message{}, "0b", raftpb.ErrInvalidWireType, "Message field 1 (Type): unsupported wire type"},
	{"an end group", &raftpb.ConfChangeSingle{}, "7c", raftpb.ErrInvalidWireType, "ConfChangeSingle field 15"},
	{"wire type 6", &raftpb.HardState{}, "0e", raftpb.ErrInvalidWireType, "HardState field 1 (Term)"},
	{"wire type 7", &raftpb.SnapshotMetadata{}, "0f", raftpb.ErrInvalidWireType, "SnapshotMetadata field 1 (ConfState)"},
}

func TestDecoderRefusesMalformedInput(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			err := newLike(tc.into).Unmarshal(unhex(t, tc.hex))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Unmarshal error = %v, want errors.Is %v", err, tc.wantErr)
			}
			var de *raftpb.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DecodeError", err)
			}
			if !strings.HasPrefix(err.Error(), "raftpb: decoding ") || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q, want it to contain %q", err, tc.wantMsg)
			}
		})
	}
}

// TestNestedDecodeErrorNamesThePath checks that an error inside a nested
// message reads as the path from the outer type to the failing field.
func TestNestedDecodeErrorNamesThePath(t *testing.T) {
	in := unhex(t, "08 03 | 3a 02 10 ff")
	var m raftpb.Message
	err := m.Unmarshal(in)
	want := "raftpb: decoding Message field 7 (Entries): decoding Entry field 2 (Term): truncated input"
	if err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	var de *raftpb.DecodeError
	if !errors.As(err, &de) || de.Type != "Message" || de.Field != 7 || de.Name != "Entries" {
		t.Fatalf("outer DecodeError = %+v, want Message field 7 (Entries)", de)
	}
	var inner *raftpb.DecodeError
	if !errors.As(de.Err, &inner) || inner.Type != "Entry" || inner.Field != 2 || inner.Name != "Term" {
		t.Fatalf("inner DecodeError = %+v, want Entry field 2 (Term)", inner)
	}
	if !errors.Is(err, raftpb.ErrTruncated) {
		t.Fatalf("errors.Is(err, ErrTruncated) = false")
	}
}

func TestEveryTruncationOfAValidEncodingFailsUnlessItEndsOnAField(t *testing.T) {
	for _, g := range allGolden {
		for _, tc := range g.cases {
			t.Run(g.typ+"/"+tc.name, func(t *testing.T) {
				enc := tc.value.Marshal()
				ends := fieldEnds(t, enc)
				for n := 0; n < len(enc); n++ {
					err := newLike(tc.value).Unmarshal(enc[:n])
					switch {
					case ends[n] && err != nil:
						t.Errorf("cut at %d, a field boundary: %v", n, err)
					case !ends[n] && err == nil:
						t.Errorf("cut at %d, inside a field: no error", n)
					case err != nil && !errors.Is(err, raftpb.ErrTruncated) && !errors.Is(err, raftpb.ErrInvalidLength):
						t.Errorf("cut at %d: %v, want ErrTruncated or ErrInvalidLength", n, err)
					}
				}
			})
		}
	}
}

func TestEveryTruncationOfARandomMessageFailsUnlessItEndsOnAField(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := genMessage(1).Draw(t, "m")
		enc := m.Marshal()
		ends := fieldEnds(t, enc)
		for n := 0; n < len(enc); n++ {
			var got raftpb.Message
			if err := got.Unmarshal(enc[:n]); (err == nil) != ends[n] {
				t.Fatalf("cut at %d of %d: error %v, field boundary %v", n, len(enc), err, ends[n])
			}
		}
	})
}

// nestResponses returns the encoding of a Message whose Responses nest
// depth levels deep, built by hand so that any depth can be tried. Each
// level is Type MsgStorageAppend and one response; the innermost is Type
// MsgStorageAppendResp alone.
func nestResponses(depth int) []byte {
	lens := make([]int, depth+1) // lens[i]: the size of the message i levels up from the innermost.
	lens[0] = 2
	for i := 1; i <= depth; i++ {
		lens[i] = 3 + len(appendTestVarint(nil, uint64(lens[i-1]))) + lens[i-1]
	}
	b := make([]byte, 0, lens[depth])
	for i := depth; i > 0; i-- {
		b = appendTestVarint(append(b, 0x08, 0x13, 0x72), uint64(lens[i-1]))
	}
	return append(b, 0x08, 0x14)
}

func appendTestVarint(b []byte, v uint64) []byte {
	for ; v >= 0x80; v >>= 7 {
		b = append(b, byte(v)|0x80)
	}
	return append(b, byte(v))
}

func TestResponsesNestUpToMaxResponseDepth(t *testing.T) {
	var m raftpb.Message
	if err := m.Unmarshal(nestResponses(raftpb.MaxResponseDepth)); err != nil {
		t.Fatalf("depth %d: %v", raftpb.MaxResponseDepth, err)
	}
	depth := 0
	for r := &m; len(r.Responses) > 0; r = &r.Responses[0] {
		depth++
	}
	if depth != raftpb.MaxResponseDepth {
		t.Fatalf("decoded depth %d, want %d", depth, raftpb.MaxResponseDepth)
	}
}

func TestResponsesNestedTooDeepAreRefused(t *testing.T) {
	for _, depth := range []int{raftpb.MaxResponseDepth + 1, 100000} {
		var m raftpb.Message
		err := m.Unmarshal(nestResponses(depth))
		if !errors.Is(err, raftpb.ErrTooDeep) {
			t.Fatalf("depth %d: error %v, want ErrTooDeep", depth, err)
		}
		if !strings.Contains(err.Error(), "Message field 14 (Responses)") {
			t.Errorf("depth %d: error %q does not name the field", depth, err)
		}
	}
}

// TestResponsesBeyondTheBudgetAreRefused: empty responses cost two bytes
// each on the wire; past MaxResponses over all levels the decoder refuses
// them instead of allocating a Message for each.
func TestResponsesBeyondTheBudgetAreRefused(t *testing.T) {
	empty := []byte{14<<3 | 2, 0} // Responses: an empty message
	flat := bytes.Repeat(empty, raftpb.MaxResponses)
	var m raftpb.Message
	if err := m.Unmarshal(flat); err != nil || len(m.Responses) != raftpb.MaxResponses {
		t.Fatalf("%d responses: %v, decoded %d", raftpb.MaxResponses, err, len(m.Responses))
	}
	if err := m.Unmarshal(append(flat, empty...)); !errors.Is(err, raftpb.ErrTooManyResponses) {
		t.Fatalf("%d responses: error %v, want ErrTooManyResponses", raftpb.MaxResponses+1, err)
	}
	// The budget counts every level: one response holding MaxResponses.
	nested := append([]byte{14<<3 | 2}, appendTestVarint(nil, uint64(len(flat)))...)
	nested = append(nested, flat...)
	if err := m.Unmarshal(nested); !errors.Is(err, raftpb.ErrTooManyResponses) {
		t.Fatalf("nested: error %v, want ErrTooManyResponses", err)
	}
}

func TestUnmarshalResetsTheValue(t *testing.T) {
	m := raftpb.Message{
		Term: 9, Entries: []raftpb.Entry{{Index: 1}}, Snapshot: &raftpb.Snapshot{},
		Context: []byte("old"), Responses: []raftpb.Message{{}},
	}
	if err := m.Unmarshal(unhex(t, "08 03")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(raftpb.Message{Type: raftpb.MsgApp}, m); diff != "" {
		t.Errorf("fields of the old value survived (-want +got):\n%s", diff)
	}
	c := raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	if err := c.Unmarshal(unhex(t, "08 07")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(raftpb.ConfState{Voters: []uint64{7}}, c); diff != "" {
		t.Errorf("old voters survived (-want +got):\n%s", diff)
	}
}

func TestDecodedBytesAliasTheInput(t *testing.T) {
	in := (&raftpb.Message{
		Context: []byte("ctx"), Entries: []raftpb.Entry{{Data: []byte("data")}},
		Snapshot: &raftpb.Snapshot{Data: []byte("snap")},
	}).Marshal()
	var m raftpb.Message
	if err := m.Unmarshal(in); err != nil {
		t.Fatal(err)
	}
	for _, field := range [][]byte{m.Context, m.Entries[0].Data, m.Snapshot.Data} {
		i := bytes.Index(in, field)
		if i < 0 || &in[i] != &field[0] {
			t.Fatalf("%q does not alias the input", field)
		}
		// The capacity ends with the field, so an append cannot write
		// over the bytes that follow it in the input.
		if cap(field) != len(field) {
			t.Errorf("%q has capacity %d, want %d", field, cap(field), len(field))
		}
	}
}

func TestPresentEmptyBytesDecodeNonNilAndAbsentBytesNil(t *testing.T) {
	var e raftpb.Entry
	if err := e.Unmarshal(unhex(t, "22 00")); err != nil {
		t.Fatal(err)
	}
	if e.Data == nil || len(e.Data) != 0 {
		t.Errorf("present empty Data decoded as %#v, want non-nil empty", e.Data)
	}
	if err := e.Unmarshal(unhex(t, "08 00")); err != nil {
		t.Fatal(err)
	}
	if e.Data != nil {
		t.Errorf("absent Data decoded as %#v, want nil", e.Data)
	}
}
