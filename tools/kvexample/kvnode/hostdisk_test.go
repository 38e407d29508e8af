package kvnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// walFiles counts the segment files in a host's shared log directory, as
// the directory lists them (not as the log counts them).
func walFiles(t *testing.T, hc *hostCluster, id uint64) int {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(hc.config(id).DataDir, "groups", "wal"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".wal") {
			n++
		}
	}
	return n
}

// keysOfGroup returns n keys that fall in group g of groups.
func keysOfGroup(prefix string, g uint64, groups, n int) []string {
	var keys []string
	for i := 0; len(keys) < n; i++ {
		if k := fmt.Sprintf("%s-%d", prefix, i); fnvGroup(k, groups) == g {
			keys = append(keys, k)
		}
	}
	return keys
}

// Claim: the shared log's disk stays bounded when one group writes and the
// others wrote once and went idle: they never reach SnapshotInterval (nor
// does the busy group here), so only the snapshots of the groups that
// keep the oldest segment delete it. The busy group writes more than
// twenty segments' worth; the segment files in every host's directory
// never exceed a handful.
func TestHostLogStaysBoundedWithIdleGroupsPinningTheOldestSegment(t *testing.T) {
	const groups, segBytes, valueBytes, writes, bound = 6, 32 << 10, 2 << 10, 400, 8
	base := hostTestConfig()
	base.SnapshotInterval, base.walSegmentBytes = 1<<20, segBytes
	hc := newHostClusterWith(t, 3, groups, true, base)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for g := uint64(2); g <= groups; g++ {
		k := keysOfGroup("idle", g, groups, 1)[0]
		if _, err := hc.c.Put(ctx, k, []byte("once")); err != nil {
			t.Fatalf("writing %s of group %d: %v", k, g, err)
		}
	}
	keys := keysOfGroup("busy", 1, groups, writes)
	value := []byte(strings.Repeat("v", valueBytes))
	most := 0
	for start := 0; start < len(keys); start += 20 {
		var wg sync.WaitGroup
		for _, k := range keys[start:min(start+20, len(keys))] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := hc.c.Put(ctx, k, value); err != nil {
					t.Errorf("writing %s: %v", k, err)
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		for id := uint64(1); id <= 3; id++ {
			most = max(most, walFiles(t, hc, id))
		}
	}
	t.Logf("busy group wrote %d KiB; at most %d segment files of %d KiB on a host", writes*valueBytes>>10, most, segBytes>>10)
	if most > bound {
		t.Errorf("a host's log held %d segment files of %d KiB while one group wrote %d KiB; want at most %d", most, segBytes>>10, writes*valueBytes>>10, bound)
	}
}
