// Command demo is tickraft's first command: it runs a three-node cluster
// of the example key-value server (tools/kvexample/kvnode) in this process,
// on loopback ports, with its data in a temporary directory, and shows it
// surviving the loss of its leader:
//
//  1. writes a few thousand keys over HTTP, with a progress bar;
//  2. kills the leader's node abruptly (its loop stops without cleanup,
//     its sockets close) and measures how long until a new leader
//     acknowledges a write;
//  3. keeps writing;
//  4. restarts the killed node from its disk and measures how long it
//     takes to catch up (the leader has compacted its log meanwhile, so
//     it fetches a snapshot in chunks from the leader and the follower);
//  5. reads every acknowledged key back from every node;
//  6. prints a summary and exits 0, or prints what went wrong and exits 1.
//
// Run it with:
//
//	go run ./tools/demo
//
// -groups N (above one) runs the multi-group demo instead: three hosts of
// N Raft groups each (kvnode.Host), measured idle and under writes, one
// killed and restarted (groups.go).
//
// -idle-only (with -groups) stops after the idle measurements (-idle
// sets their window), for a table of frames between the hosts against
// the number of groups. Its HTTP client keeps a leader per group
// (kvnode.Client.Groups); -leader-per-group=false makes it remember one,
// for a comparison.
//
// -v shows the nodes' logs on stderr; -sync uses the synchronous
// Ready/Advance loop instead of asynchronous storage writes. In both modes
// the nodes run through tools/raftloop, the repository's reference loop.
// The demo itself handles no Ready; its nodes are kvnode.Nodes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// options are the demo's flags.
type options struct {
	writes, after, clients int
	groups                 int
	idle                   time.Duration
	sync, verbose, keep    bool
	idleOnly               bool
	// leaderPerGroup sets the client's Groups: a leader per group.
	leaderPerGroup bool
	timeout        time.Duration
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o := options{}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.writes, "writes", 3000, "keys written before the kill")
	fs.IntVar(&o.after, "after", 2000, "keys written after the kill")
	fs.IntVar(&o.clients, "clients", 16, "concurrent HTTP clients")
	fs.IntVar(&o.groups, "groups", 1, "run hosts of this many Raft groups each (keys sharded over them) instead of one group")
	fs.DurationVar(&o.idle, "idle", 3*time.Second, "how long the multi-group demo measures its idle cluster")
	fs.BoolVar(&o.idleOnly, "idle-only", false, "with -groups: measure the idle clusters (asleep and awake) and stop, without the writes, the kill and the restart")
	fs.BoolVar(&o.leaderPerGroup, "leader-per-group", true, "with -groups: the HTTP client remembers a leader per group (false: one for the cluster, redirected by not_leader answers)")
	fs.BoolVar(&o.sync, "sync", false, "use the synchronous Ready/Advance loop")
	fs.BoolVar(&o.verbose, "v", false, "show the nodes' logs on stderr")
	fs.BoolVar(&o.keep, "keep", false, "keep the data directory")
	fs.DurationVar(&o.timeout, "timeout", 55*time.Second, "give up after this long (default 3m with -groups)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.writes < 1 || o.after < 1 || o.clients < 1 || o.groups < 1 {
		fmt.Fprintln(stderr, "demo: -writes, -after, -clients and -groups must be positive")
		return 2
	}
	dir, err := os.MkdirTemp("", "tickraft-demo-")
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
	if o.keep {
		fmt.Fprintln(stdout, "data directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if o.groups > 1 && !flagSet(fs, "timeout") {
		o.timeout = groupsTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	if o.groups > 1 {
		return runGroups(ctx, o, dir, stdout, stderr)
	}
	r, err := demo(ctx, o, dir, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "\ndemo FAILED: %v\n", err)
		return 1
	}
	printSummary(stdout, r)
	fmt.Fprintln(stdout, "\ndemo passed: no acknowledged write was lost.")
	return 0
}

// nodeConfig is the configuration of the demo's nodes: fast ticks, a
// snapshot every 1000 entries, chunks small enough that a snapshot travels
// in several.
func nodeConfig(o options, stderr io.Writer) kvnode.Config {
	level := slog.LevelError
	if o.verbose {
		level = slog.LevelInfo
	}
	return kvnode.Config{
		Sync:         o.sync,
		TickInterval: 20 * time.Millisecond, ElectionTicks: 10, HeartbeatTicks: 1,
		SnapshotInterval: 1000, SnapshotChunkSize: 16 << 10, KeepEntries: 200,
		RequestTimeout: 5 * time.Second,
		Logger:         slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
}

// demo runs the scenario and returns what it measured.
func demo(ctx context.Context, o options, dir string, stdout, stderr io.Writer) (*results, error) {
	r := &results{mode: "asynchronous storage writes"}
	if o.sync {
		r.mode = "synchronous Ready/Advance loop"
	}
	c, err := startCluster(dir, 3, nodeConfig(o, stderr))
	if err != nil {
		return nil, err
	}
	defer c.stop()
	fmt.Fprintf(stdout, "tickraft demo: 3 nodes on 127.0.0.1 (%s), data in %s\n", r.mode, dir)
	lead, err := c.leader(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "node %d was elected leader\n", lead)

	r.before = writeKeys(ctx, c.client, "before", o.writes, o.clients, 10*time.Second, stderr)
	if err := phaseError(ctx, c.failed, r.before, "before the kill"); err != nil {
		return nil, err
	}
	if lead, err = c.leader(ctx); err != nil {
		return nil, err
	}
	r.killed = lead
	killedAt := time.Now()
	c.kill(lead)
	fmt.Fprintf(stdout, "killed the leader, node %d (loop stopped, sockets closed, no cleanup)\n", lead)
	probeKey := "after-election-probe"
	r.leader, err = awaitWritable(ctx, c, probeKey)
	if err != nil {
		return nil, err
	}
	r.election = time.Since(killedAt)
	fmt.Fprintf(stdout, "node %d leads and acknowledged a write %s after the kill\n", r.leader, ms(r.election))

	r.after = writeKeys(ctx, c.client, "after", o.after, o.clients, 10*time.Second, stderr)
	if err := phaseError(ctx, c.failed, r.after, "after the kill"); err != nil {
		return nil, err
	}
	r.after.acked[probeKey] = 0
	if err := catchUp(ctx, c, r); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "restarted node %d caught up in %s\n", r.killed, ms(r.catchUp))

	acked := make(map[string]uint64, len(r.before.acked)+len(r.after.acked))
	for _, l := range []*load{r.before, r.after} {
		for k, v := range l.acked {
			acked[k] = v
		}
	}
	if r.reads, err = verify(ctx, c, acked, o.clients, stderr); err != nil {
		return nil, err
	}
	return r, c.failed()
}

// phaseError reports why a phase of writes went wrong, if it did: failed
// names a node or host that stopped on its own.
func phaseError(ctx context.Context, failed func() error, l *load, phase string) error {
	if err := failed(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("writing %s: %w", phase, err)
	}
	if len(l.acked) == 0 {
		return fmt.Errorf("writing %s: no write was acknowledged", phase)
	}
	return nil
}

// awaitWritable polls the surviving nodes until one leads, then writes key
// through it; it returns the leader once the write is acknowledged.
func awaitWritable(ctx context.Context, c *cluster, key string) (uint64, error) {
	for {
		for id := range c.nodes {
			st, err := c.status(ctx, id)
			if err != nil || st.State != raft.StateLeader.String() {
				continue
			}
			wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err = kvnode.NewClient(c.peers[id-1].HTTPAddr).Put(wctx, key, []byte(value(key)))
			cancel()
			if err == nil {
				return id, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no new leader acknowledged a write: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// catchUp restarts the killed node and waits until it has applied the
// leader's commit index as of the restart.
func catchUp(ctx context.Context, c *cluster, r *results) error {
	st, err := c.status(ctx, r.leader)
	if err != nil {
		return fmt.Errorf("status of leader %d: %w", r.leader, err)
	}
	r.target = st.Commit
	start := time.Now()
	if err := c.restart(ctx, r.killed); err != nil {
		return err
	}
	for {
		st, err := c.status(ctx, r.killed)
		if err == nil && st.Applied >= r.target {
			r.catchUp = time.Since(start)
			r.installs = st.SnapshotsInstalled
			return nil
		}
		if err := c.failed(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %d did not catch up to %d: %w", r.killed, r.target, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}
