package raftpb_test

import (
	"encoding/binary"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
)

// codec is the method set every wire type has on its pointer.
type codec interface {
	Size() int
	AppendMarshal(buf []byte) []byte
	Marshal() []byte
	Unmarshal(data []byte) error
}

// codecPtr is a pointer to a wire type T.
type codecPtr[T any] interface {
	*T
	codec
}

// equalValues compares decoded values: a repeated field (of numbers,
// entries, responses or changes) that is nil equals one that is empty,
// because the wire cannot tell them apart, but a byte field keeps the
// difference between nil (absent) and empty (present with length 0).
var equalValues = cmp.Options{
	equateEmpty[uint64](),
	equateEmpty[raftpb.Entry](),
	equateEmpty[raftpb.Message](),
	equateEmpty[raftpb.ConfChangeSingle](),
}

// sameValue reports whether a and b are equal in the sense of equalValues.
// Unlike cmp, whose cost grows steeply with the nesting of Responses, it is
// linear in the size of the values, so fuzz targets can call it on
// responses nested MaxResponseDepth deep. It clears empty repeated fields of
// a and b to nil in place.
func sameValue[T any](a, b *T) bool {
	clearEmptyRepeated(reflect.ValueOf(a).Elem())
	clearEmptyRepeated(reflect.ValueOf(b).Elem())
	return reflect.DeepEqual(a, b)
}

// clearEmptyRepeated sets every empty slice within v, other than byte
// slices, to nil.
func clearEmptyRepeated(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			clearEmptyRepeated(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			clearEmptyRepeated(v.Field(i))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		if v.Len() == 0 {
			v.SetZero()
		}
		for i := 0; i < v.Len(); i++ {
			clearEmptyRepeated(v.Index(i))
		}
	}
}

func equateEmpty[E any]() cmp.Option {
	return cmp.FilterValues(func(x, y []E) bool { return len(x) == 0 && len(y) == 0 }, cmp.Ignore())
}

// unhex turns "08 00 10 ff" into bytes. Spaces and a "|" (which the
// vectors use to separate fields) are ignored.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// fataler is what the helpers need of a *testing.T, *testing.F or
// *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// maxVarint is the varint encoding of MaxUint64: nine bytes of seven one
// bits each, then the 64th bit.
const maxVarint = "ff ff ff ff ff ff ff ff ff 01"

// fieldEnds returns the offsets at which the top-level fields of a valid
// encoding end. It is the slow, obvious walker the truncation test checks
// the decoder against: every wire type of a valid encoding is varint or
// length-delimited here.
func fieldEnds(t fataler, b []byte) map[int]bool {
	t.Helper()
	ends := map[int]bool{0: true}
	for pos := 0; pos < len(b); {
		key, n := binary.Uvarint(b[pos:])
		pos += n
		v, n := binary.Uvarint(b[pos:])
		if n <= 0 {
			t.Fatalf("fieldEnds: bad varint at %d", pos)
		}
		pos += n
		if key&7 == 2 {
			pos += int(v)
		}
		ends[pos] = true
	}
	return ends
}
