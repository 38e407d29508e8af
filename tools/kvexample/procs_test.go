package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// The end-to-end tests run the server binary, built once by TestMain, as
// real processes on loopback ports, and talk to them over HTTP.

// serverBin is the path of the server binary TestMain built.
var serverBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kvexample-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	serverBin = filepath.Join(dir, "kvexample")
	args := append(append([]string{"build"}, serverBuildFlags...), "-o", serverBin, ".")
	out, err := exec.Command(goTool(), args...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the server: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// goTool returns the go command of the toolchain running the tests.
func goTool() string {
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// procCluster is a cluster of server processes.
type procCluster struct {
	t     *testing.T
	root  string
	peers []kvnode.Peer
	extra []string // flags for every node

	mu    sync.Mutex
	procs map[uint64]*exec.Cmd
	c     *kvnode.Client
}

// startProcCluster starts n server processes with fast timeouts, frequent
// snapshots and small chunks.
func startProcCluster(t *testing.T, n int, extra ...string) *procCluster {
	t.Helper()
	pc := &procCluster{t: t, root: t.TempDir(), procs: map[uint64]*exec.Cmd{}, extra: extra}
	ports, err := kvnode.LoopbackAddrs(2 * n)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for id := uint64(1); id <= uint64(n); id++ {
		p := kvnode.Peer{ID: id, RaftAddr: ports[2*id-2], HTTPAddr: ports[2*id-1]}
		pc.peers = append(pc.peers, p)
		addrs = append(addrs, p.HTTPAddr)
	}
	pc.c = kvnode.NewClient(addrs...)
	t.Cleanup(pc.cleanup)
	for id := uint64(1); id <= uint64(n); id++ {
		pc.start(id)
	}
	return pc
}

func (pc *procCluster) peer(id uint64) kvnode.Peer { return pc.peers[id-1] }

func (pc *procCluster) dataDir(id uint64) string { return filepath.Join(pc.root, fmt.Sprint(id)) }

func (pc *procCluster) logPath(id uint64) string {
	return filepath.Join(pc.root, fmt.Sprintf("node%d.log", id))
}

// start starts (or restarts) node id's process; its log is appended to
// node<id>.log.
func (pc *procCluster) start(id uint64) {
	pc.t.Helper()
	p := pc.peer(id)
	logf, err := os.OpenFile(pc.logPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		pc.t.Fatal(err)
	}
	defer logf.Close()
	args := append([]string{
		"-id", fmt.Sprint(id), "-data", pc.dataDir(id),
		"-raft-addr", p.RaftAddr, "-http-addr", p.HTTPAddr, "-peers", kvnode.FormatPeers(pc.peers),
		"-tick", "20ms", "-election-ticks", "10", "-snapshot-interval", "50", "-chunk-size", "512",
		"-keep-entries", "10", "-request-timeout", "3s", "-log-level", "info",
	}, pc.extra...)
	cmd := exec.Command(serverBin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		pc.t.Fatalf("starting node %d: %v", id, err)
	}
	pc.mu.Lock()
	pc.procs[id] = cmd
	pc.mu.Unlock()
}

// kill sends SIGKILL to node id's process and reaps it.
func (pc *procCluster) kill(id uint64) {
	pc.t.Helper()
	pc.signal(id, syscall.SIGKILL)
}

// signal sends sig to node id's process and waits for it to exit; it
// returns what Wait returned.
func (pc *procCluster) signal(id uint64, sig syscall.Signal) error {
	pc.mu.Lock()
	cmd := pc.procs[id]
	delete(pc.procs, id)
	pc.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(sig)
	return cmd.Wait()
}

// cleanup kills every process and, if the test failed, shows the end of
// each node's log.
func (pc *procCluster) cleanup() {
	for _, p := range pc.peers {
		pc.signal(p.ID, syscall.SIGKILL)
	}
	if !pc.t.Failed() {
		return
	}
	for _, p := range pc.peers {
		b, _ := os.ReadFile(pc.logPath(p.ID))
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		pc.t.Logf("--- last lines of node %d's log:\n%s", p.ID, strings.Join(lines[max(0, len(lines)-25):], "\n"))
	}
}

// ctx returns a context bounding one step of a test.
func (pc *procCluster) ctx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	pc.t.Cleanup(cancel)
	return ctx
}

// status returns node id's status, or nil if it does not answer.
func (pc *procCluster) status(id uint64) *kvnode.Status {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := pc.c.Status(ctx, pc.peer(id).HTTPAddr)
	if err != nil {
		return nil
	}
	return st
}

// waitFor polls cond every 10ms until it holds, or fails the test.
func (pc *procCluster) waitFor(what string, d time.Duration, cond func() bool) {
	pc.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			pc.t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// leader waits until the running nodes agree on a leader and returns it.
func (pc *procCluster) leader() uint64 {
	pc.t.Helper()
	var lead uint64
	pc.waitFor("an agreed leader", 10*time.Second, func() bool {
		lead = 0
		pc.mu.Lock()
		ids := make([]uint64, 0, len(pc.procs))
		for id := range pc.procs {
			ids = append(ids, id)
		}
		pc.mu.Unlock()
		for _, id := range ids {
			st := pc.status(id)
			if st == nil || st.Leader == 0 || (lead != 0 && st.Leader != lead) {
				return false
			}
			lead = st.Leader
		}
		return lead != 0
	})
	return lead
}

// waitCaughtUp waits until node id has applied everything the leader had
// committed when the wait began.
func (pc *procCluster) waitCaughtUp(id uint64) {
	pc.t.Helper()
	lead := pc.leader()
	target := pc.status(lead)
	if target == nil {
		pc.t.Fatalf("leader %d does not answer", lead)
	}
	pc.waitFor(fmt.Sprintf("node %d to apply %d", id, target.Commit), 10*time.Second, func() bool {
		st := pc.status(id)
		return st != nil && st.Applied >= target.Commit
	})
}

// checkAcked reads every acknowledged key from node id, locally at the
// highest acknowledged index.
func (pc *procCluster) checkAcked(id uint64, acked map[string]uint64) {
	pc.t.Helper()
	var top uint64
	for _, idx := range acked {
		top = max(top, idx)
	}
	ctx := pc.ctx(10 * time.Second)
	for key := range acked {
		res, err := pc.c.Get(ctx, pc.peer(id).HTTPAddr, key, kvnode.ConsistencyLocal, top)
		if err != nil {
			pc.t.Fatalf("node %d: get %s: %v", id, key, err)
		}
		if !res.Found || res.Value != "v-"+key {
			pc.t.Fatalf("node %d lost acknowledged write %s: got %+v", id, key, res)
		}
	}
}

// waitExit waits for node id's process to exit on its own and returns its
// exit status.
func (pc *procCluster) waitExit(id uint64, d time.Duration) int {
	pc.t.Helper()
	pc.mu.Lock()
	cmd := pc.procs[id]
	delete(pc.procs, id)
	pc.mu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
		return cmd.ProcessState.ExitCode()
	case <-time.After(d):
		cmd.Process.Kill()
		<-exited
		pc.t.Fatalf("node %d did not exit within %v", id, d)
		return -1
	}
}
