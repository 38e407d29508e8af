// Command kvexample is the example key-value server built on tickraft: one
// node of a replicated key-value store, with its write-ahead log on disk,
// a TCP transport between nodes and an HTTP API. The node itself is
// package kvnode; this command parses flags, sets up logging and signals,
// and runs one node until it is interrupted.
//
// A three-node cluster on one machine:
//
//	P=1=127.0.0.1:7001=127.0.0.1:8001,2=127.0.0.1:7002=127.0.0.1:8002,3=127.0.0.1:7003=127.0.0.1:8003
//	kvexample -id 1 -data /tmp/kv1 -raft-addr 127.0.0.1:7001 -http-addr 127.0.0.1:8001 -peers $P &
//	kvexample -id 2 -data /tmp/kv2 -raft-addr 127.0.0.1:7002 -http-addr 127.0.0.1:8002 -peers $P &
//	kvexample -id 3 -data /tmp/kv3 -raft-addr 127.0.0.1:7003 -http-addr 127.0.0.1:8003 -peers $P &
//	curl -X PUT --data-binary world http://127.0.0.1:8001/kv/hello   # on the leader
//	curl http://127.0.0.1:8002/kv/hello
//
// -peers may list the node itself; it is skipped. See package kvnode for
// the HTTP API. With -groups N above one the process hosts N Raft groups
// instead of one (kvnode.StartHost): keys are sharded over them, every
// group starts replicated on every process of -peers (or on those of
// -group-voters), the key-value API is the same, and membership and
// leadership change per group (POST /groups/{g}/members and the
// endpoints beside it; see package kvnode). The exit status is 0 after SIGINT or SIGTERM (a clean
// stop), 1 when the node stops on an error, 2 for bad flags (an
// incoherent set included), 3 when the node stops because it applied its
// own removal from the cluster (do not restart it with the same data).
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// options are the command's flags.
type options struct {
	cfg       kvnode.Config
	peers     string
	logLevel  string
	logFormat string
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	c := &o.cfg
	fs := flag.NewFlagSet("kvexample", flag.ContinueOnError)
	fs.Uint64Var(&c.ID, "id", 1, "this node's Raft ID (not zero)")
	fs.StringVar(&c.DataDir, "data", "", "data directory (default kvexample-data/<id>)")
	fs.StringVar(&c.RaftAddr, "raft-addr", "127.0.0.1:0", "address of the Raft transport (port 0: any free port)")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:0", "address of the HTTP API (port 0: any free port)")
	fs.StringVar(&o.peers, "peers", "", "the cluster's members as ID=RAFTADDR=HTTPADDR,...; a new cluster starts with these voters")
	fs.IntVar(&c.Groups, "groups", 1, "number of Raft groups the keys are sharded over, each replicated at first on every process of -peers or of -group-voters (see package kvnode)")
	fs.Func("group-voters", "with -groups: the processes every group starts on, as ID,ID,... (default every process of -peers); the same on every process", func(s string) error {
		ids, err := parseIDs(s)
		c.GroupVoters = ids
		return err
	})
	fs.BoolVar(&c.Join, "join", false, "start empty and wait to be added to an existing cluster (POST /members on its leader)")
	fs.BoolVar(&c.Sync, "sync", false, "use the synchronous Ready/Advance loop instead of asynchronous storage writes")
	fs.BoolVar(&c.LeaseReads, "lease-reads", false, "let the leader answer reads from its lease (assumes bounded clock drift)")
	fs.BoolVar(&c.RecoverLostLog, "recover-lost-log", false, "start over a log that lost acknowledged entries, in recovering mode (the hard state must be intact)")
	fs.Uint64Var(&c.SnapshotInterval, "snapshot-interval", kvnode.DefaultSnapshotInterval, "snapshot at every applied index that is a multiple of this (same on every node)")
	fs.Uint64Var(&c.SnapshotChunkSize, "chunk-size", kvnode.DefaultSnapshotChunkSize, "chunk size of the snapshot transfer in bytes (same on every node)")
	fs.Uint64Var(&c.KeepEntries, "keep-entries", kvnode.DefaultKeepEntries, "entries kept in the log before a snapshot")
	fs.DurationVar(&c.TickInterval, "tick", kvnode.DefaultTickInterval, "duration of one Raft tick")
	fs.IntVar(&c.ElectionTicks, "election-ticks", kvnode.DefaultElectionTicks, "election timeout in ticks")
	fs.IntVar(&c.HeartbeatTicks, "heartbeat-ticks", kvnode.DefaultHeartbeatTicks, "heartbeat interval in ticks")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", kvnode.DefaultRequestTimeout, "how long a client request may wait")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "text or json")
	addGuardFlags(fs, c)
	var tf tlsFlags
	addTLSFlags(fs, &tf)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := checkFlags(fs, o); err != nil {
		return nil, err
	}
	var err error
	if c.TLS, err = tf.load(c.ID); err != nil {
		return nil, err
	}
	c.ClusterID = tf.cluster
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.DataDir == "" {
		c.DataDir = fmt.Sprintf("kvexample-data/%d", c.ID)
	}
	peers, err := kvnode.ParsePeers(o.peers)
	if err != nil {
		return nil, err
	}
	for _, p := range peers {
		if p.ID != c.ID {
			c.Peers = append(c.Peers, p)
		}
	}
	return o, nil
}

// parseIDs parses a comma-separated list of process IDs.
func parseIDs(s string) ([]uint64, error) {
	var ids []uint64
	for _, f := range strings.Split(s, ",") {
		id, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("want process IDs as ID,ID,..., not %q", s)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// newLogger returns the slog logger the flags ask for, on stderr.
func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("-log-format: want text or json, not %q", format)
}

func run(args []string) int {
	o, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvexample:", err)
		return 2
	}
	logger, err := newLogger(o.logLevel, o.logFormat)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvexample:", err)
		return 2
	}
	o.cfg.Logger = logger
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	if o.cfg.Groups > 1 {
		return runHost(o, logger, signals)
	}
	n, err := kvnode.Start(o.cfg)
	if err != nil {
		logger.Error("cannot start", "error", err)
		return 1
	}
	logger.Info("serving", "id", n.ID(), "raft", n.RaftAddr(), "http", n.HTTPAddr(), "data", o.cfg.DataDir)
	select {
	case sig := <-signals:
		logger.Info("stopping", "signal", sig.String())
		if err := n.Stop(); err != nil {
			logger.Error("stopped with an error", "error", err)
			return 1
		}
		return 0
	case <-n.Done():
		// Stop returns the error that stopped the node, joined with any
		// error closing its log.
		err := n.Stop()
		if errors.Is(err, kvnode.ErrRemoved) {
			logger.Warn("the node was removed from the cluster; stopping", "error", err)
			return exitRemoved
		}
		logger.Error("the node stopped", "error", err)
		return 1
	}
}
