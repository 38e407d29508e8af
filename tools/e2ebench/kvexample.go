package e2ebench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// KVExample starts tools/kvexample processes with their default flags and
// the Extra flags.
type KVExample struct {
	// Bin is the kvexample binary.
	Bin string
	// Extra flags given to every process (for example -snapshot-interval).
	Extra []string
	// AdminToken, if set, opens /debug/pprof on every process.
	AdminToken string
	// Env is added to every process's environment (for example
	// GODEBUG=gctrace=1, whose lines go to the process's log).
	Env []string
}

// Name implements System.
func (k *KVExample) Name() string { return "tickraft" }

type kvCluster struct {
	procs  []*proc
	http   []string
	leader string
	tr     *http.Transport
	token  string
}

// Start implements System.
func (k *KVExample) Start(ctx context.Context, dir string) (Cluster, error) {
	ports, err := freePorts(2 * Members)
	if err != nil {
		return nil, err
	}
	c := &kvCluster{token: k.AdminToken}
	var peers []string
	for i := range Members {
		c.http = append(c.http, fmt.Sprintf("127.0.0.1:%d", ports[Members+i]))
		peers = append(peers, fmt.Sprintf("%d=127.0.0.1:%d=%s", i+1, ports[i], c.http[i]))
	}
	env := append([]string(nil), k.Env...)
	if k.AdminToken != "" {
		env = append(env, "KVEXAMPLE_ADMIN_TOKEN="+k.AdminToken)
	}
	c.procs, err = startGroup("kvexample", k.Bin, dir, env, func(i int, data string) []string {
		return append([]string{"-id", fmt.Sprint(i + 1), "-data", data,
			"-raft-addr", fmt.Sprintf("127.0.0.1:%d", ports[i]), "-http-addr", c.http[i],
			"-peers", strings.Join(peers, ","), "-log-level", "warn"}, k.Extra...)
	})
	if err != nil {
		return nil, err
	}
	c.tr = &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}
	if err := c.waitLeader(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// waitLeader polls /status until every node names the same leader and a
// write through it succeeds.
func (c *kvCluster) waitLeader(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	hc := &http.Client{Transport: c.tr, Timeout: 2 * time.Second}
	for {
		if err := checkAlive(c.procs); err != nil {
			return err
		}
		var st struct {
			LeaderHTTP string `json:"leader_http"`
		}
		if resp, err := hc.Get("http://" + c.http[0] + "/status"); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
		}
		if st.LeaderHTTP != "" {
			c.leader = st.LeaderHTTP
			cl, _ := c.NewClient()
			err := cl.Put(ctx, "e2ebench-ready", []byte("x"))
			cl.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("tickraft cluster: no leader within %v", startTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *kvCluster) PIDs() []int { return pids(c.procs) }
func (c *kvCluster) Close()      { stopProcs(c.procs); c.tr.CloseIdleConnections() }

func (c *kvCluster) NewClient() (Client, error) {
	return &kvClient{hc: &http.Client{Transport: c.tr, Timeout: 10 * time.Second}, base: "http://" + c.leader + "/kv/"}, nil
}

// Leader is the leader's HTTP address (for profiles).
func (c *kvCluster) Leader() string { return c.leader }

type kvClient struct {
	hc   *http.Client
	base string
}

func (k *kvClient) do(ctx context.Context, method, key string, body []byte) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.base+key, r)
	if err != nil {
		return err
	}
	resp, err := k.hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("%s %s: %s", method, key, resp.Status)
	}
	return nil
}

func (k *kvClient) Put(ctx context.Context, key string, value []byte) error {
	return k.do(ctx, http.MethodPut, key, value)
}

func (k *kvClient) Get(ctx context.Context, key string) error {
	return k.do(ctx, http.MethodGet, key, nil)
}

func (k *kvClient) Close() {}

// FetchProfile saves the leader's /debug/pprof/<kind> (with the query, for
// example "seconds=10") to path. The cluster must have an admin token.
func FetchProfile(c Cluster, kind, query, path string) error {
	kc, ok := c.(*kvCluster)
	if !ok {
		return fmt.Errorf("profiles are fetched from the example server only")
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+kc.leader+"/debug/pprof/"+kind+"?"+query, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+kc.token)
	resp, err := (&http.Client{Transport: kc.tr, Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s profile: %s", kind, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}

// FetchMetrics saves the leader's /metrics (its fsync and Ready latency
// histograms among them) to path.
func FetchMetrics(c Cluster, path string) error {
	kc, ok := c.(*kvCluster)
	if !ok {
		return fmt.Errorf("metrics are fetched from the example server only")
	}
	resp, err := (&http.Client{Transport: kc.tr, Timeout: 10 * time.Second}).Get("http://" + kc.leader + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}
