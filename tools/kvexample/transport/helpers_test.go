package transport_test

import (
	"bytes"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// waitTimeout bounds every poll of these tests; on loopback everything
// they wait for happens in milliseconds.
const waitTimeout = 5 * time.Second

// pollInterval is how often a poll re-checks its condition.
const pollInterval = time.Millisecond

// waitFor polls cond until it holds, failing the test after waitTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// unreachableLog records the calls of Config.Unreachable.
type unreachableLog struct {
	mu     sync.Mutex
	counts map[uint64]int
}

func newUnreachableLog() *unreachableLog {
	return &unreachableLog{counts: map[uint64]int{}}
}

// report is the Config.Unreachable callback.
func (u *unreachableLog) report(id uint64) {
	u.mu.Lock()
	u.counts[id]++
	u.mu.Unlock()
}

// count returns how many times id was reported.
func (u *unreachableLog) count(id uint64) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.counts[id]
}

// start creates a transport on cfg (on 127.0.0.1:0 unless cfg says
// otherwise) with fast backoff, and closes it when the test ends.
func start(t testing.TB, cfg transport.Config) *transport.Transport {
	t.Helper()
	if cfg.ListenAddr == "" && cfg.Listener == nil {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 20 * time.Millisecond
	}
	tr, err := transport.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// reserveAddr returns a loopback address on which nothing listens (a port
// the kernel handed out and that was released at once).
func reserveAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// receive collects n messages from tr, failing the test after waitTimeout.
func receive(t testing.TB, tr *transport.Transport, n int) []raftpb.Message {
	t.Helper()
	got := make([]raftpb.Message, 0, n)
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for len(got) < n {
		select {
		case m := <-tr.Receive():
			got = append(got, m)
		case <-timer.C:
			t.Fatalf("received %d of %d messages within %v", len(got), n, waitTimeout)
		}
	}
	return got
}

// msgApp returns a MsgApp from from to to at index whose entries each
// carry entryBytes bytes derived from their index.
func msgApp(from, to, index uint64, entries, entryBytes int) raftpb.Message {
	m := raftpb.Message{
		Type: raftpb.MsgApp, From: from, To: to, Term: 3, LogTerm: 3,
		Index: index, Commit: index,
	}
	for i := range entries {
		idx := index*1000 + uint64(i)
		data := bytes.Repeat([]byte{byte(idx), byte(idx >> 8)}, entryBytes/2+1)[:entryBytes]
		m.Entries = append(m.Entries, raftpb.Entry{Term: 3, Index: idx, Data: data})
	}
	return m
}

// msgSnap returns a MsgSnap from from to to carrying dataBytes of data.
func msgSnap(from, to, index uint64, dataBytes int) raftpb.Message {
	data := make([]byte, dataBytes)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	return raftpb.Message{
		Type: raftpb.MsgSnap, From: from, To: to, Term: 3, Index: index,
		Snapshot: &raftpb.Snapshot{Data: data, Metadata: raftpb.SnapshotMetadata{
			Index: index, Term: 3, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}},
		}},
	}
}

// diffMessages returns the difference between two message lists, treating
// nil and empty slices alike (byte slices are compared with bytes.Equal,
// which is also far faster than cmp's element-wise walk on snapshots).
func diffMessages(want, got []raftpb.Message) string {
	notBytes := func(p cmp.Path) bool { return p.Last().Type() != reflect.TypeOf([]byte(nil)) }
	return cmp.Diff(want, got, cmp.FilterPath(notBytes, cmpopts.EquateEmpty()), cmp.Comparer(bytes.Equal))
}
