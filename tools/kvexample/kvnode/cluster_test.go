package kvnode

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/tools/wal"
)

// Claim: a cluster in each storage mode serves writes on its leader and
// linearizable reads on every node, including values a follower must wait
// for.
func TestClusterServesWritesAndReadsInBothModes(t *testing.T) {
	for _, mode := range []struct {
		name string
		sync bool
	}{{"async", false}, {"sync", true}} {
		t.Run(mode.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Sync = mode.sync
			tc := newTestCluster(t, 3, cfg)
			tc.leader()
			last := tc.put("k", 60)
			for id := uint64(1); id <= 3; id++ {
				res, err := tc.c.Get(tc.ctx(), tc.peer(id).HTTPAddr, "k-59", "", 0)
				if err != nil || res.Value != "value-59" || res.Index < last {
					t.Fatalf("node %d: linearizable get k-59 = %+v, %v; want value-59 at index >= %d", id, res, err, last)
				}
				tc.checkKeys(id, "k", 60, last)
			}
			if st := tc.status(tc.leader()); st.Mode != mode.name || st.Snapshot.Index < 40 {
				t.Fatalf("status mode %q snapshot %d: want %q and a snapshot at 40 or later", st.Mode, st.Snapshot.Index, mode.name)
			}
		})
	}
}

// Claim: a follower answers a write with not_leader and the leader's HTTP
// address, and a deleted key reads as not found.
func TestFollowerRedirectsWritesAndDeletesAreApplied(t *testing.T) {
	tc := newTestCluster(t, 3, testConfig())
	lead := tc.leader()
	follower := lead%3 + 1
	_, err := tc.c.call(tc.ctx(), tc.peer(follower).HTTPAddr, "PUT", "/kv/x", []byte("1"), nil)
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("put on follower %d: %v, want an *Error", follower, err)
	}
	if e.Code != CodeNotLeader || e.Leader != tc.peer(lead).HTTPAddr {
		t.Fatalf("put on follower %d: %+v, want not_leader with leader %s", follower, e, tc.peer(lead).HTTPAddr)
	}
	tc.put("d", 1)
	idx, err := tc.c.Delete(tc.ctx(), "d-0")
	if err != nil {
		t.Fatal(err)
	}
	res, err := tc.c.Get(tc.ctx(), tc.peer(follower).HTTPAddr, "d-0", ConsistencyLocal, idx)
	if err != nil || res.Found {
		t.Fatalf("get of a deleted key: %+v, %v; want not found", res, err)
	}
}

// Claim: a follower that was down while the leader compacted its log
// catches up through the chunked snapshot transfer after a restart, and
// then holds every acknowledged write.
func TestRestartedFollowerCatchesUpFromChunkedSnapshot(t *testing.T) {
	tc := newTestCluster(t, 3, testConfig())
	lead := tc.leader()
	down := lead%3 + 1
	killed := tc.nodes[down]
	killed.Kill()
	delete(tc.nodes, down)
	if err := killed.disk.wal.Sync(); !errors.Is(err, wal.ErrClosed) {
		t.Fatalf("the killed node's log answers Sync with %v, want ErrClosed: its file is still open", err)
	}
	last := tc.put("s", 120)
	tc.start(down, false)
	tc.waitFor("the restarted follower to catch up", func() bool {
		st := tc.status(down)
		return st != nil && st.Applied >= last
	})
	tc.checkKeys(down, "s", 120, last)
}

// Claim: a node added as a learner starts from the cluster's snapshot,
// fetched in chunks, is promoted to voter, can take leadership, and the
// old leader can be removed while the cluster keeps serving.
func TestLearnerJoinsIsPromotedLeadsAndOldLeaderIsRemoved(t *testing.T) {
	tc := newTestCluster(t, 3, testConfig())
	lead := tc.leader()
	last := tc.put("m", 50)
	p4 := tc.peer(4)
	tc.start(4, true)
	if err := tc.c.AddLearner(tc.ctx(), 4, p4.RaftAddr, p4.HTTPAddr); err != nil {
		t.Fatal(err)
	}
	tc.waitFor("the learner to catch up", func() bool {
		st := tc.status(4)
		return st != nil && st.Applied >= last
	})
	tc.checkKeys(4, "m", 50, last)
	if err := tc.c.Promote(tc.ctx(), 4); err != nil {
		t.Fatal(err)
	}
	if err := tc.c.TransferLeader(tc.ctx(), 4); err != nil {
		t.Fatal(err)
	}
	if got := tc.leader(); got != 4 {
		t.Fatalf("leader %d after the transfer, want 4", got)
	}
	if err := tc.c.Remove(tc.ctx(), lead); err != nil {
		t.Fatal(err)
	}
	last = tc.put("after", 10)
	st := tc.status(4)
	for _, v := range st.Voters {
		if v == lead {
			t.Fatalf("voters %v still hold the removed node %d", st.Voters, lead)
		}
	}
	tc.checkKeys(4, "after", 10, last)
}

// Claim: with LeaseReads every node serves lease reads; a local read of an
// index the node will not reach in time answers timeout naming the leader;
// an unknown consistency is a bad request.
func TestReadModesAndTheirRefusals(t *testing.T) {
	cfg := testConfig()
	cfg.LeaseReads = true
	tc := newTestCluster(t, 3, cfg)
	lead := tc.leader()
	last := tc.put("r", 5)
	for id := uint64(1); id <= 3; id++ {
		res, err := tc.c.Get(tc.ctx(), tc.peer(id).HTTPAddr, "r-4", ConsistencyLease, 0)
		if err != nil || res.Value != "value-4" || res.Index < last {
			t.Fatalf("node %d: lease read = %+v, %v; want value-4 at index >= %d", id, res, err, last)
		}
	}
	follower := lead%3 + 1
	_, err := tc.c.Get(tc.ctx(), tc.peer(follower).HTTPAddr, "r-4", ConsistencyLocal, last+1000)
	// On a loaded machine an election may move leadership meanwhile: the
	// answer names the leader of its moment, the one before or after.
	if e, ok := err.(*Error); !ok || e.Code != CodeTimeout ||
		(e.Leader != tc.peer(lead).HTTPAddr && e.Leader != tc.peer(tc.leader()).HTTPAddr) {
		t.Fatalf("local read past the log: %v; want timeout naming leader %s", err, tc.peer(lead).HTTPAddr)
	}
	_, err = tc.c.Get(tc.ctx(), tc.peer(lead).HTTPAddr, "r-4", "eventual", 0)
	if e, ok := err.(*Error); !ok || e.Code != CodeBadRequest {
		t.Fatalf("unknown consistency: %v; want bad_request", err)
	}
}
