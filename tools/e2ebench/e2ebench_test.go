package e2ebench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSmokeRound builds both servers, runs one short round of two loads and
// checks that every point measured something on both systems, that the
// table names them, and that no process the driver started is left running.
func TestSmokeRound(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the etcd server and starts six processes")
	}
	defer StopAll()
	dir := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bins, err := Build(filepath.Join(wd, "..", ".."), wd, filepath.Join(dir, "bin"))
	if err != nil {
		t.Fatal(err)
	}
	var started []int
	a := &recording{System: &KVExample{Bin: bins.KVExample}, pids: &started}
	b := &recording{System: &Etcd{Bin: bins.Etcd}, pids: &started}
	loads := []Load{{Name: "1 writer", Workers: 1}, {Name: "4 clients 50% reads", Workers: 4, ReadPercent: 50}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var log bytes.Buffer
	points, err := Compare(ctx, Options{A: a, B: b, Loads: loads, Rounds: 1,
		Warmup: 300 * time.Millisecond, Duration: time.Second, Dir: filepath.Join(dir, "data"), Log: &log})
	t.Log(log.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != len(loads) {
		t.Fatalf("%d points, want %d", len(points), len(loads))
	}
	for _, p := range points {
		for name, r := range map[string]Result{"tickraft": p.A, "etcd": p.B} {
			if r.Ops == 0 || r.Writes == 0 || r.P50 <= 0 || r.P50 > r.P999 {
				t.Errorf("%s %s: %+v", name, p.Load.Name, r)
			}
			// One fsync of a member covers at most one write of each client;
			// the half is for writes counted in the window whose fsyncs fell
			// just outside the two scrapes.
			if r.Fsyncs == 0 || r.WritesPerFsync() > 1.5*float64(p.Load.Workers) {
				t.Errorf("%s %s: %d log fsyncs for %d writes of %d clients", name, p.Load.Name, r.Fsyncs, r.Writes, p.Load.Workers)
			}
			if r.WriteBytes == 0 {
				t.Errorf("%s %s: no bytes written to disk for %d writes", name, p.Load.Name, r.Writes)
			}
			if p.Load.ReadPercent > 0 && r.Writes == r.Ops {
				t.Errorf("%s %s: no reads among %d requests", name, p.Load.Name, r.Ops)
			}
		}
	}
	var table bytes.Buffer
	Table(&table, "tickraft", "etcd", points)
	for _, l := range loads {
		if !strings.Contains(table.String(), "| "+l.Name+" | tickraft |") {
			t.Errorf("table lacks %q:\n%s", l.Name, table.String())
		}
	}
	if len(started) != 2*Members {
		t.Fatalf("%d processes recorded, want %d", len(started), 2*Members)
	}
	for _, pid := range started {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("process %d still runs after the comparison", pid)
		}
	}
}

// recording is a System that remembers the PIDs of the clusters it started.
type recording struct {
	System
	pids *[]int
}

func (r *recording) Start(ctx context.Context, dir string) (Cluster, error) {
	c, err := r.System.Start(ctx, dir)
	if err == nil {
		*r.pids = append(*r.pids, c.PIDs()...)
	}
	return c, err
}

// TestReadUsageOfThisProcess checks the /proc parsing on the test process,
// which has used CPU and (through t.TempDir and a synced file) written.
func TestReadUsageOfThisProcess(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	deadline := time.Now().Add(500 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	u, err := readUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.cpuTicks == 0 {
		t.Errorf("no CPU time after a busy loop: %+v", u)
	}
	if u.writeBytes < 1<<20 {
		t.Errorf("write_bytes %d after writing and syncing 1 MiB", u.writeBytes)
	}
}

func TestQuantileAndMedian(t *testing.T) {
	s := make([]time.Duration, 1000)
	for i := range s {
		s[i] = time.Duration(i + 1)
	}
	if q := quantile(s, 0.5); q != 500 {
		t.Errorf("p50 %v", q)
	}
	if q := quantile(s, 0.999); q != 999 {
		t.Errorf("p99.9 %v", q)
	}
	if m := median([]float64{3, 1, 2, 10}); m != 2.5 {
		t.Errorf("median %v", m)
	}
}
