package raftpb_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
)

// The fuzz targets feed arbitrary bytes to each type's Unmarshal. Whatever
// the input, decoding must not panic, must fail only with a *DecodeError,
// and anything it accepts must re-encode to bytes that decode to an equal
// value and re-encode to themselves. Besides the f.Add seeds (every golden
// vector, lenient input and refused input of the type), each target has a
// corpus in testdata/fuzz/<FuzzName>.

func FuzzUnmarshalEntry(f *testing.F)            { fuzzUnmarshal[raftpb.Entry](f) }
func FuzzUnmarshalHardState(f *testing.F)        { fuzzUnmarshal[raftpb.HardState](f) }
func FuzzUnmarshalConfState(f *testing.F)        { fuzzUnmarshal[raftpb.ConfState](f) }
func FuzzUnmarshalSnapshotMetadata(f *testing.F) { fuzzUnmarshal[raftpb.SnapshotMetadata](f) }
func FuzzUnmarshalSnapshot(f *testing.F)         { fuzzUnmarshal[raftpb.Snapshot](f) }
func FuzzUnmarshalMessage(f *testing.F)          { fuzzUnmarshal[raftpb.Message](f) }
func FuzzUnmarshalConfChange(f *testing.F)       { fuzzUnmarshal[raftpb.ConfChange](f) }
func FuzzUnmarshalConfChangeSingle(f *testing.F) { fuzzUnmarshal[raftpb.ConfChangeSingle](f) }
func FuzzUnmarshalConfChangeV2(f *testing.F)     { fuzzUnmarshal[raftpb.ConfChangeV2](f) }

func fuzzUnmarshal[T any, P codecPtr[T]](f *testing.F) {
	for _, seed := range seedsFor(reflect.TypeFor[T](), f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v T
		if err := P(&v).Unmarshal(data); err != nil {
			var de *raftpb.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			return
		}
		enc := P(&v).Marshal()
		if len(enc) != P(&v).Size() {
			t.Fatalf("Size() = %d, len(Marshal()) = %d", P(&v).Size(), len(enc))
		}
		var w T
		if err := P(&w).Unmarshal(enc); err != nil {
			t.Fatalf("the re-encoding of an accepted input fails to decode: %v\n% x", err, enc)
		}
		if again := P(&w).Marshal(); !bytes.Equal(again, enc) {
			t.Fatalf("re-encoding is not stable:\n% x\n% x", enc, again)
		}
		if !sameValue(&v, &w) {
			t.Fatalf("decode(encode(decode(data))) != decode(data) (-first +second):\n%s",
				cmp.Diff(v, w, equalValues))
		}
	})
}

// seedsFor returns the inputs of the tables of this package's tests that
// decode into typ: golden vectors, lenient inputs, refused inputs.
func seedsFor(typ reflect.Type, t testing.TB) [][]byte {
	var seeds [][]byte
	for _, g := range allGolden {
		for _, tc := range g.cases {
			if reflect.TypeOf(tc.value).Elem() == typ {
				seeds = append(seeds, unhex(t, tc.hex))
			}
		}
	}
	for _, tc := range lenientCases {
		if reflect.TypeOf(tc.want).Elem() == typ {
			seeds = append(seeds, unhex(t, tc.hex))
		}
	}
	for _, tc := range errorCases {
		if reflect.TypeOf(tc.into).Elem() == typ {
			seeds = append(seeds, unhex(t, tc.hex))
		}
	}
	return seeds
}
