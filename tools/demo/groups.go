package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// The multi-group demo (-groups N above one): three processes' worth of
// kvnode.Hosts, each holding a replica of every one of N groups, keys
// sharded over the groups (kvnode.GroupOf). It measures an idle cluster
// (CPU and heap per group, frames per second between the processes, with
// the groups asleep and, on a first cluster with quiescence off, awake),
// writes across the groups, kills the host that leads the most groups,
// writes on, restarts it and verifies every acknowledged key on every
// host.

// groupResults is what the multi-group demo measured.
type groupResults struct {
	groups, hosts  int
	startup        time.Duration
	awake, asleep  idleSample
	heapPerReplica float64
	before, after  *load
	loadFrames     float64 // frames/s during the writes
	killed         uint64
	killedLed      int
	reelection     time.Duration
	catchUp        time.Duration
	reads          int
	// puts and putsRefused are the PUT requests the client sent and those
	// answered 503 (not_leader, or busy), counted on its connection.
	puts, putsRefused uint64
}

// putCounter counts the client's PUT requests and their 503 answers.
type putCounter struct {
	next          http.RoundTripper
	puts, refused atomic.Uint64
}

func (p *putCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(req)
	if req.Method == http.MethodPut {
		p.puts.Add(1)
		if err == nil && resp.StatusCode == http.StatusServiceUnavailable {
			p.refused.Add(1)
		}
	}
	return resp, err
}

// idleSample is an idle cluster measured over a window.
type idleSample struct {
	window time.Duration
	// cpu is the process's CPU time (user and system) in the window.
	cpu time.Duration
	// frames and bytes are the frames between the hosts in the window,
	// and their bytes, counted on the wire by the proxies between them
	// (tools/framerelay), not by the transports.
	frames, bytes uint64
}

// groupTickInterval is the multi-group demo's tick.
const groupTickInterval = 50 * time.Millisecond

// groupConfig is the configuration of the demo's hosts: the single-group
// demo's, with ticks of 50 ms (an election timeout of 500 ms), which
// thousands of groups electing at once on a shared machine need.
func groupConfig(o options, stderr io.Writer) kvnode.Config {
	c := nodeConfig(o, stderr)
	c.Groups = o.groups
	c.SnapshotInterval = 64
	c.TickInterval = groupTickInterval
	return c
}

// demoGroups runs the multi-group scenario.
func demoGroups(ctx context.Context, o options, dir string, stdout, stderr io.Writer) (*groupResults, error) {
	r := &groupResults{groups: o.groups, hosts: 3}
	fmt.Fprintf(stdout, "tickraft demo: 3 hosts on 127.0.0.1, %d groups each (every group replicated on all three), data in %s\n", o.groups, dir)
	var err error
	if r.awake, err = idleAwake(ctx, o, dir, stdout, stderr); err != nil {
		return nil, err
	}
	var base runtime.MemStats
	readHeap(&base)
	start := time.Now()
	c, err := startHostCluster(dir+"/quiesce", 3, groupConfig(o, stderr))
	if err != nil {
		return nil, err
	}
	defer c.stop()
	if o.leaderPerGroup {
		c.client.Groups = o.groups
	}
	puts := &putCounter{next: c.client.HTTP.Transport}
	c.client.HTTP.Transport = puts
	r.startup = time.Since(start)
	if _, err := c.awaitGroups(ctx, "a leader in every group", everyGroupLed); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "every group elected a leader %s after the start\n", ms(time.Since(start)))
	if _, err := c.awaitGroups(ctx, "every group asleep", everyGroupAsleep); err != nil {
		return nil, err
	}
	var heap runtime.MemStats
	readHeap(&heap)
	r.heapPerReplica = float64(int64(heap.HeapAlloc)-int64(base.HeapAlloc)) / float64(3*o.groups)
	r.asleep = measureIdle(c, o.idle)
	fmt.Fprintf(stdout, "every group asleep: %s of CPU over %s idle, %d frames between the hosts\n",
		ms(r.asleep.cpu), ms(r.asleep.window), r.asleep.frames)
	if o.idleOnly {
		return r, c.failed()
	}
	if err := groupsLoad(ctx, c, o, r, stdout, stderr); err != nil {
		return nil, err
	}
	r.puts, r.putsRefused = puts.puts.Load(), puts.refused.Load()
	acked := map[string]uint64{}
	for _, l := range []*load{r.before, r.after} {
		for k, v := range l.acked {
			acked[k] = v
		}
	}
	if r.reads, err = verifyHosts(ctx, c, acked, o.clients, stderr); err != nil {
		return nil, err
	}
	return r, c.failed()
}

// idleAwake starts a first cluster with quiescence off, waits for every
// group to elect, and measures it idle: every group's leader heartbeats
// at every tick.
func idleAwake(ctx context.Context, o options, dir string, stdout, stderr io.Writer) (idleSample, error) {
	cfg := groupConfig(o, stderr)
	cfg.DisableQuiesce = true
	c, err := startHostCluster(dir+"/awake", 3, cfg)
	if err != nil {
		return idleSample{}, err
	}
	defer c.stop()
	if _, err := c.awaitGroups(ctx, "a leader in every group (quiescence off)", everyGroupLed); err != nil {
		return idleSample{}, err
	}
	s := measureIdle(c, o.idle)
	fmt.Fprintf(stdout, "quiescence off, every group awake: %s of CPU over %s idle, %d frames between the hosts\n",
		ms(s.cpu), ms(s.window), s.frames)
	return s, nil
}

// measureIdle measures the cluster, left alone, for window.
func measureIdle(c *hostCluster, window time.Duration) idleSample {
	f0, b0 := c.wire()
	cpu0 := cpuTime()
	start := time.Now()
	time.Sleep(window)
	s := idleSample{window: time.Since(start), cpu: cpuTime() - cpu0}
	f1, b1 := c.wire()
	s.frames, s.bytes = f1-f0, b1-b0
	return s
}

// groupsLoad writes across the groups, kills the host leading the most
// groups, writes on, and restarts it.
func groupsLoad(ctx context.Context, c *hostCluster, o options, r *groupResults, stdout, stderr io.Writer) error {
	f0, t0 := c.frames(), time.Now()
	r.before = writeKeys(ctx, c.client, "before", o.writes, o.clients, 10*time.Second, stderr)
	r.loadFrames = float64(c.frames()-f0) / time.Since(t0).Seconds()
	if err := phaseError(ctx, c.failed, r.before, "before the kill"); err != nil {
		return err
	}
	sts, err := c.awaitGroups(ctx, "a leader in every group", everyGroupLed)
	if err != nil {
		return err
	}
	for id, st := range sts {
		if st.Leading > r.killedLed {
			r.killed, r.killedLed = id, st.Leading
		}
	}
	killedAt := time.Now()
	c.kill(r.killed)
	fmt.Fprintf(stdout, "killed host %d, which led %d groups (loop stopped, sockets closed, no cleanup)\n", r.killed, r.killedLed)
	if _, err := c.awaitGroups(ctx, "new leaders", everyGroupLed); err != nil {
		return err
	}
	r.reelection = time.Since(killedAt)
	fmt.Fprintf(stdout, "every group it led elected a new leader %s after the kill\n", ms(r.reelection))
	r.after = writeKeys(ctx, c.client, "after", o.after, o.clients, 10*time.Second, stderr)
	if err := phaseError(ctx, c.failed, r.after, "after the kill"); err != nil {
		return err
	}
	start := time.Now()
	if err := c.start(ctx, r.killed); err != nil {
		return err
	}
	if _, err := c.awaitGroups(ctx, "the restarted host to catch up", caughtUp); err != nil {
		return err
	}
	r.catchUp = time.Since(start)
	fmt.Fprintf(stdout, "restarted host %d caught up in every group in %s\n", r.killed, ms(r.catchUp))
	return nil
}

// caughtUp reports whether every host has applied, in every group, the
// commit index its leader reports.
func caughtUp(sts map[uint64]*kvnode.HostStatus) bool {
	if !everyGroupLed(sts) {
		return false
	}
	for _, st := range sts {
		for i, g := range st.PerGroup {
			if g.Applied < sts[g.Leader].PerGroup[i].Commit {
				return false
			}
		}
	}
	return true
}

// verifyHosts reads every acknowledged key from every host with a local
// read at the index its write returned in its group.
func verifyHosts(ctx context.Context, c *hostCluster, acked map[string]uint64, clients int, bar io.Writer) (int, error) {
	return readAll(ctx, c.peers, acked, clients, bar, "host", func(addr, key string) error {
		return checkApplied(ctx, c.client, addr, key, acked[key])
	})
}

// readHeap collects garbage and reads the memory statistics.
func readHeap(ms *runtime.MemStats) {
	runtime.GC()
	runtime.ReadMemStats(ms)
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// printGroupSummary prints the multi-group summary table.
func printGroupSummary(w io.Writer, r *groupResults) {
	replicas := float64(r.hosts * r.groups)
	perGroup := func(s idleSample) string {
		share := s.cpu.Seconds() / s.window.Seconds()
		return fmt.Sprintf("%.2f%% of a core per 1000 group replicas (%.1f µs/s each; %.0f%% of a core in all)",
			100*share*1000/replicas, 1e6*share/replicas, 100*share)
	}
	fps := func(s idleSample) string {
		return fmt.Sprintf("%.0f frames/s, %.0f B/s", float64(s.frames)/s.window.Seconds(), float64(s.bytes)/s.window.Seconds())
	}
	rows := [][2]string{
		{"groups", fmt.Sprintf("%d on each of %d hosts (%d replicas)", r.groups, r.hosts, r.hosts*r.groups)},
		{"start of 3 hosts", ms(r.startup)},
		{"heap per group replica", fmt.Sprintf("%.0f B (all asleep)", r.heapPerReplica)},
		{"idle CPU, asleep", perGroup(r.asleep)},
		{"idle CPU, awake", perGroup(r.awake) + " (quiescence off)"},
		{"frames between hosts, asleep", fps(r.asleep) + perLinkTick(r.asleep, r.hosts)},
		{"frames between hosts, awake", fps(r.awake) + perLinkTick(r.awake, r.hosts) + " (quiescence off)"},
	}
	if r.before != nil {
		rows = append(rows, loadRows(r)...)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  summary")
	fmt.Fprintln(w, "  ---------------------------------------------------------------")
	for _, row := range rows {
		fmt.Fprintf(w, "  %-30s %s\n", row[0], row[1])
	}
	fmt.Fprintln(w, "  ---------------------------------------------------------------")
}

// perLinkTick returns an idle sample's frames per directed link between
// two hosts per tick of groupTickInterval, the measure that should not
// depend on the number of groups.
func perLinkTick(s idleSample, hosts int) string {
	ticks := s.window.Seconds() / groupTickInterval.Seconds()
	links := float64(hosts * (hosts - 1))
	return fmt.Sprintf(" = %.2f frames per directed link per tick", float64(s.frames)/ticks/links)
}

// loadRows are the summary's rows about the writes, the kill and the
// restart.
func loadRows(r *groupResults) [][2]string {
	writes := len(r.before.acked) + len(r.after.acked)
	lats := append(append([]time.Duration(nil), r.before.latencies...), r.after.latencies...)
	return [][2]string{
		{"frames between hosts, writing", fmt.Sprintf("%.0f frames/s", r.loadFrames)},
		{"writes acknowledged", fmt.Sprintf("%d (%d failed after retries)", writes, r.before.failed+r.after.failed)},
		{"throughput", fmt.Sprintf("%.0f writes/s", float64(writes)/(r.before.elapsed+r.after.elapsed).Seconds())},
		{"HTTP requests per write", fmt.Sprintf("%.2f (%d PUTs, %d answered 503)", float64(r.puts)/float64(writes), r.puts, r.putsRefused)},
		{"commit latency p50 / p99", ms(percentile(lats, 50)) + " / " + ms(percentile(lats, 99))},
		{"re-election after kill", fmt.Sprintf("%s (host %d led %d groups)", ms(r.reelection), r.killed, r.killedLed)},
		{"catch-up after restart", ms(r.catchUp)},
		{"reads verified", fmt.Sprintf("%d (every acknowledged key on every host)", r.reads)},
	}
}

// runGroups runs the multi-group demo and returns the exit status.
func runGroups(ctx context.Context, o options, dir string, stdout, stderr io.Writer) int {
	r, err := demoGroups(ctx, o, dir, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "\ndemo FAILED: %v\n", err)
		return 1
	}
	printGroupSummary(stdout, r)
	if o.idleOnly {
		fmt.Fprintln(stdout, "\ndemo passed: idle measurements only (-idle-only).")
		return 0
	}
	fmt.Fprintln(stdout, "\ndemo passed: no acknowledged write was lost.")
	return 0
}

// groupsTimeout is the multi-group demo's -timeout when none is given:
// it starts two clusters of thousands of groups.
const groupsTimeout = 3 * time.Minute

// flagSet reports whether the flag name was given.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// checkApplied is check, asked again while the host answers that it has
// not yet applied the key's index (a restarted host still catching up),
// for up to ten seconds.
func checkApplied(ctx context.Context, cl *kvnode.Client, addr, key string, minIndex uint64) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		err := check(ctx, cl, addr, key, minIndex)
		var e *kvnode.Error
		if !errors.As(err, &e) || e.Code != kvnode.CodeTimeout || ctx.Err() != nil {
			return err
		}
	}
}
