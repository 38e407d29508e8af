package raftpb

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"strings"
)

// This file holds the protobuf wire primitives every type's codec is built
// from: varints, keys, length-delimited fields, skipping unknown fields, and
// the decoding errors.

// The decoding errors. Every error returned by an Unmarshal method is a
// *DecodeError wrapping one of these, so callers test the class with
// errors.Is and read the place from the DecodeError.
var (
	// ErrTruncated reports that the input ended in the middle of a key, a
	// varint, a fixed-width value or a length-delimited field.
	ErrTruncated = errors.New("raftpb: truncated input")
	// ErrVarintOverflow reports a varint longer than ten bytes, or a
	// ten-byte varint whose value does not fit in 64 bits.
	ErrVarintOverflow = errors.New("raftpb: varint overflows 64 bits")
	// ErrWrongWireType reports a known field encoded with a wire type its
	// schema does not allow, such as a length-delimited Term.
	ErrWrongWireType = errors.New("raftpb: wrong wire type for field")
	// ErrInvalidLength reports a length prefix that runs past the end of
	// the enclosing message.
	ErrInvalidLength = errors.New("raftpb: length runs past the end of the input")
	// ErrInvalidWireType reports a field of wire type 3 or 4 (groups, which
	// this schema never uses and the decoder does not support) or of the
	// undefined wire types 6 and 7.
	ErrInvalidWireType = errors.New("raftpb: unsupported wire type")
	// ErrInvalidFieldNumber reports a key whose field number is 0 or above
	// the protobuf maximum of 2^29-1.
	ErrInvalidFieldNumber = errors.New("raftpb: invalid field number")
	// ErrTooDeep reports Message.Responses nested more than
	// MaxResponseDepth levels deep.
	ErrTooDeep = errors.New("raftpb: responses nested too deeply")
	// ErrTooManyResponses reports a message holding more than
	// MaxResponses responses at all levels together.
	ErrTooManyResponses = errors.New("raftpb: too many responses")
)

// MaxResponses bounds the responses one message may hold, counted over
// every level of nesting. A response costs two bytes on the wire and a
// whole Message in memory, so without a bound a frame of empty responses
// would make the decoder allocate eighty times its size. Responses ride
// only on a node's messages to its own storage workers, a handful per
// peer.
const MaxResponses = 4096

// MaxResponseDepth is the deepest nesting of Message.Responses that
// Unmarshal accepts: a top-level message may carry responses that carry
// responses, and so on, MaxResponseDepth levels down. Deeper input fails with
// ErrTooDeep, so hostile bytes cannot make the decoder recurse without bound.
const MaxResponseDepth = 32

// maxFieldNumber is the largest field number protobuf allows.
const maxFieldNumber = 1<<29 - 1

// DecodeError reports where and why Unmarshal failed. When the failure lies
// inside a nested message, Err is the *DecodeError of that nested message,
// so the chain of DecodeErrors is the path from the outermost type down to
// the failing field, and the innermost Err is one of the sentinel errors of
// this package.
type DecodeError struct {
	// Type is the Go name of the type being decoded, such as "Message".
	Type string
	// Field is the protobuf field number whose key or value failed to
	// decode, or 0 when no valid field number could be read.
	Field int
	// Name is the Go name of the field, or "" for a field the schema does
	// not know or when Field is 0.
	Name string
	// Err is the cause: a sentinel error such as ErrTruncated, or the
	// *DecodeError of a nested message.
	Err error
}

// Error returns the path to the failure and its cause, such as
// "raftpb: decoding Message field 7 (Entries): decoding Entry field 4
// (Data): truncated input".
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("raftpb: ")
	e.writePath(&b)
	return b.String()
}

func (e *DecodeError) writePath(b *strings.Builder) {
	b.WriteString("decoding ")
	b.WriteString(e.Type)
	if e.Field != 0 {
		b.WriteString(" field ")
		b.WriteString(strconv.Itoa(e.Field))
		if e.Name != "" {
			b.WriteString(" (" + e.Name + ")")
		}
	}
	if inner, ok := e.Err.(*DecodeError); ok {
		b.WriteString(": ")
		inner.writePath(b)
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "raftpb: "))
	}
}

// Unwrap returns the cause, so that errors.Is finds the sentinel error at
// the end of the chain.
func (e *DecodeError) Unwrap() error { return e.Err }

// newDecodeError wraps err with the type and the field it struck. names maps
// field numbers to Go field names.
func newDecodeError(typ string, names []string, num uint64, err error) error {
	e := &DecodeError{Type: typ, Field: int(num), Err: err}
	if num < uint64(len(names)) {
		e.Name = names[num]
	}
	return e
}

// wireType is the low three bits of a key. Every field of this schema has a
// number below 16, so each type's codec writes its keys as one-byte
// constants, (number << 3) | wire type.
type wireType uint8

const (
	wireVarint  wireType = 0
	wireFixed64 wireType = 1
	wireBytes   wireType = 2
	wireFixed32 wireType = 5
)

// sizeVarint returns the number of bytes the varint encoding of v takes.
func sizeVarint(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// sizeUintField returns the encoded size of a varint field with a one-byte
// key.
func sizeUintField(v uint64) int { return 1 + sizeVarint(v) }

// sizeBytesField returns the encoded size of a length-delimited field of n
// bytes with a one-byte key.
func sizeBytesField(n int) int { return 1 + sizeVarint(uint64(n)) + n }

// appendVarint appends the varint encoding of v.
func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// appendUintField appends a varint field.
func appendUintField(b []byte, key byte, v uint64) []byte {
	return appendVarint(append(b, key), v)
}

// appendBoolField appends a bool field, which is a varint of 0 or 1.
func appendBoolField(b []byte, key byte, v bool) []byte {
	if v {
		return append(b, key, 1)
	}
	return append(b, key, 0)
}

// appendBytesField appends a length-delimited field holding p.
func appendBytesField(b []byte, key byte, p []byte) []byte {
	b = appendVarint(append(b, key), uint64(len(p)))
	return append(b, p...)
}

// appendLenPrefix appends the key and length of a nested message of n bytes,
// which the caller then appends.
func appendLenPrefix(b []byte, key byte, n int) []byte {
	return appendVarint(append(b, key), uint64(n))
}

// decoder reads protobuf fields from data, front to back. It never reads
// past the end of data and never allocates.
type decoder struct {
	data []byte
	pos  int
}

// done reports whether every byte has been read.
func (d *decoder) done() bool { return d.pos >= len(d.data) }

// uvarint reads one varint. Its one-byte case, which holds every key and
// most values, takes a short path.
func (d *decoder) uvarint() (uint64, error) {
	if d.pos < len(d.data) {
		if c := d.data[d.pos]; c < 0x80 {
			d.pos++
			return uint64(c), nil
		}
	}
	return d.uvarintSlow()
}

// uvarintSlow reads a varint of more than one byte, or fails.
func (d *decoder) uvarintSlow() (uint64, error) {
	v, n := binary.Uvarint(d.data[d.pos:])
	switch {
	case n == 0:
		return 0, ErrTruncated
	case n < 0:
		return 0, ErrVarintOverflow
	}
	d.pos += n
	return v, nil
}

// key reads a field key and checks that its field number and wire type are
// valid protobuf.
func (d *decoder) key() (num uint64, wt wireType, err error) {
	k, err := d.uvarint()
	if err != nil {
		return 0, 0, err
	}
	num, wt = k>>3, wireType(k&7)
	if num == 0 || num > maxFieldNumber {
		return 0, wt, ErrInvalidFieldNumber
	}
	switch wt {
	case wireVarint, wireFixed64, wireBytes, wireFixed32:
		return num, wt, nil
	}
	return num, wt, ErrInvalidWireType
}

// uintField reads the value of a varint field, which must have wire type 0.
func (d *decoder) uintField(wt wireType) (uint64, error) {
	if wt != wireVarint {
		return 0, ErrWrongWireType
	}
	return d.uvarint()
}

// bytesField reads the value of a length-delimited field, which must have
// wire type 2. The result aliases the input; its capacity ends where it
// does, so that appending to it never overwrites the input.
func (d *decoder) bytesField(wt wireType) ([]byte, error) {
	if wt != wireBytes {
		return nil, ErrWrongWireType
	}
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	// Compare as uint64 so that a huge length cannot overflow an int.
	if n > uint64(len(d.data)-d.pos) {
		return nil, ErrInvalidLength
	}
	end := d.pos + int(n)
	p := d.data[d.pos:end:end]
	d.pos = end
	return p, nil
}

// skip reads past the value of a field the schema does not know.
func (d *decoder) skip(wt wireType) error {
	switch wt {
	case wireVarint:
		_, err := d.uvarint()
		return err
	case wireFixed64:
		return d.skipFixed(8)
	case wireFixed32:
		return d.skipFixed(4)
	case wireBytes:
		_, err := d.bytesField(wt)
		return err
	}
	return ErrInvalidWireType
}

func (d *decoder) skipFixed(n int) error {
	if len(d.data)-d.pos < n {
		d.pos = len(d.data)
		return ErrTruncated
	}
	d.pos += n
	return nil
}

// countMessages counts the length-delimited fields numbered a and b in
// data, so that a decoder can size the slice of a repeated message field once
// before filling it. It stops silently at the first malformed byte: the
// decoding pass that follows reports the error, and can append no more than
// was counted before it.
func countMessages(data []byte, a, b uint64) (na, nb int) {
	d := decoder{data: data}
	for !d.done() {
		num, wt, err := d.key()
		if err != nil || d.skip(wt) != nil {
			break
		}
		if wt != wireBytes {
			continue
		}
		switch num {
		case a:
			na++
		case b:
			nb++
		}
	}
	return na, nb
}

// countUints counts the elements of the repeated varint fields numbered 1 to
// len(counts)-1 in data into counts, by field number. An unpacked element
// counts one; a packed field counts one per varint it holds, that is, one
// per byte without the continuation bit. Like countMessages it stops
// silently at the first malformed byte.
func countUints(data []byte, counts []int) {
	d := decoder{data: data}
	for !d.done() {
		num, wt, err := d.key()
		if err != nil {
			return
		}
		known := num < uint64(len(counts))
		if wt == wireBytes {
			p, err := d.bytesField(wt)
			if err != nil {
				return
			}
			if known {
				counts[num] += countVarints(p)
			}
			continue
		}
		if d.skip(wt) != nil {
			return
		}
		if known && wt == wireVarint {
			counts[num]++
		}
	}
}

// countVarints returns how many varints packed holds: one per byte without
// the continuation bit.
func countVarints(packed []byte) int {
	n := 0
	for _, c := range packed {
		if c < 0x80 {
			n++
		}
	}
	return n
}

// reserve returns s with room for n more elements, allocating at most once.
// Unlike slices.Grow it allocates exactly what is asked, and it makes one
// allocation in every build mode, the race detector's included.
func reserve[E any](s []E, n int) []E {
	if n <= cap(s)-len(s) {
		return s
	}
	grown := make([]E, len(s), len(s)+n)
	copy(grown, s)
	return grown
}
