package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
	"github.com/tickraft/raft/tools/wal"
)

// writers write keys concurrently through the cluster's client and record
// the acknowledged ones with their indexes.
type writers struct {
	pc     *procCluster
	prefix string
	next   atomic.Int64
	stop   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

	mu    sync.Mutex
	acked map[string]uint64
	fails int
}

func startWriters(pc *procCluster, prefix string, n int) *writers {
	w := &writers{pc: pc, prefix: prefix, stop: make(chan struct{}), acked: map[string]uint64{}}
	for i := 0; i < n; i++ {
		w.wg.Add(1)
		go w.run()
	}
	return w
}

func (w *writers) run() {
	defer w.wg.Done()
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		key := fmt.Sprintf("%s-%d", w.prefix, w.next.Add(1))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		idx, err := w.pc.c.Put(ctx, key, []byte("v-"+key))
		cancel()
		w.mu.Lock()
		if err != nil {
			w.fails++
		} else {
			w.acked[key] = idx
		}
		w.mu.Unlock()
	}
}

func (w *writers) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// waitCount waits until n writes more than from are acknowledged.
func (w *writers) waitCount(from, n int) {
	w.pc.t.Helper()
	w.pc.waitFor(fmt.Sprintf("%d acknowledged writes", from+n), 15*time.Second, func() bool { return w.count() >= from+n })
}

// halt stops the writers and returns the acknowledged writes. It may be
// called more than once.
func (w *writers) halt() map[string]uint64 {
	w.once.Do(func() { close(w.stop) })
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.acked
}

// Claim: with writes in flight, a SIGKILLed leader loses no acknowledged
// write; the other two elect a leader and keep acknowledging writes; the
// killed process, restarted from its disk, catches up (the leader has
// compacted past it, so through the chunked snapshot transfer) and then
// holds every acknowledged write.
func TestSIGKILLedLeaderLosesNoAcknowledgedWrite(t *testing.T) {
	pc := startProcCluster(t, 3)
	lead := pc.leader()
	w := startWriters(pc, "k", 8)
	w.waitCount(0, 150)
	pc.kill(lead)
	killedAt := w.count()
	w.waitCount(killedAt, 150)
	acked := w.halt()
	newLead := pc.leader()
	if newLead == lead {
		t.Fatalf("node %d still reported as leader after SIGKILL", lead)
	}
	for _, p := range pc.peers {
		if p.ID != lead {
			pc.checkAcked(p.ID, acked)
		}
	}
	pc.start(lead)
	pc.waitCaughtUp(lead)
	pc.checkAcked(lead, acked)
	if log, _ := os.ReadFile(pc.logPath(lead)); !bytes.Contains(log, []byte("installing a snapshot")) {
		t.Errorf("node %d caught up without installing a snapshot; the test meant to exercise the chunked transfer", lead)
	}
	t.Logf("%d writes acknowledged (%d failed after retries), %d of them after the kill", len(acked), w.fails, len(acked)-killedAt)
}

// Claim: a node whose write-ahead log lost the last bytes of its last
// record (what a torn write leaves: zeros, the segment keeping its size)
// makes the torn record good at restart, serves, and catches up with the
// writes it missed.
func TestTornWALTailIsCutAndNodeCatchesUp(t *testing.T) {
	pc, victim, acked := damageFollowerWAL(t, 30, func(seg string, end int64) {
		data, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		clear(data[end-3 : end])
		if err := os.WriteFile(seg, data, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	w := startWriters(pc, "b", 4)
	w.waitCount(0, 30)
	for k, v := range w.halt() {
		acked[k] = v
	}
	pc.start(victim)
	pc.waitCaughtUp(victim)
	if st := pc.status(victim); st == nil || st.WALTruncatedBytes == 0 {
		t.Fatalf("node %d status %+v: want a truncated torn tail", victim, st)
	}
	pc.checkAcked(victim, acked)
}

// damageFollowerWAL starts a three-node cluster, has writers acknowledge
// at least writes keys, stops a follower once it caught up and calls
// damage with its newest WAL segment and where that segment's records
// end. It returns the cluster, the follower (stopped) and the
// acknowledged writes.
func damageFollowerWAL(t *testing.T, writes int, damage func(seg string, end int64)) (*procCluster, uint64, map[string]uint64) {
	t.Helper()
	pc := startProcCluster(t, 3)
	lead := pc.leader()
	w := startWriters(pc, "a", 4)
	w.waitCount(0, writes)
	acked := w.halt()
	victim := lead%3 + 1
	pc.waitCaughtUp(victim)
	pc.kill(victim)
	seg, end := lastSegment(t, filepath.Join(pc.dataDir(victim), "wal"))
	damage(seg, end)
	return pc, victim, acked
}

// lastSegment returns the path of the newest segment in a log directory
// and where its records end.
func lastSegment(t *testing.T, dir string) (string, int64) {
	t.Helper()
	segs, err := wal.Inspect(nil, dir)
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segment in %s: %v", dir, err)
	}
	last := segs[len(segs)-1]
	return last.Path, last.RecordsEnd
}

// Claim: garbage sent to a node's transport port, raw or after a valid
// hello, closes only that connection: the node counts it and keeps
// replicating and serving reads and writes.
func TestGarbageOnTransportPortLeavesNodeServing(t *testing.T) {
	pc := startProcCluster(t, 3)
	lead := pc.leader()
	victim := lead%3 + 1
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	from := lead // a member, not the victim: a hello it accepts
	var frame bytes.Buffer
	frame.Write(transport.AppendHello(nil, from, victim))
	frame.Write(transport.AppendFrame(nil, &raftpb.Message{Type: raftpb.MsgHeartbeat, From: from, To: victim + 1}))
	frame.Write(garbage[:100])
	for _, payload := range [][]byte{garbage, frame.Bytes()} {
		sendRaw(t, pc.peer(victim).RaftAddr, payload)
	}
	pc.waitFor("the victim to count a decode error", 5*time.Second, func() bool {
		st := pc.status(victim)
		return st != nil && st.Transport.DecodeErrors >= 2
	})
	w := startWriters(pc, "g", 4)
	w.waitCount(0, 30)
	acked := w.halt()
	pc.waitCaughtUp(victim)
	pc.checkAcked(victim, acked)
	res, err := pc.c.Get(pc.ctx(5*time.Second), pc.peer(victim).HTTPAddr, "g-1", "", 0)
	if err != nil || !res.Found {
		t.Fatalf("linearizable read on node %d: %+v, %v", victim, res, err)
	}
}

// sendRaw writes payload to addr on a fresh connection and closes it.
func sendRaw(t *testing.T, addr string, payload []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	conn.Write(payload) // the node may close the connection before it has read everything
}

// Claim: the server stops cleanly on SIGTERM and starts again from its
// data directory with its data.
func TestSIGTERMStopsCleanlyAndRestartKeepsData(t *testing.T) {
	pc := startProcCluster(t, 3, "-sync")
	pc.leader()
	w := startWriters(pc, "t", 4)
	w.waitCount(0, 20)
	acked := w.halt()
	for _, p := range pc.peers {
		if err := pc.signal(p.ID, syscall.SIGTERM); err != nil {
			t.Fatalf("node %d after SIGTERM: %v, want exit status 0", p.ID, err)
		}
	}
	for _, p := range pc.peers {
		pc.start(p.ID)
	}
	pc.leader()
	for _, p := range pc.peers {
		pc.checkAcked(p.ID, acked)
	}
	if st := pc.status(1); st == nil || st.Mode != "sync" {
		t.Fatalf("status %+v: want the sync mode", st)
	}
}

// Claim: a record damaged in the middle of the log (not a torn tail) stops
// the server at startup with exit status 1 and an error naming the segment
// file and the offset; nothing is silently dropped.
func TestCorruptWALRecordIsAClearStartupError(t *testing.T) {
	pc := startProcCluster(t, 3)
	lead := pc.leader()
	w := startWriters(pc, "c", 4)
	w.waitCount(0, 40)
	w.halt()
	victim := lead%3 + 1
	pc.waitCaughtUp(victim)
	pc.kill(victim)
	seg, end := lastSegment(t, filepath.Join(pc.dataDir(victim), "wal"))
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	data[end/2] ^= 0x55
	if err := os.WriteFile(seg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	pc.start(victim)
	code := pc.waitExit(victim, 10*time.Second)
	log, _ := os.ReadFile(pc.logPath(victim))
	if code != 1 || !bytes.Contains(log, []byte("corrupt")) || !bytes.Contains(log, []byte(filepath.Base(seg))) ||
		!bytes.Contains(log, []byte("offset")) {
		t.Fatalf("exit status %d, log:\n%s\nwant status 1 and an error naming %s and an offset", code, log, filepath.Base(seg))
	}
}

// TestAFollowerWhoseLogLostAcknowledgedEntriesCatchesUp: a follower's disk
// loses the last kilobyte of its newest segment, entries and hard states
// that were fsynced and acknowledged. Restarted in recovering mode (the
// operator knows the disk lost data) in an idle cluster, it is brought up
// to date by the leader, which learns from its answer to a heartbeat that
// its log ends below what it acknowledged, and every acknowledged key is
// readable on it.
func TestAFollowerWhoseLogLostAcknowledgedEntriesCatchesUp(t *testing.T) {
	pc, victim, acked := damageFollowerWAL(t, 60, func(seg string, end int64) {
		if err := os.Truncate(seg, max(end-1000, end/2)); err != nil {
			t.Fatal(err)
		}
	})
	// Started as usual, it refuses: its log was cut short, and it says
	// how to recover.
	pc.start(victim)
	code := pc.waitExit(victim, 10*time.Second)
	if log, _ := os.ReadFile(pc.logPath(victim)); code != 1 || !bytes.Contains(log, []byte("cut short")) ||
		!bytes.Contains(log, []byte("-recover-lost-log")) {
		t.Fatalf("exit status %d, log:\n%s\nwant status 1 and an error saying the log was cut short and how to recover", code, log)
	}
	// No write follows: only heartbeats tell the leader where the
	// victim's log ends (a heartbeat's commit index beyond its log).
	pc.extra = append(pc.extra, "-recover-lost-log")
	pc.start(victim)
	pc.waitCaughtUp(victim)
	pc.checkAcked(victim, acked)
}
