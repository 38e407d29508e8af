package rafttest

import (
	"fmt"
	"strings"
	"testing"
)

// electedTrio returns an Env of three voters with node 1 leading and
// everything delivered.
func electedTrio(t *testing.T, opts NodeOptions) *Env {
	t.Helper()
	env := NewEnv()
	opts.Voters = []uint64{1, 2, 3}
	if _, err := env.AddNodes(3, opts); err != nil {
		t.Fatal(err)
	}
	if err := env.Campaign(1); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Stabilize(); err != nil {
		t.Fatal(err)
	}
	return env
}

// TestReadIndexBatchCostsOneHeartbeatRound measures the messages a batch
// of linearizable reads costs on a three-node cluster: one heartbeat round
// (a MsgHeartbeat to each follower and its answer), whatever the batch
// size, so the cost per read falls as 4/batch.
func TestReadIndexBatchCostsOneHeartbeatRound(t *testing.T) {
	for _, batch := range []int{1, 100} {
		env := electedTrio(t, NodeOptions{})
		for i := 0; i < batch; i++ {
			if err := env.ReadIndex(1, []byte(fmt.Sprintf("r%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		out, err := env.Stabilize()
		if err != nil {
			t.Fatal(err)
		}
		beats := strings.Count(out, "send: 1->2 MsgHeartbeat ") + strings.Count(out, "send: 1->3 MsgHeartbeat ")
		answers := strings.Count(out, "MsgHeartbeatResp") / 2 // sent, then delivered
		released := strings.Count(out, "read: idx=")
		if beats != 2 || answers != 2 || released != batch {
			t.Errorf("batch %d: %d heartbeats, %d answers, %d reads released; want 2, 2, %d", batch, beats, answers, released, batch)
		}
		t.Logf("batch of %d reads: %d messages, %.2f per read", batch, beats+answers, float64(beats+answers)/float64(batch))
	}
}

// TestLeaseReadCostsNoMessage checks that a read within the leader's lease
// is released with no message at all.
func TestLeaseReadCostsNoMessage(t *testing.T) {
	env := electedTrio(t, NodeOptions{LeaseReads: true})
	if err := env.ReadIndex(1, []byte("warm")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Stabilize(); err != nil { // the first read earns the lease
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if err := env.ReadIndex(1, []byte(fmt.Sprintf("r%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	out, err := env.Stabilize()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "send:") || strings.Count(out, "read: idx=") != 100 {
		t.Errorf("lease reads sent messages or were not all released:\n%s", out)
	}
}

// TestAsyncCrashLosesQueuedWrites checks the harness's crash of a node in
// the asynchronous storage mode: a write its append worker had not
// completed is not in its storage after the restart.
func TestAsyncCrashLosesQueuedWrites(t *testing.T) {
	env := electedTrio(t, NodeOptions{AsyncStorage: true})
	if _, _, err := env.Propose(1, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.ProcessReady(1); err != nil {
		t.Fatal(err)
	}
	if env.Node(1).queuedWrites() != 1 {
		t.Fatalf("queued writes = %d, want 1", env.Node(1).queuedWrites())
	}
	if err := env.Crash(1); err != nil {
		t.Fatal(err)
	}
	if err := env.Restart(1); err != nil {
		t.Fatal(err)
	}
	if last, _ := env.Node(1).Storage.LastIndex(); last != 1 || env.Node(1).queuedWrites() != 0 {
		t.Errorf("after restart: last index %d, queued writes %d; want 1, 0", last, env.Node(1).queuedWrites())
	}
}
