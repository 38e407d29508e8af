package e2ebench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Members is the number of server processes of each system.
const Members = 3

// startTimeout bounds how long a cluster may take to elect a leader.
const startTimeout = 30 * time.Second

// Client sends one request at a time to a cluster's leader.
type Client interface {
	// Put writes value under key and returns once the cluster acknowledged it.
	Put(ctx context.Context, key string, value []byte) error
	// Get reads key with a linearizable read.
	Get(ctx context.Context, key string) error
	// Close releases the client's connections.
	Close()
}

// Cluster is three running server processes of one system.
type Cluster interface {
	// PIDs are the server processes, for /proc accounting.
	PIDs() []int
	// NewClient returns a client of the leader.
	NewClient() (Client, error)
	// Fsyncs is the number of log fsyncs the members counted, summed.
	Fsyncs() (uint64, error)
	// Close stops every process of the cluster.
	Close()
}

// System starts clusters of one server.
type System interface {
	// Name is how tables name the system.
	Name() string
	// Start starts a new cluster with data directories under dir.
	Start(ctx context.Context, dir string) (Cluster, error)
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startGroup starts the processes that argsFor describes, one data directory
// each under dir, and registers them so that StopAll reaches them.
func startGroup(name, bin, dir string, env []string, argsFor func(i int, data string) []string) ([]*proc, error) {
	var ps []*proc
	for i := range Members {
		data := filepath.Join(dir, fmt.Sprintf("%s-%d", name, i+1))
		if err := os.MkdirAll(data, 0o700); err != nil {
			stopProcs(ps)
			return nil, err
		}
		p, err := startProc(fmt.Sprintf("%s-%d", name, i+1), bin, argsFor(i, data), env, data+".log")
		if err != nil {
			stopProcs(ps)
			return nil, err
		}
		running.add(p)
		ps = append(ps, p)
	}
	return ps, nil
}

// stopProcs stops ps in parallel.
func stopProcs(ps []*proc) {
	done := make(chan struct{}, len(ps))
	for _, p := range ps {
		go func(p *proc) {
			p.stop()
			running.remove(p)
			done <- struct{}{}
		}(p)
	}
	for range ps {
		<-done
	}
}

// checkAlive fails if a process of ps has exited.
func checkAlive(ps []*proc) error {
	for _, p := range ps {
		if p.exited() {
			return fmt.Errorf("%s exited: %v (log %s)", p.name, p.err, p.log.Name())
		}
	}
	return nil
}

func pids(ps []*proc) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p.pid()
	}
	return out
}
