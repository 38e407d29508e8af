package kvnode

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// TestMeasureWritesPerFsync measures group commit: 64 clients write 3,000
// keys through the leader of a three-node cluster in each storage mode,
// and the test logs the writes per fsync of the write-ahead log: client
// writes × 3 members ÷ the fsyncs the three members count (the
// definition of BENCHMARKS.md), and the Readys' writes (wal_writes_total)
// ÷ those fsyncs. It measures and asserts nothing about
// speed; it runs only with KVNODE_MEASURE=1:
//
//	KVNODE_MEASURE=1 go test ./tools/kvexample/kvnode -run TestMeasureWritesPerFsync -v
func TestMeasureWritesPerFsync(t *testing.T) {
	if os.Getenv("KVNODE_MEASURE") == "" {
		t.Skip("a measurement: set KVNODE_MEASURE=1")
	}
	const clients, writes = 64, 3000
	for _, syncMode := range []bool{false, true} {
		cfg := testConfig()
		cfg.Sync, cfg.SnapshotInterval = syncMode, 100_000
		tc := newTestCluster(t, 3, cfg)
		tc.leader()
		fsyncs := func() (n, w uint64) {
			for _, node := range tc.nodes {
				n += node.metrics.fsyncLatency.count.Load()
				w += node.disk.writes.Load()
			}
			return n, w
		}
		before, wBefore := fsyncs()
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := c; i < writes; i += clients {
					if _, err := tc.c.Put(tc.ctx(), fmt.Sprint("k-", i), []byte("v")); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		n, w := fsyncs()
		n, w = n-before, w-wBefore
		t.Logf("sync=%v: %d client writes, %d Ready writes, %d fsyncs on 3 members: %.2f client writes and %.2f Ready writes per fsync",
			syncMode, writes, w, n, float64(writes*3)/float64(n), float64(w)/float64(n))
		tc.stopAll()
	}
}
