package kvnode

import (
	"context"
	"testing"
	"time"
)

// framesTicks is how many turns of its ticker each host's loop takes
// while its frames are counted.
const framesTicks = 40

// maxFramesPerLinkTick bounds the frames one host writes to one other
// per turn of its ticker, whatever the number of groups: the round of a
// tick sends the heartbeats of every group it leads to that peer in one
// frame, and the round of the heartbeats received answers those of every
// group the peer leads in one (a flush that finds both queued carries
// both in one). Two frames leave room for a round that sends its
// Messages and its MessagesAfterPersist in two flushes.
const maxFramesPerLinkTick = 4

// linkFrames is what the transports carried while the loops ticked.
type linkFrames struct {
	frames, ticks uint64
	hosts, links  int
}

// perLinkTick returns the frames per directed link per turn of a host's
// ticker.
func (f linkFrames) perLinkTick() float64 {
	return float64(f.frames) / float64(f.links) / (float64(f.ticks) / float64(f.hosts))
}

// countLinkFrames counts the frames the relays in front of the hosts
// carried (framerelay parses the length prefixes on the wire: neither the
// transports' nor the library's counters) until every host's loop has
// taken framesTicks more turns of its ticker, and returns them with the
// turns summed over the hosts.
func countLinkFrames(ctx context.Context, t *testing.T, hc *hostCluster) linkFrames {
	t.Helper()
	if len(hc.relays) != len(hc.hosts) {
		t.Fatalf("%d relays for %d hosts: count frames on a cluster of newRelayedHostCluster", len(hc.relays), len(hc.hosts))
	}
	frames0, ticks0 := map[uint64]uint64{}, map[uint64]uint64{}
	for id, h := range hc.hosts {
		frames0[id], ticks0[id] = hc.relays[id].Frames(), h.counters.loopTicks.Load()
	}
	for id, h := range hc.hosts {
		for h.counters.loopTicks.Load()-ticks0[id] < framesTicks {
			select {
			case <-ctx.Done():
				t.Fatalf("host %d: %d turns of its ticker, want %d: %v", id, h.counters.loopTicks.Load()-ticks0[id], framesTicks, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	n := len(hc.hosts)
	f := linkFrames{hosts: n, links: n * (n - 1)}
	for id, h := range hc.hosts {
		f.frames += hc.relays[id].Frames() - frames0[id]
		f.ticks += h.counters.loopTicks.Load() - ticks0[id]
	}
	return f
}

// awaitAllAsleep waits until every group sleeps on every host.
func awaitAllAsleep(ctx context.Context, t *testing.T, hc *hostCluster) {
	t.Helper()
	awaitHosts(ctx, t, hc, "every group asleep on every host", func(sts map[uint64]*HostStatus) bool {
		for _, st := range sts {
			if st.Quiesced != hc.groups {
				return false
			}
		}
		return true
	})
}

// Claim: with every group awake (quiescence off) and idle, the frames
// between two processes per tick do not grow with the number of groups:
// at 5 and at 50 groups, each directed link carries at most
// maxFramesPerLinkTick frames per turn of a host's ticker (about two: the
// heartbeats of the groups one process leads, and the answers to the
// other's), counted on the wire by relays between the hosts. Sent one frame per
// message, 50 groups would need about 33 per tick.
func TestHostFramesPerLinkPerTickDoNotGrowWithGroupsAwake(t *testing.T) {
	for _, groups := range []int{5, 50} {
		cfg := hostTestConfig()
		cfg.DisableQuiesce = true
		hc := newRelayedHostCluster(t, 3, groups, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		awaitAllLed(ctx, t, hc)
		f := countLinkFrames(ctx, t, hc)
		cancel()
		t.Logf("%d groups awake: %d frames over %d links in %d turns of the hosts' tickers: %.2f per link per tick",
			groups, f.frames, f.links, f.ticks, f.perLinkTick())
		if got := f.perLinkTick(); got > maxFramesPerLinkTick || got < 0.5 {
			t.Errorf("%d groups awake: %.2f frames per directed link per tick, want between 0.5 (a heartbeat frame every tick) and %d",
				groups, got, maxFramesPerLinkTick)
		}
		hc.stopAll()
	}
}

// Claim: with every group asleep, the processes send nothing, whatever
// the number of groups: at 5 and at 50 groups, over framesTicks turns of
// every host's ticker the relays carry at most one frame per
// directed link (an answer to the last heartbeat still leaving), where
// awake groups need two per tick.
func TestHostSendsNoFramesWhileEveryGroupSleeps(t *testing.T) {
	for _, groups := range []int{5, 50} {
		hc := newRelayedHostCluster(t, 3, groups, hostTestConfig())
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		awaitAllLed(ctx, t, hc)
		awaitAllAsleep(ctx, t, hc)
		f := countLinkFrames(ctx, t, hc)
		cancel()
		t.Logf("%d groups asleep: %d frames over %d links in %d turns of the hosts' tickers", groups, f.frames, f.links, f.ticks)
		if f.frames > uint64(f.links) {
			t.Errorf("%d groups asleep: %d frames over %d links in %d turns of the hosts' tickers, want at most one per link",
				groups, f.frames, f.links, f.ticks)
		}
		hc.stopAll()
	}
}

// Claim: three hosts of 1,100 groups over loopback sockets, more groups
// than the transport's default queue holds messages (1,024), elect a
// leader in every group (judged by the leaders the hosts report). It was
// written for a host whose queue to a peer held less than a round of
// elections (each round overflowed it, the drops reported live peers
// down, their groups campaigned again: 105 of 1,100 led after 60 s);
// elections now spread over several ticks and such a host elects every
// group too, so this test no longer guards the queue's size (a known
// gap, TESTING.md), only elections at that scale.
func TestThreeHostsOf1100GroupsElectEveryGroupOverSockets(t *testing.T) {
	if testing.Short() {
		t.Skip("elects 1,100 groups on three hosts")
	}
	const groups = 1100
	// Slow ticks and a long election timeout (500 ms), so that a loaded
	// machine running a round of 1,100 groups late does not hand the
	// followers an election timeout's worth of ticks at once (with 10 ms
	// ticks it failed at load average ~18 with 303 of 1,100 led). Note:
	// since the elections of a starting host spread over several ticks,
	// a host given the transport's default queue also elects every group
	// here; this test no longer catches that planted bug (see TESTING.md).
	cfg := hostTestConfig()
	cfg.TickInterval, cfg.ElectionTicks, cfg.HeartbeatTicks = 20*time.Millisecond, 25, 2
	hc := newHostClusterWith(t, 3, groups, true, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		// A status that times out on a loaded machine is asked again: the
		// claim is judged by the leaders, within the context's deadline.
		leading := 0
		var lastErr error
		for id := range hc.hosts {
			st, err := hc.status(ctx, id)
			if err != nil {
				lastErr = err
				continue
			}
			leading += st.Leading
		}
		if leading >= groups {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d groups have a leader (last status error: %v): %v", leading, groups, lastErr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
