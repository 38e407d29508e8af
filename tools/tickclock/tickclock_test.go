package tickclock

import (
	"testing"
	"time"
)

func TestElapsedCountsWholeIntervalsWithoutDrift(t *testing.T) {
	start := time.Unix(1000, 0)
	c := New(10*time.Millisecond, start)
	total := 0
	// 1,000 readings 7 ms apart: rounding each would lose 3 ms a reading.
	for i := 1; i <= 1000; i++ {
		total += c.Elapsed(start.Add(time.Duration(i) * 7 * time.Millisecond))
	}
	if total != 700 {
		t.Fatalf("%d ticks over 7 s of 10 ms ticks, want 700", total)
	}
}

func TestAPauseIsSeenAsItsMissedTicks(t *testing.T) {
	start := time.Unix(1000, 0)
	c := New(100*time.Millisecond, start)
	if n := c.Elapsed(start.Add(250 * time.Millisecond)); n != 2 {
		t.Fatalf("after 250 ms: %d ticks, want 2", n)
	}
	if n := c.Elapsed(start.Add(250*time.Millisecond + 5*time.Second)); n != 50 {
		t.Fatalf("after a 5 s pause: %d ticks, want 50", n)
	}
	if n := c.Elapsed(start.Add(time.Second)); n != 0 {
		t.Fatalf("a reading from the past gave %d ticks", n)
	}
}

func TestAHugePauseSaturates(t *testing.T) {
	start := time.Unix(0, 0)
	c := New(time.Nanosecond, start)
	if n := c.Elapsed(start.Add(100 * 365 * 24 * time.Hour)); n <= 0 {
		t.Fatalf("a century in nanosecond ticks gave %d", n)
	}
}
