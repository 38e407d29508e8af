package e2ebench

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The metrics that count log fsyncs: the histogram count of each server's
// write-ahead-log fsync latency. etcd also fsyncs its bbolt backend on
// every commit of its batch; that one is not counted here.
const (
	kvexampleFsyncs = "kvexample_wal_fsync_duration_seconds_count"
	etcdFsyncs      = "etcd_disk_wal_fsync_duration_seconds_count"
)

// scrapeCounter sums the samples of metric in the Prometheus text served
// at each of urls.
func scrapeCounter(urls []string, metric string) (uint64, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	var sum uint64
	for _, u := range urls {
		resp, err := hc.Get(u)
		if err != nil {
			return 0, err
		}
		found := false
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			name, value, ok := strings.Cut(sc.Text(), " ")
			if !ok || (name != metric && !strings.HasPrefix(name, metric+"{")) {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				resp.Body.Close()
				return 0, fmt.Errorf("%s: %s: %w", u, name, err)
			}
			sum += uint64(v)
			found = true
		}
		resp.Body.Close()
		if err := sc.Err(); err != nil {
			return 0, err
		}
		if !found {
			return 0, fmt.Errorf("%s: no %s", u, metric)
		}
	}
	return sum, nil
}

// Fsyncs implements Cluster.
func (c *kvCluster) Fsyncs() (uint64, error) {
	urls := make([]string, len(c.http))
	for i, a := range c.http {
		urls[i] = "http://" + a + "/metrics"
	}
	return scrapeCounter(urls, kvexampleFsyncs)
}

// Fsyncs implements Cluster.
func (c *etcdCluster) Fsyncs() (uint64, error) {
	urls := make([]string, len(c.clients))
	for i, a := range c.clients {
		urls[i] = a + "/metrics"
	}
	return scrapeCounter(urls, etcdFsyncs)
}
