package kvnode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fnvGroup is the sharding rule written out independently of GroupOf:
// FNV-1a 64 over the key's bytes, modulo groups, plus one.
func fnvGroup(key string, groups int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return h%uint64(groups) + 1
}

// Claim: GroupOf is the documented rule, and spreads keys over every
// group.
func TestGroupOfIsFNV1aModuloGroups(t *testing.T) {
	seen := map[uint64]int{}
	for i := 0; i < 1000; i++ {
		k := fmt.Sprintf("key-%d", i)
		if got, want := GroupOf(k, 16), fnvGroup(k, 16); got != want {
			t.Fatalf("GroupOf(%q, 16) = %d, want %d", k, got, want)
		}
		seen[GroupOf(k, 16)]++
	}
	if len(seen) != 16 {
		t.Fatalf("1000 keys fell in %d of 16 groups", len(seen))
	}
	if GroupOf("x", 1) != 1 || GroupOf("x", 0) != 1 {
		t.Fatal("one group (or none) must hold every key")
	}
}

// writeHostKeys writes n keys prefix-i through the cluster's client with
// a few concurrent writers, and returns the acknowledged ones with the
// index of their entry in their group.
func writeHostKeys(ctx context.Context, t *testing.T, c *Client, prefix string, n int) map[string]uint64 {
	t.Helper()
	acked := map[string]uint64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				k := fmt.Sprintf("%s-%04d", prefix, i)
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				idx, err := c.Put(wctx, k, []byte("v:"+k))
				cancel()
				if err == nil {
					mu.Lock()
					acked[k] = idx
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatalf("no write of %s was acknowledged", prefix)
	}
	return acked
}

// verifyHostReads reads every acknowledged key from every running host
// with a local read at the index its write returned (in its group), so
// that each replica has applied it first.
func verifyHostReads(ctx context.Context, t *testing.T, hc *hostCluster, acked map[string]uint64) {
	t.Helper()
	for id := range hc.hosts {
		addr := hc.peers[id-1].HTTPAddr
		for k, idx := range acked {
			res, err := getApplied(ctx, hc.c, addr, k, idx)
			switch {
			case err != nil:
				t.Fatalf("host %d: reading acknowledged key %s (index %d of group %d): %v", id, k, idx, fnvGroup(k, hc.groups), err)
			case !res.Found || res.Value != "v:"+k:
				t.Fatalf("host %d: acknowledged key %s reads found=%v %q", id, k, res.Found, res.Value)
			}
		}
	}
}

// getApplied reads key locally from addr once the host has applied
// minIndex in the key's group, asking again while the host answers that
// it lags (a restarted host catching up on a loaded machine), for up to
// ten seconds.
func getApplied(ctx context.Context, c *Client, addr, key string, minIndex uint64) (KVResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		res, err := c.Get(ctx, addr, key, ConsistencyLocal, minIndex)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeTimeout || ctx.Err() != nil {
			return res, err
		}
	}
}

// checkGroupStates stops every host and judges each group's state
// machine on each: it holds only keys of its own group (by fnvGroup),
// and every acknowledged key of its group with its value.
func checkGroupStates(t *testing.T, hc *hostCluster, acked map[string]uint64) {
	t.Helper()
	stopped := map[uint64]*Host{}
	for id, h := range hc.hosts {
		if err := h.Stop(); err != nil {
			t.Errorf("host %d stopped with %v", id, err)
		}
		stopped[id] = h
		delete(hc.hosts, id)
	}
	for id, h := range stopped {
		for _, g := range h.groups {
			if g == nil {
				continue
			}
			for k := range g.sm.kv {
				if want := fnvGroup(k, hc.groups); want != g.id {
					t.Fatalf("host %d: group %d holds key %s of group %d", id, g.id, k, want)
				}
			}
		}
		for k := range acked {
			g := h.groups[fnvGroup(k, hc.groups)-1]
			if g == nil {
				continue // no replica of the key's group on this host
			}
			if v, ok := g.sm.kv[k]; !ok || string(v) != "v:"+k {
				t.Fatalf("host %d: group %d lacks acknowledged key %s (has %v %q)", id, g.id, k, ok, v)
			}
		}
	}
}

// Claim: on three hosts of 16 groups, every acknowledged write is read
// back from every host, and each group's state on each host holds the
// keys of its group and no other: keys are routed by the sharding rule
// and each group's messages are stepped into that group alone; and the
// updates of the groups that write in the same round are synced together
// (the memory log counts syncs against updates).
func TestHostRoutesEveryKeyToItsGroupOnEveryReplica(t *testing.T) {
	hc := newHostCluster(t, 3, 16, false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	acked := writeHostKeys(ctx, t, hc.c, "k", 300)
	verifyHostReads(ctx, t, hc, acked)
	hc.hub.mu.Lock()
	carried := hc.hub.carried
	hc.hub.mu.Unlock()
	if carried == 0 {
		t.Fatal("the hub carried nothing")
	}
	for id, l := range hc.logs {
		l.mu.Lock()
		saves, syncs := l.saves, l.nsyncs
		l.mu.Unlock()
		t.Logf("host %d: %d syncs for %d group updates", id, syncs, saves)
		if syncs == 0 || 4*syncs > 3*saves {
			t.Errorf("host %d: %d syncs for %d group updates; want the updates of a round synced together", id, syncs, saves)
		}
	}
	checkGroupStates(t, hc, acked)
}

// leadingHost returns the running host that leads the most groups, and
// how many it leads, asked over HTTP.
func leadingHost(ctx context.Context, t *testing.T, hc *hostCluster) (uint64, int) {
	t.Helper()
	best, most := uint64(0), -1
	for id := range hc.hosts {
		st, err := hc.status(ctx, id)
		if err != nil {
			t.Fatalf("status of host %d: %v", id, err)
		}
		if st.Leading > most {
			best, most = id, st.Leading
		}
	}
	return best, most
}

// Claim: a host killed while it leads groups, and started again from its
// log, holds every acknowledged key of every group (those written while
// it was down included, through the new leaders of its groups), and so
// again after a second restart with nothing to catch up on (every group
// restored from its own log); every group's state holds only its own
// keys.
func TestHostKilledWhileLeadingGroupsRestoresEveryGroup(t *testing.T) {
	testHostKillRestart(t, false)
}

func testHostKillRestart(t *testing.T, sockets bool) {
	hc := newHostCluster(t, 3, 16, sockets)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	acked := writeHostKeys(ctx, t, hc.c, "before", 200)
	victim, led := leadingHost(ctx, t, hc)
	if led == 0 {
		t.Fatal("no host leads a group")
	}
	hc.kill(victim)
	for k, v := range writeHostKeys(ctx, t, hc.c, "during", 150) {
		acked[k] = v
	}
	hc.start(victim)
	for k, v := range writeHostKeys(ctx, t, hc.c, "after", 50) {
		acked[k] = v
	}
	verifyHostReads(ctx, t, hc, acked)
	// Up to date now, the host is killed again and restarts with no write
	// in between: no leader sends it a snapshot, so every group must come
	// back from its own log and snapshot.
	hc.kill(victim)
	hc.start(victim)
	verifyHostReads(ctx, t, hc, acked)
	checkGroupStates(t, hc, acked)
	t.Logf("host %d led %d of 16 groups when it was killed; %d keys verified on every host", victim, led, len(acked))
}

// Claim: the same over loopback sockets and files: three processes' hosts
// (StartHost: the TCP transport, one log per group on disk), one killed
// while it leads groups and started again from its data directory.
func TestHostOverSocketsKilledWhileLeadingRestoresEveryGroup(t *testing.T) {
	testHostKillRestart(t, true)
}

// Claim: when the host leading groups dies while every group sleeps (no
// follower times out by itself), the groups it led elect new leaders
// among the others, told by their transports that it is gone, with no
// client request to wake them, and acknowledge writes to every group
// again.
func TestHostKilledWhileItsGroupsSleepHasThemReelected(t *testing.T) {
	hc := newHostCluster(t, 3, 8, false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	acked := writeHostKeys(ctx, t, hc.c, "before", 40)
	for id := range hc.hosts {
		for {
			st, err := hc.status(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if st.Quiesced == hc.groups {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("host %d: %d of %d groups asleep", id, st.Quiesced, hc.groups)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	victim, led := leadingHost(ctx, t, hc)
	if led == 0 {
		t.Fatal("no host leads a group")
	}
	hc.kill(victim)
	// Nothing is asked of the groups (a status does not wake them): the
	// report of the lost connection alone must get them a new leader.
	awaitAllLed(ctx, t, hc)
	// One key per group, so that every group the victim led has a write.
	perGroup := map[uint64]string{}
	for i := 0; len(perGroup) < hc.groups; i++ {
		k := fmt.Sprintf("after-%d", i)
		if _, ok := perGroup[fnvGroup(k, hc.groups)]; !ok {
			perGroup[fnvGroup(k, hc.groups)] = k
		}
	}
	for g, k := range perGroup {
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		idx, err := hc.c.Put(wctx, k, []byte("v:"+k))
		cancel()
		if err != nil {
			t.Fatalf("group %d (host %d led %d groups asleep when killed): write %s: %v", g, victim, led, k, err)
		}
		acked[k] = idx
	}
	verifyHostReads(ctx, t, hc, acked)
}
