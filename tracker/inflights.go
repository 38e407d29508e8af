package tracker

import (
	"fmt"
	"math"
	"slices"
)

// inflight is one append message awaiting acknowledgement: the index of its
// last entry and the payload bytes of its entries.
type inflight struct {
	index uint64
	bytes uint64
}

// Inflights is the window of append messages a leader has sent to one
// follower in StateReplicate and not yet seen acknowledged. It is bounded
// by a number of messages and, optionally, by a number of payload bytes;
// once either bound is reached the window is [Inflights.Full] and the
// leader stops sending until acknowledgements free room.
//
// Messages are kept in the order they were sent, which is also ascending
// order of their last index. The backing array is a ring that grows only
// as messages are added, so a follower that is never sent anything costs a
// few words.
//
// A nil *Inflights behaves as an empty window without room: it is always
// full and adding to it panics.
type Inflights struct {
	start    int        // position of the oldest message in buffer
	count    int        // messages in the window
	bytes    uint64     // payload bytes of the messages in the window
	maxMsgs  int        // bound on count
	maxBytes uint64     // bound on bytes; 0 means no bound
	buffer   []inflight // ring of messages, grown on demand up to maxMsgs
}

// NewInflights returns an empty window that holds at most maxMsgs messages
// and, unless maxBytes is 0, at most maxBytes payload bytes (the message
// that reaches the bound is admitted whole). It panics if maxMsgs is less
// than 1: such a window could never send anything, and configuration
// validation is expected to have refused it.
func NewInflights(maxMsgs int, maxBytes uint64) *Inflights {
	if maxMsgs < 1 {
		panic(fmt.Sprintf("invariant: NewInflights(%d, %d): the window must admit at least one message", maxMsgs, maxBytes))
	}
	return &Inflights{maxMsgs: maxMsgs, maxBytes: maxBytes}
}

// Clone returns a deep copy of in, or nil if in is nil.
func (in *Inflights) Clone() *Inflights {
	if in == nil {
		return nil
	}
	c := *in
	c.buffer = slices.Clone(in.buffer)
	return &c
}

// Add records a message whose last entry has the given index and whose
// entries carry the given payload bytes. Indexes must be added in strictly
// ascending order. It panics if the window is full or the index does not
// ascend: the caller must check [Inflights.Full] (through
// [Progress.IsPaused]) before sending.
func (in *Inflights) Add(index, bytes uint64) {
	if in.Full() {
		panic(fmt.Sprintf("invariant: Inflights.Add(%d, %d) on a full window (%d msgs, %d bytes)", index, bytes, in.Count(), in.Bytes()))
	}
	if in.count > 0 && index <= in.at(in.count-1).index {
		panic(fmt.Sprintf("invariant: Inflights.Add(%d, %d): indexes must ascend, last is %d", index, bytes, in.at(in.count-1).index))
	}
	if in.count == len(in.buffer) {
		in.grow()
	}
	*in.at(in.count) = inflight{index: index, bytes: bytes}
	in.count++
	in.bytes += bytes
}

// at returns the i-th oldest message of the window.
func (in *Inflights) at(i int) *inflight {
	return &in.buffer[(in.start+i)%len(in.buffer)]
}

// grow doubles the ring (up to maxMsgs), unrolling it so the oldest message
// is first again.
func (in *Inflights) grow() {
	size := min(max(2*len(in.buffer), 1), in.maxMsgs)
	buffer := make([]inflight, size)
	for i := 0; i < in.count; i++ {
		buffer[i] = *in.at(i)
	}
	in.buffer, in.start = buffer, 0
}

// FreeLE frees every message whose last index is at most index: the
// follower has acknowledged them.
func (in *Inflights) FreeLE(index uint64) {
	if in == nil || in.count == 0 {
		return // an empty window is not written: several trackers may share one
	}
	for in.count > 0 {
		oldest := in.at(0)
		if oldest.index > index {
			return
		}
		in.bytes -= oldest.bytes
		in.count--
		in.start = (in.start + 1) % len(in.buffer)
	}
	in.start = 0
}

// Full reports whether the window admits no more messages: it holds its
// maximum number of messages, or it has a byte bound and holds at least
// that many bytes.
func (in *Inflights) Full() bool {
	if in == nil {
		return true
	}
	return in.count >= in.maxMsgs || (in.maxBytes > 0 && in.bytes >= in.maxBytes)
}

// RoomBytes returns how many more payload bytes the window admits before
// it is full by bytes: math.MaxUint64 when it has no byte bound, 0 for a
// nil window.
func (in *Inflights) RoomBytes() uint64 {
	if in == nil {
		return 0
	}
	if in.maxBytes == 0 {
		return math.MaxUint64
	}
	return in.maxBytes - min(in.bytes, in.maxBytes)
}

// Count returns the number of messages in the window.
func (in *Inflights) Count() int {
	if in == nil {
		return 0
	}
	return in.count
}

// Bytes returns the payload bytes of the messages in the window.
func (in *Inflights) Bytes() uint64 {
	if in == nil {
		return 0
	}
	return in.bytes
}

// Reset frees every message. The backing array is kept for reuse. An
// empty window is not written, so that several trackers may share one
// (FreeLE does the same; only Add writes to an empty window).
func (in *Inflights) Reset() {
	if in == nil || in.count == 0 {
		return
	}
	in.start, in.count, in.bytes = 0, 0, 0
}

// CheckInvariants returns an error describing the first broken invariant of
// the window, or nil: at most maxMsgs messages, last indexes strictly
// ascending, and Bytes equal to the sum of the messages' bytes.
func (in *Inflights) CheckInvariants() error {
	if in == nil {
		return nil
	}
	if in.count > in.maxMsgs || in.count > len(in.buffer) {
		return fmt.Errorf("inflights: %d messages exceed the bound %d", in.count, in.maxMsgs)
	}
	var sum uint64
	for i := 0; i < in.count; i++ {
		if i > 0 && in.at(i).index <= in.at(i-1).index {
			return fmt.Errorf("inflights: index %d follows %d", in.at(i).index, in.at(i-1).index)
		}
		sum += in.at(i).bytes
	}
	if sum != in.bytes {
		return fmt.Errorf("inflights: bytes %d, but the messages carry %d", in.bytes, sum)
	}
	return nil
}

// bounds returns the last indexes of the oldest and newest messages, and
// false when the window is empty.
func (in *Inflights) bounds() (first, last uint64, ok bool) {
	if in.Count() == 0 {
		return 0, 0, false
	}
	return in.at(0).index, in.at(in.count - 1).index, true
}
