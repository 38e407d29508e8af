package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tickraft/raft/tools/checker"
	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// This file holds the clients and the history shared by the tests that
// check real processes for linearizability under faults (pause_test.go,
// fault_test.go): writers of unique values, readers, and the history they
// record, timed by one monotonic clock in the test process.

// maxOpsPerClient bounds each client's loop whatever the timing.
const maxOpsPerClient = 20000

// opHistory records client operations, timed by one monotonic clock.
type opHistory struct {
	start time.Time

	mu   sync.Mutex
	last uint64
	ops  []checker.Op
	// lastAcked is, per key, the latest invocation time of a write that
	// was acknowledged.
	lastAcked map[string]uint64

	failedReads atomic.Int64
}

func newOpHistory() *opHistory {
	return &opHistory{start: time.Now(), lastAcked: map[string]uint64{}}
}

// now returns the nanoseconds elapsed on the monotonic clock since the
// history started, plus one, made strictly increasing: the checker wants
// distinct times, and two readings taken in order stay in order.
func (h *opHistory) now() uint64 {
	t := uint64(time.Since(h.start)) + 1
	h.mu.Lock()
	defer h.mu.Unlock()
	t = max(t, h.last+1)
	h.last = t
	return t
}

func (h *opHistory) add(o checker.Op) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, o)
	if o.Kind == checker.OpWrite && o.Return != checker.Pending {
		h.lastAcked[o.Key] = max(h.lastAcked[o.Key], o.Invoke)
	}
}

// writtenSince reports whether every one of keys has an acknowledged
// write invoked after t.
func (h *opHistory) writtenSince(keys []string, t uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range keys {
		if h.lastAcked[k] <= t {
			return false
		}
	}
	return true
}

func (h *opHistory) all() []checker.Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]checker.Op(nil), h.ops...)
}

// countOps counts the acknowledged writes, the writes of unknown outcome
// and the reads of a history.
func countOps(ops []checker.Op) (writes, pending, reads int) {
	for _, o := range ops {
		switch {
		case o.Kind == checker.OpRead:
			reads++
		case o.Return == checker.Pending:
			pending++
		default:
			writes++
		}
	}
	return writes, pending, reads
}

// workload is the clients: writers of unique values and readers of keys
// at one consistency, each a goroutine recording its operations in the
// history.
type workload struct {
	pc          *procCluster
	h           *opHistory
	keys        []string
	consistency string
	stop        chan struct{}
	once        sync.Once
	wg          sync.WaitGroup
	clients     atomic.Uint64
	// pauses describes each pause, for a failure's report; only the
	// test's goroutine touches it.
	pauses []string
}

// pauseLog returns the pauses' descriptions, one a line.
func (w *workload) pauseLog() string {
	return "\n\t" + strings.Join(w.pauses, "\n\t")
}

// startWorkload starts writers and readers of keys; the readers read
// with consistency.
func startWorkload(pc *procCluster, h *opHistory, keys []string, consistency string, writers, readers int) *workload {
	w := &workload{pc: pc, h: h, keys: keys, consistency: consistency, stop: make(chan struct{})}
	for i := 0; i < writers; i++ {
		w.wg.Add(1)
		go w.writer(w.clients.Add(1))
	}
	for i := 0; i < readers; i++ {
		w.wg.Add(1)
		go w.reader(w.clients.Add(1), i)
	}
	return w
}

func (w *workload) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// halt stops the clients and waits for them (each operation is bounded
// by its timeout). It may be called more than once.
func (w *workload) halt() {
	w.once.Do(func() { close(w.stop) })
	w.wg.Wait()
}

// writer writes unique values to the keys in turn, one attempt per value
// at the node it believes leads, following not_leader answers.
func (w *workload) writer(client uint64) {
	defer w.wg.Done()
	target := 0
	for seq := 0; seq < maxOpsPerClient && !w.stopped(); seq++ {
		key := w.keys[seq%len(w.keys)]
		value := fmt.Sprintf("c%d-%d", client, seq)
		addr := w.pc.peers[target].HTTPAddr
		inv := w.h.now()
		err := putOnce(w.pc.c.HTTP, addr, key, value, time.Second)
		ret := w.h.now()
		var e *kvnode.Error
		switch {
		case err == nil:
			w.h.add(checker.Op{Client: client, Kind: checker.OpWrite, Key: key, Value: value, Invoke: inv, Return: ret})
		case errors.As(err, &e) && notApplied(e.Code):
			target = w.nextTarget(target, e.Leader)
		case errors.Is(err, syscall.ECONNREFUSED): // the node is down: never received
			target = w.nextTarget(target, "")
		default: // timed out, or the node went away: it may yet be applied
			w.h.add(checker.Op{Client: client, Kind: checker.OpWrite, Key: key, Value: value, Invoke: inv, Return: checker.Pending})
			target = (target + 1) % len(w.pc.peers)
		}
	}
}

// notApplied reports whether a write answered with code was certainly
// not applied: refused before it was proposed, or overwritten by a new
// leader.
func notApplied(code string) bool {
	return code == kvnode.CodeNotLeader || code == kvnode.CodeBusy || code == kvnode.CodeBadRequest
}

// nextTarget returns the index of the leader a refusal named, or, when it
// named none, the next node after a short wait (an election is running).
func (w *workload) nextTarget(target int, leader string) int {
	for i, p := range w.pc.peers {
		if leader != "" && p.HTTPAddr == leader {
			return i
		}
	}
	time.Sleep(10 * time.Millisecond)
	return (target + 1) % len(w.pc.peers)
}

// reader reads the keys in turn with the workload's consistency, from
// each node in turn starting at first.
func (w *workload) reader(client uint64, first int) {
	defer w.wg.Done()
	for seq := 0; seq < maxOpsPerClient && !w.stopped(); seq++ {
		addr := w.pc.peers[(first+seq)%len(w.pc.peers)].HTTPAddr
		if !w.read(w.pc.c, client, addr, w.keys[seq%len(w.keys)], time.Second) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// read makes one read of key at addr, at the workload's consistency, and records it if it was
// answered; a read without an answer is left out of the history.
func (w *workload) read(c *kvnode.Client, client uint64, addr, key string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	inv := w.h.now()
	res, err := c.Get(ctx, addr, key, w.consistency, 0)
	ret := w.h.now()
	if err != nil {
		w.h.failedReads.Add(1)
		return false
	}
	w.h.add(checker.Op{Client: client, Kind: checker.OpRead, Key: key, Value: res.Value, Invoke: inv, Return: ret})
	return true
}

// putOnce sends one PUT of key=value to addr, without retrying: each
// attempt writes its own value, so a timed-out attempt applied later
// cannot pass for a newer write. An API refusal is a *kvnode.Error.
func putOnce(hc *http.Client, addr, key, value string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+addr+"/kv/"+key, bytes.NewReader([]byte(value)))
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	e := &kvnode.Error{}
	if err := json.Unmarshal(body, e); err != nil || e.Code == "" {
		return fmt.Errorf("%s answered %s: %q", addr, resp.Status, body)
	}
	return e
}

// otherLeader reports whether a node other than old reports itself
// leader.
func (pc *procCluster) otherLeader(old uint64) bool {
	for _, p := range pc.peers {
		if p.ID == old {
			continue
		}
		if st := pc.status(p.ID); st != nil && st.State == "StateLeader" {
			return true
		}
	}
	return false
}

// sendSignal sends sig to node id's running process, without waiting.
func (pc *procCluster) sendSignal(id uint64, sig syscall.Signal) {
	pc.t.Helper()
	pc.mu.Lock()
	cmd := pc.procs[id]
	pc.mu.Unlock()
	if cmd == nil {
		pc.t.Fatalf("node %d is not running", id)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		pc.t.Fatalf("signalling node %d: %v", id, err)
	}
}
