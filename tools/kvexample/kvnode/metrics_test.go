package kvnode

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// Claim: /metrics and /readyz read what the event loop and the disk
// worker update without a data race (run with -race) and without waiting
// for the loop: scraped continuously from every node while writes go on,
// in both storage modes, they answer every time, and the leader's fsync
// histogram counts the writes' fsyncs.
func TestMetricsAreScrapedRaceFreeDuringWrites(t *testing.T) {
	for _, syncMode := range []bool{false, true} {
		base := testConfig()
		base.Sync = syncMode
		tc := newTestCluster(t, 3, base)
		lead := tc.leader()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var scrapes, failures int
		var mu sync.Mutex
		for _, p := range tc.peers {
			wg.Add(1)
			go func(addr string) {
				defer wg.Done()
				for i := 0; i < 10000; i++ {
					select {
					case <-stop:
						return
					default:
					}
					for _, path := range []string{"/metrics", "/readyz", "/healthz"} {
						ok := scrapeOnce(addr, path)
						mu.Lock()
						scrapes++
						if !ok {
							failures++
						}
						mu.Unlock()
					}
				}
			}(p.HTTPAddr)
		}
		tc.put("m", 40)
		close(stop)
		wg.Wait()
		if failures > 0 || scrapes == 0 {
			t.Fatalf("sync=%v: %d of %d scrapes failed", syncMode, failures, scrapes)
		}
		body := scrapeBody(t, tc.peer(lead).HTTPAddr)
		if strings.Contains(body, "kvexample_wal_fsync_duration_seconds_count 0\n") {
			t.Fatalf("sync=%v: 40 writes and no fsync counted:\n%s", syncMode, body)
		}
		tc.stopAll()
	}
}

// scrapeOnce reports whether GET path answered 200 (or 503 for /readyz,
// which a node without a leader may answer) within a second.
func scrapeOnce(addr, path string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK || (path == "/readyz" && resp.StatusCode == http.StatusServiceUnavailable)
}

func scrapeBody(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Claim: a peer message the node refuses (Step's typed error; nothing
// changes) is counted in /metrics, not only logged: a heartbeat that
// states a commit term above its own term, sent on a connection in node
// 2's name, moves kvexample_raft_messages_refused_total, and the node
// keeps its term.
func TestARefusedPeerMessageIsCounted(t *testing.T) {
	tc := newTestCluster(t, 3, testConfig())
	lead := tc.leader()
	target := lead%3 + 1 // a follower
	from := target%3 + 1
	if from == target {
		t.Fatal("no sender")
	}
	before := metricValue(t, scrapeBody(t, tc.peer(target).HTTPAddr), "kvexample_raft_messages_refused_total")
	m := raftpb.Message{Type: raftpb.MsgHeartbeat, From: from, To: target, Term: 1 << 40, LogTerm: 1 << 41, Commit: 1}
	conn, err := net.Dial("tcp", tc.peer(target).RaftAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(transport.AppendFrame(transport.AppendHello(nil, from, target), &m)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, scrapeBody(t, tc.peer(target).HTTPAddr), "kvexample_raft_messages_refused_total") <= before {
		if time.Now().After(deadline) {
			t.Fatalf("node %d's refused-message counter stayed at %v", target, before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if term := metricValue(t, scrapeBody(t, tc.peer(target).HTTPAddr), "kvexample_raft_term"); term >= 1<<40 {
		t.Fatalf("the refused heartbeat moved node %d's term to %v", target, term)
	}
}

// metricValue returns the value of the unlabelled sample name in a
// /metrics body, failing the test if there is none.
func metricValue(t *testing.T, body, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
