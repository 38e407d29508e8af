package tracker_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tickraft/raft/tracker"
)

// mustPanic fails t unless f panics with a message containing want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		if msg, _ := r.(string); !strings.Contains(msg, want) {
			t.Fatalf("panic %v, want one mentioning %q", r, want)
		}
	}()
	f()
}

func TestInflightsIsFullAtMessageBound(t *testing.T) {
	in := tracker.NewInflights(3, 0)
	for i := uint64(1); i <= 3; i++ {
		if in.Full() {
			t.Fatalf("full after %d of 3 messages", i-1)
		}
		in.Add(i, 1000)
	}
	if !in.Full() || in.Count() != 3 || in.Bytes() != 3000 {
		t.Fatalf("after 3 adds: full=%v count=%d bytes=%d, want full, 3, 3000", in.Full(), in.Count(), in.Bytes())
	}
}

func TestInflightsIsFullAtByteBoundAndAdmitsTheMessageReachingIt(t *testing.T) {
	in := tracker.NewInflights(10, 100)
	in.Add(1, 60)
	if in.Full() {
		t.Fatal("full at 60 of 100 bytes")
	}
	in.Add(2, 60) // crosses the bound, admitted whole
	if !in.Full() || in.Bytes() != 120 {
		t.Fatalf("full=%v bytes=%d, want full at 120 bytes", in.Full(), in.Bytes())
	}
	in.FreeLE(1)
	if in.Full() || in.Bytes() != 60 {
		t.Fatalf("after freeing: full=%v bytes=%d, want not full at 60", in.Full(), in.Bytes())
	}
}

func TestInflightsFreeLEFreesEveryMessageUpToIndex(t *testing.T) {
	in := tracker.NewInflights(10, 0)
	for _, idx := range []uint64{3, 5, 8, 13} {
		in.Add(idx, idx)
	}
	in.FreeLE(2)
	if in.Count() != 4 {
		t.Fatalf("FreeLE below every message freed something: count %d", in.Count())
	}
	in.FreeLE(7)
	want := [][2]uint64{{8, 8}, {13, 13}}
	if diff := cmp.Diff(want, tracker.InflightsContents(in)); diff != "" {
		t.Fatalf("after FreeLE(7) (-want +got):\n%s", diff)
	}
	in.FreeLE(100)
	if in.Count() != 0 || in.Bytes() != 0 {
		t.Fatalf("after FreeLE(100): count %d bytes %d, want empty", in.Count(), in.Bytes())
	}
}

func TestInflightsWrapAroundKeepsOrder(t *testing.T) {
	in := tracker.NewInflights(4, 0)
	for idx := uint64(1); idx <= 20; idx++ {
		in.Add(idx, 1)
		if idx > 3 {
			in.FreeLE(idx - 3) // keep three in flight, rotating the ring
		}
	}
	want := [][2]uint64{{18, 1}, {19, 1}, {20, 1}}
	if diff := cmp.Diff(want, tracker.InflightsContents(in)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if err := in.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

func TestInflightsGrowLazilyUpToTheBound(t *testing.T) {
	in := tracker.NewInflights(1000, 0)
	if c := tracker.InflightsCapacity(in); c != 0 {
		t.Fatalf("new window holds a ring of %d", c)
	}
	for idx := uint64(1); idx <= 5; idx++ {
		in.Add(idx, 0)
	}
	if c := tracker.InflightsCapacity(in); c < 5 || c > 8 {
		t.Fatalf("after 5 adds the ring holds %d, want 5..8", c)
	}
	small := tracker.NewInflights(3, 0)
	for idx := uint64(1); idx <= 3; idx++ {
		small.Add(idx, 0)
	}
	if c := tracker.InflightsCapacity(small); c != 3 {
		t.Fatalf("ring of a 3-message window grew to %d", c)
	}
}

func TestInflightsAddPanicsWhenFull(t *testing.T) {
	in := tracker.NewInflights(1, 0)
	in.Add(1, 0)
	mustPanic(t, "full window", func() { in.Add(2, 0) })
	mustPanic(t, "full window", func() { (*tracker.Inflights)(nil).Add(1, 0) })
}

func TestInflightsAddPanicsWhenIndexDoesNotAscend(t *testing.T) {
	in := tracker.NewInflights(5, 0)
	in.Add(4, 0)
	mustPanic(t, "must ascend", func() { in.Add(4, 0) })
	mustPanic(t, "must ascend", func() { in.Add(3, 0) })
}

func TestNewInflightsPanicsWithoutRoomForAMessage(t *testing.T) {
	mustPanic(t, "at least one message", func() { tracker.NewInflights(0, 10) })
}

func TestInflightsResetEmptiesTheWindow(t *testing.T) {
	in := tracker.NewInflights(2, 0)
	in.Add(1, 5)
	in.Add(2, 5)
	in.Reset()
	if in.Count() != 0 || in.Bytes() != 0 || in.Full() {
		t.Fatalf("after Reset: count %d bytes %d full %v", in.Count(), in.Bytes(), in.Full())
	}
	in.Add(1, 1) // indexes may start over after a reset
}

func TestInflightsCloneIsIndependent(t *testing.T) {
	in := tracker.NewInflights(4, 0)
	in.Add(1, 10)
	c := in.Clone()
	c.Add(2, 10)
	in.FreeLE(1)
	if in.Count() != 0 || c.Count() != 2 || c.Bytes() != 20 {
		t.Fatalf("original count %d, clone count %d bytes %d: want 0, 2, 20", in.Count(), c.Count(), c.Bytes())
	}
	if (*tracker.Inflights)(nil).Clone() != nil {
		t.Fatal("clone of nil is not nil")
	}
}

func TestNilInflightsIsAnEmptyWindowWithoutRoom(t *testing.T) {
	var in *tracker.Inflights
	in.FreeLE(10)
	in.Reset()
	if in.Count() != 0 || in.Bytes() != 0 || !in.Full() || in.CheckInvariants() != nil {
		t.Fatal("nil window is not empty and full")
	}
}

// inflightsModel is the obvious implementation: a slice.
type inflightsModel struct {
	msgs     [][2]uint64
	maxMsgs  int
	maxBytes uint64
}

func (m *inflightsModel) bytes() uint64 {
	var sum uint64
	for _, msg := range m.msgs {
		sum += msg[1]
	}
	return sum
}

func (m *inflightsModel) full() bool {
	return len(m.msgs) == m.maxMsgs || (m.maxBytes > 0 && m.bytes() >= m.maxBytes)
}

func (m *inflightsModel) freeLE(index uint64) {
	var kept [][2]uint64
	for _, msg := range m.msgs {
		if msg[0] > index {
			kept = append(kept, msg)
		}
	}
	m.msgs = kept
}

func TestInflightsBehavesLikeASlice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxMsgs := rapid.IntRange(1, 8).Draw(t, "maxMsgs")
		maxBytes := rapid.Uint64Range(0, 300).Draw(t, "maxBytes")
		in := tracker.NewInflights(maxMsgs, maxBytes)
		model := &inflightsModel{maxMsgs: maxMsgs, maxBytes: maxBytes}
		next := uint64(1)
		for step := rapid.IntRange(0, 100).Draw(t, "steps"); step > 0; step-- {
			switch rapid.IntRange(0, 9).Draw(t, "op") {
			case 0:
				in.Reset()
				model.msgs = nil
			case 1:
				in = in.Clone()
			case 2, 3, 4:
				idx := rapid.Uint64Range(0, next+2).Draw(t, "free")
				in.FreeLE(idx)
				model.freeLE(idx)
			default:
				if model.full() {
					continue
				}
				next += rapid.Uint64Range(1, 3).Draw(t, "gap")
				b := rapid.Uint64Range(0, 100).Draw(t, "bytes")
				in.Add(next, b)
				model.msgs = append(model.msgs, [2]uint64{next, b})
			}
			if err := in.CheckInvariants(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(model.msgs, tracker.InflightsContents(in)); diff != "" {
				t.Fatalf("contents (-model +window):\n%s", diff)
			}
			if in.Count() != len(model.msgs) || in.Bytes() != model.bytes() || in.Full() != model.full() {
				t.Fatalf("count %d bytes %d full %v, model says %d %d %v",
					in.Count(), in.Bytes(), in.Full(), len(model.msgs), model.bytes(), model.full())
			}
		}
	})
}
