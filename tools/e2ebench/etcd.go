package e2ebench

import (
	"context"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Etcd starts etcd server processes (cmd/etcdserver) with their default
// settings: fsync on, snapshot count 10,000.
type Etcd struct {
	// Bin is the etcd server binary.
	Bin string
	// Extra flags given to every member.
	Extra []string
}

// Name implements System.
func (e *Etcd) Name() string { return "etcd" }

type etcdCluster struct {
	procs   []*proc
	clients []string
	leader  string
}

// Start implements System.
func (e *Etcd) Start(ctx context.Context, dir string) (Cluster, error) {
	ports, err := freePorts(2 * Members)
	if err != nil {
		return nil, err
	}
	c := &etcdCluster{}
	var initial []string
	for i := range Members {
		c.clients = append(c.clients, fmt.Sprintf("http://127.0.0.1:%d", ports[Members+i]))
		initial = append(initial, fmt.Sprintf("m%d=http://127.0.0.1:%d", i+1, ports[i]))
	}
	c.procs, err = startGroup("etcd", e.Bin, dir, nil, func(i int, data string) []string {
		peer := fmt.Sprintf("http://127.0.0.1:%d", ports[i])
		return append([]string{"--name", fmt.Sprintf("m%d", i+1), "--data-dir", data,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--listen-client-urls", c.clients[i], "--advertise-client-urls", c.clients[i],
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "e2ebench", "--log-level", "warn"}, e.Extra...)
	})
	if err != nil {
		return nil, err
	}
	if err := c.waitLeader(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// waitLeader asks every member for its status until one says it leads and a
// write through it succeeds.
func (c *etcdCluster) waitLeader(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		if err := checkAlive(c.procs); err != nil {
			return err
		}
		if l := c.findLeader(ctx); l != "" {
			c.leader = l
			cl, err := c.NewClient()
			if err == nil {
				err = cl.Put(ctx, "e2ebench-ready", []byte("x"))
				cl.Close()
			}
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcd cluster: no leader within %v", startTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *etcdCluster) findLeader(ctx context.Context) string {
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.clients, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return ""
	}
	defer cli.Close()
	for _, ep := range c.clients {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := cli.Status(sctx, ep)
		cancel()
		if err == nil && st.Leader != 0 && st.Header.MemberId == st.Leader {
			return ep
		}
	}
	return ""
}

func (c *etcdCluster) PIDs() []int { return pids(c.procs) }
func (c *etcdCluster) Close()      { stopProcs(c.procs) }

// NewClient returns a client with its own gRPC connection to the leader.
func (c *etcdCluster) NewClient() (Client, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{c.leader}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	return &etcdClient{cli: cli}, nil
}

type etcdClient struct{ cli *clientv3.Client }

func (e *etcdClient) Put(ctx context.Context, key string, value []byte) error {
	_, err := e.cli.Put(ctx, key, string(value))
	return err
}

// Get is linearizable: clientv3's default consistency.
func (e *etcdClient) Get(ctx context.Context, key string) error {
	_, err := e.cli.Get(ctx, key)
	return err
}

func (e *etcdClient) Close() { e.cli.Close() }
