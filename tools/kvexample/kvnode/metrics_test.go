package kvnode

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
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
