package kvnode

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// countingTransport counts the answers that refused a request because
// of where it was sent (503: not_leader, and busy or stopped), as the
// client's HTTP connection saw them, not as the Client reports them.
type countingTransport struct {
	next      http.RoundTripper
	requests  atomic.Uint64
	redirects atomic.Uint64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	c.requests.Add(1)
	if err == nil && resp.StatusCode == http.StatusServiceUnavailable {
		c.redirects.Add(1)
	}
	return resp, err
}

// Claim: a Client told the number of groups (Client.Groups) keeps a
// leader per group: once it has written to every group, its writes go
// straight to their key's group's leader, with no not_leader answer,
// although the groups are led by different processes (a Client
// remembering one leader for the cluster is redirected whenever the key's
// group is led elsewhere: 30 of 64 writes in one run).
func TestClientKeepsALeaderPerGroup(t *testing.T) {
	const groups = 8
	hc := newHostCluster(t, 3, groups, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lead := awaitAllLed(ctx, t, hc)
	leaders := map[uint64]bool{}
	for _, id := range lead {
		leaders[id] = true
	}
	if len(leaders) < 2 {
		t.Skipf("every group elected host %v: nothing to route between", lead)
	}
	ct := &countingTransport{next: http.DefaultTransport}
	c := NewClient(hc.c.Addrs...)
	c.HTTP = &http.Client{Timeout: 10 * time.Second, Transport: ct}
	c.Groups = groups
	put := func(key string) {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := c.Put(wctx, key, []byte("v:"+key)); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	// One write per group teaches the client every group's leader.
	for g := uint64(1); g <= groups; g++ {
		for i := 0; ; i++ {
			if k := fmt.Sprintf("learn-%d", i); GroupOf(k, groups) == g {
				put(k)
				break
			}
		}
	}
	r0, n0 := ct.redirects.Load(), ct.requests.Load()
	const writes = 64
	for i := 0; i < writes; i++ {
		put(fmt.Sprintf("k-%d", i))
	}
	redirects, requests := ct.redirects.Load()-r0, ct.requests.Load()-n0
	t.Logf("groups led by %d hosts; %d writes: %d requests, %d refused for where they went", len(leaders), writes, requests, redirects)
	// A leader may change under load; two refusals leave room for it.
	if redirects > 2 {
		t.Errorf("%d of %d requests refused for where they went, want at most 2 once every group's leader is known", redirects, requests)
	}
}
