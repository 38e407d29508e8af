package kvnode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Client calls the HTTP API of a cluster. Its writes go to the leader: it
// follows not_leader answers, tries the next address when a node does not
// answer, and backs off on busy, until the call's context is done. It is
// safe for concurrent use.
//
// A write that timed out may have been applied all the same; Client then
// sends it again, so writes must be idempotent for the caller (a put of the
// same value is).
type Client struct {
	// HTTP is the client used; nil means one with a 10-second timeout.
	HTTP *http.Client
	// Addrs are the HTTP addresses (host:port) of the cluster's nodes.
	Addrs []string
	// AdminToken, when not empty, is sent as "Authorization: Bearer
	// <token>" with every request, as the membership and transfer
	// endpoints require on a node with Config.AdminToken.
	AdminToken string
	// Groups, above one, is the number of groups of a multi-group cluster
	// (Config.Groups): the Client then remembers a leader per group, the
	// one of the key's group (GroupOf) for each write, instead of one for
	// the cluster. Zero or one is a single-group cluster. Set it before
	// the first call.
	Groups int

	mu sync.Mutex
	// leaders is the address that last accepted a write, per group (the
	// key 0 for a single-group cluster and for the requests of no key).
	leaders map[uint64]string
	next    int
}

// NewClient returns a Client of the nodes at addrs. Its HTTP client keeps
// up to 64 idle connections per node, so that many concurrent callers do
// not open a connection per request.
func NewClient(addrs ...string) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &Client{HTTP: &http.Client{Timeout: 10 * time.Second, Transport: tr}, Addrs: addrs}
}

// Put sets key to value and returns the index of its entry.
func (c *Client) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	var res KVResult
	err := c.toLeader(ctx, c.groupOf(key), http.MethodPut, "/kv/"+url.PathEscape(key), value, &res)
	return res.Index, err
}

// Delete deletes key and returns the index of its entry.
func (c *Client) Delete(ctx context.Context, key string) (uint64, error) {
	var res KVResult
	err := c.toLeader(ctx, c.groupOf(key), http.MethodDelete, "/kv/"+url.PathEscape(key), nil, &res)
	return res.Index, err
}

// Get reads key from the node at addr with the given consistency ("" is
// linearizable) and, for a local read, minIndex. It retries while the node
// answers busy. found is false for a key that is not set.
func (c *Client) Get(ctx context.Context, addr, key, consistency string, minIndex uint64) (res KVResult, err error) {
	q := url.Values{}
	if consistency != "" {
		q.Set("consistency", consistency)
	}
	if minIndex > 0 {
		q.Set("min_index", strconv.FormatUint(minIndex, 10))
	}
	path := "/kv/" + url.PathEscape(key) + "?" + q.Encode()
	for attempt := 0; ; attempt++ {
		_, err := c.call(ctx, addr, http.MethodGet, path, nil, &res)
		if err == nil { // a key that is not set answers 404 without an error
			return res, nil
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeBusy {
			return res, err
		}
		if err := sleep(ctx, attempt); err != nil {
			return res, fmt.Errorf("get %s from %s: %w (last: %v)", key, addr, err, e)
		}
	}
}

// Status returns the status of the node at addr.
func (c *Client) Status(ctx context.Context, addr string) (*Status, error) {
	var st Status
	if _, err := c.call(ctx, addr, http.MethodGet, "/status", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// AddLearner adds node id, at the given addresses, as a learner.
func (c *Client) AddLearner(ctx context.Context, id uint64, raftAddr, httpAddr string) error {
	body, _ := json.Marshal(MemberRequest{ID: id, Raft: raftAddr, HTTP: httpAddr})
	return c.toLeader(ctx, 0, http.MethodPost, "/members", body, nil)
}

// Promote makes learner id a voter.
func (c *Client) Promote(ctx context.Context, id uint64) error {
	return c.toLeader(ctx, 0, http.MethodPost, fmt.Sprintf("/members/%d/promote", id), nil, nil)
}

// Remove removes member id.
func (c *Client) Remove(ctx context.Context, id uint64) error {
	return c.toLeader(ctx, 0, http.MethodDelete, fmt.Sprintf("/members/%d", id), nil, nil)
}

// TransferLeader hands leadership to id and returns once id leads.
func (c *Client) TransferLeader(ctx context.Context, id uint64) error {
	body, _ := json.Marshal(TransferRequest{ID: id})
	return c.toLeader(ctx, 0, http.MethodPost, "/leader", body, nil)
}

// groupOf returns the group whose leader a write of key goes to: the
// key's group in a multi-group cluster, 0 otherwise.
func (c *Client) groupOf(key string) uint64 {
	if c.Groups > 1 {
		return GroupOf(key, c.Groups)
	}
	return 0
}

// toLeader sends a request to the leader of group (0: the cluster's),
// retrying as the answer says: at once at the leader a not_leader answer
// names; at once at the next address after a node that does not answer
// or knows no leader, waiting only after a whole round of them; after a
// wait at the same node when it is busy.
func (c *Client) toLeader(ctx context.Context, group uint64, method, path string, body []byte, out any) error {
	var last error
	misses, waits := 0, 0
	for {
		addr := c.pick(group)
		_, err := c.call(ctx, addr, method, path, body, out)
		if err == nil {
			c.setLeader(group, addr)
			return nil
		}
		last = err
		var e *Error
		isAPI := errors.As(err, &e)
		switch {
		case isAPI && !retryable(e.Code):
			return err
		case isAPI && e.Code == CodeNotLeader && e.Leader != "" && e.Leader != addr:
			c.setLeader(group, e.Leader)
			continue
		case isAPI && (e.Code == CodeBusy || e.Code == CodeTimeout):
			// A leader that is busy: wait, then ask it again.
		default:
			c.forget(group, addr)
			if misses++; misses%len(c.Addrs) != 0 {
				continue
			}
		}
		if err := sleep(ctx, waits); err != nil {
			return fmt.Errorf("%s %s: %w (last: %v)", method, path, err, last)
		}
		waits++
	}
}

// pick returns the address of group's leader if known, or the next
// address.
func (c *Client) pick(group uint64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if addr := c.leaders[group]; addr != "" {
		return addr
	}
	c.next++
	return c.Addrs[c.next%len(c.Addrs)]
}

// setLeader remembers addr as group's leader.
func (c *Client) setLeader(group uint64, addr string) {
	c.mu.Lock()
	if c.leaders == nil {
		c.leaders = map[uint64]string{}
	}
	c.leaders[group] = addr
	c.mu.Unlock()
}

// forget drops addr as group's leader.
func (c *Client) forget(group uint64, addr string) {
	c.mu.Lock()
	if c.leaders[group] == addr {
		delete(c.leaders, group)
	}
	c.mu.Unlock()
}

// call makes one request and decodes the answer into out, or returns an
// *Error for an API error, or the transport's error. It returns the HTTP
// status.
func (c *Client) call(ctx context.Context, addr, method, path string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if c.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	e := &Error{}
	// A key that is not set answers 404 with a KVResult; any other 404
	// (an unknown member, an unknown route) is an Error with a code.
	if resp.StatusCode == http.StatusNotFound && json.Unmarshal(b, e) == nil && e.Code != "" {
		return resp.StatusCode, e
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotFound {
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				return resp.StatusCode, fmt.Errorf("decoding the answer of %s: %w", addr, err)
			}
		}
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(b, e); err != nil || e.Code == "" {
		return resp.StatusCode, fmt.Errorf("%s answered %s: %q", addr, resp.Status, b)
	}
	return resp.StatusCode, e
}

// sleep waits before retry number attempt, doubling from 5ms to 200ms.
func sleep(ctx context.Context, attempt int) error {
	d := 5 * time.Millisecond << min(attempt, 6)
	d = min(d, 200*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
