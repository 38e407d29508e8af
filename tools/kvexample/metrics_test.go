package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// TestExpositionParserRejectsMalformedLines shows that the parser the
// scrape test relies on rejects what the format forbids, so that a scrape
// it accepts is well-formed.
func TestExpositionParserRejectsMalformedLines(t *testing.T) {
	head := "# HELP a_total A.\n# TYPE a_total counter\n"
	good := head + "a_total{peer=\"2\",x=\"q\\\"\\\\\\n\"} 3\n"
	if _, err := parseExposition(good); err != nil {
		t.Fatalf("a well-formed exposition is refused: %v", err)
	}
	hist := "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.5\nh_count 2\n"
	if _, err := parseExposition(hist); err != nil {
		t.Fatalf("a well-formed histogram is refused: %v", err)
	}
	for _, bad := range []string{
		head + "a_total 3",                                 // no final newline
		head + "a_total{peer=\"2\"}3\n",                    // no space
		head + "a_total{peer=2} 3\n",                       // unquoted label value
		head + "a_total{peer=\"2\" 3\n",                    // unterminated labels
		head + "a_total{2peer=\"2\"} 3\n",                  // bad label name
		head + "a_total{p=\"\\x\"} 3\n",                    // bad escape
		head + "a_total three\n",                           // bad value
		head + "a_total -1\n",                              // negative counter
		head + "a_total 1 2 3\n",                           // junk
		head + "a_total 1\na_total 2\n",                    // repeated series
		head + "b 1\n",                                     // no TYPE
		head + "\n",                                        // empty line
		head + "# a comment\n",                             // not HELP or TYPE
		"# TYPE a gauge\n# TYPE a gauge\n",                 // repeated TYPE
		"# TYPE a kind\n",                                  // unknown type
		"# TYPE 1a gauge\n",                                // bad name
		strings.Replace(hist, "h_count 2", "h_count 3", 1), // +Inf != count
		strings.Replace(hist, "h_bucket{le=\"1\"} 1", "h_bucket{le=\"1\"} 5", 1), // not cumulative
		strings.Replace(hist, "h_sum 0.5\n", "", 1),                              // no sum
		strings.Replace(hist, "h_bucket{le=\"1\"} 1", "h_bucket{lx=\"1\"} 1", 1), // bucket without le
	} {
		if _, err := parseExposition(bad); err == nil {
			t.Errorf("accepted malformed exposition %q", bad)
		}
	}
}

// scrape fetches and parses /metrics of node id; any malformed line fails
// the test.
func (pc *procCluster) scrape(id uint64) *exposition {
	pc.t.Helper()
	code, body := pc.get(id, "/metrics")
	if code != http.StatusOK {
		pc.t.Fatalf("node %d: GET /metrics: %d %s", id, code, body)
	}
	e, err := parseExposition(body)
	if err != nil {
		pc.t.Fatalf("node %d: /metrics: %v", id, err)
	}
	return e
}

// get sends GET path to node id and returns the status and body.
func (pc *procCluster) get(id uint64, path string) (int, string) {
	pc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+pc.peer(id).HTTPAddr+path, nil)
	resp, err := pc.c.HTTP.Do(req)
	if err != nil {
		pc.t.Fatalf("node %d: GET %s: %v", id, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitMetric waits until node id's series key satisfies cond.
func (pc *procCluster) waitMetric(id uint64, key string, cond func(float64) bool) float64 {
	pc.t.Helper()
	var v float64
	pc.waitFor(fmt.Sprintf("node %d: %s to move", id, key), 10*time.Second, func() bool {
		v = pc.scrape(id).value(key)
		return cond(v)
	})
	return v
}

// Claim: /metrics of real processes is well-formed Prometheus text (every
// line parsed by a parser of the test's own) and its values move with
// what happens: writes raise commit, applied and the fsync histogram's
// count on the leader and the frames it sent to each follower; a write
// refused by a follower raises its not_leader counter; a leader's kill
// raises leader changes on the survivors. /healthz and /readyz answer 200
// on a serving cluster, and /readyz 503 with a reason on a node alone
// without a quorum.
func TestMetricsMoveWithOperations(t *testing.T) {
	pc := startProcCluster(t, 3)
	lead := pc.leader()
	follower := lead%3 + 1
	before := pc.scrape(lead)
	for _, k := range []string{"kvexample_raft_commit_index", "kvexample_wal_fsync_duration_seconds_count",
		"kvexample_wal_segments", `kvexample_raft_state{state="StateLeader"}`, `kvexample_proposals_refused_total{reason="not_leader"}`} {
		if _, ok := before.get(k); !ok {
			t.Fatalf("/metrics has no %s", k)
		}
	}
	ctx := pc.ctx(10 * time.Second)
	var last uint64
	for i := 0; i < 20; i++ {
		idx, err := pc.c.Put(ctx, fmt.Sprintf("m%d", i), []byte("v"))
		if err != nil {
			t.Fatal(err)
		}
		last = idx
	}
	after := pc.waitMetric(lead, "kvexample_raft_applied_index", func(v float64) bool { return v >= float64(last) })
	m := pc.scrape(lead)
	if c := m.value("kvexample_raft_commit_index"); c < float64(last) || after < float64(last) {
		t.Fatalf("after a write at index %d the leader shows commit %v applied %v", last, c, after)
	}
	if b, a := before.value("kvexample_wal_fsync_duration_seconds_count"), m.value("kvexample_wal_fsync_duration_seconds_count"); !(a > b) {
		t.Fatalf("20 writes left the leader's fsync count at %v (was %v)", a, b)
	}
	for _, p := range pc.peers {
		key := fmt.Sprintf(`kvexample_transport_frames_sent_total{peer="%d"}`, p.ID)
		was, _ := before.get(key) // absent: nothing sent yet
		if now, ok := m.get(key); p.ID != lead && (!ok || now <= was) {
			t.Fatalf("%s did not move: %v then %v", key, was, now)
		}
	}
	if m.value(`kvexample_raft_state{state="StateLeader"}`) != 1 {
		t.Fatalf("the leader's state gauge is not StateLeader")
	}

	refused := `kvexample_proposals_refused_total{reason="not_leader"}`
	was := pc.scrape(follower).value(refused)
	err := putOnce(pc.c.HTTP, pc.peer(follower).HTTPAddr, "refused", "x", 2*time.Second)
	if e, ok := err.(*kvnode.Error); !ok || e.Code != kvnode.CodeNotLeader {
		t.Fatalf("a write on follower %d: %v, want not_leader", follower, err)
	}
	if now := pc.scrape(follower).value(refused); now != was+1 {
		t.Fatalf("a refused write moved %s from %v to %v, want +1", refused, was, now)
	}

	for _, p := range pc.peers {
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, body := pc.get(p.ID, path); code != http.StatusOK {
				t.Fatalf("node %d: %s: %d %s", p.ID, path, code, body)
			}
		}
	}

	changes := "kvexample_raft_leader_changes_total"
	was = pc.scrape(follower).value(changes)
	pc.kill(lead)
	pc.waitFor("a new leader", 10*time.Second, func() bool { return pc.otherLeader(lead) })
	pc.waitMetric(follower, changes, func(v float64) bool { return v > was })

	for _, p := range pc.peers {
		pc.kill(p.ID)
	}
	pc.start(follower)
	pc.waitFor("the lone node to answer", 10*time.Second, func() bool { return pc.status(follower) != nil })
	time.Sleep(500 * time.Millisecond) // a few election timeouts: it must stay without a leader
	code, body := pc.get(follower, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "no leader") {
		t.Fatalf("a node alone of three: /readyz %d %s, want 503 no leader", code, body)
	}
	if code, _ := pc.get(follower, "/healthz"); code != http.StatusOK {
		t.Fatalf("a node alone of three: /healthz %d, want 200", code)
	}
}
