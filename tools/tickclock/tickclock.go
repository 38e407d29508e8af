// Package tickclock turns the monotonic clock into the ticks a tickraft
// node counts. It is supported API: the library reads no clock, so the
// application does, and this is the small, easy-to-get-wrong part of that.
//
// The tick contract: a tick is a unit of the application's monotonic
// clock, and every tick that has elapsed reaches the node before any
// other input is stepped. A loop therefore reads the clock after it takes
// an input off its queue and before it steps it:
//
//	clock := tickclock.New(interval, time.Now())
//	for {
//		select {
//		case <-ticker.C: // only wakes the loop: the clock counts the ticks
//			rn.TickN(clock.Elapsed(time.Now()))
//		case m := <-fromNetwork:
//			rn.TickN(clock.Elapsed(time.Now())) // a pause before this line is seen now
//			rn.Step(m)
//		}
//		...
//	}
//
// Reading the clock at the top of the loop instead lets a process paused
// inside select (garbage collection, a stopped VM, SIGSTOP) step what
// arrived during the pause against the clock of before it: a leader would
// then serve a lease read after its lease ran out. A time.Ticker alone is
// no clock either: it drops the ticks missed during a pause.
//
// Go's monotonic clock stops while the host is suspended (a laptop's
// sleep): leases are safe only on hosts that cannot suspend.
package tickclock

import (
	"math"
	"time"
)

// Clock counts the whole tick intervals elapsed since it started. It is
// not safe for concurrent use: the goroutine that owns the node owns it.
type Clock struct {
	interval time.Duration
	start    time.Time
	// counted is the number of ticks handed out so far.
	counted int64
}

// New returns a clock of ticks of interval (which must be positive)
// starting at start, a reading of time.Now.
func New(interval time.Duration, start time.Time) *Clock {
	if interval <= 0 {
		panic("tickclock: the interval must be positive")
	}
	return &Clock{interval: interval, start: start}
}

// Elapsed returns the ticks that elapsed between the previous call (or
// the start) and now, a later reading of time.Now, for RawNode.TickN. It
// counts from the start, so rounding never accumulates: over any run the
// ticks handed out are the whole intervals elapsed. A now earlier than
// the last one (impossible with monotonic readings) gives 0.
func (c *Clock) Elapsed(now time.Time) int {
	total := int64(now.Sub(c.start) / c.interval)
	n := total - c.counted
	if n <= 0 {
		return 0
	}
	c.counted = total
	return int(min(n, math.MaxInt32))
}
