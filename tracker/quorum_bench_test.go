package tracker_test

import (
	"fmt"
	"testing"

	"github.com/tickraft/raft/tracker"
)

// benchConfig returns a majority config of n voters and a progress map in
// which voter i has acknowledged an index that scatters with i.
func benchConfig(n int) (tracker.MajorityConfig, tracker.ProgressMap) {
	ids := make([]uint64, n)
	prs := tracker.ProgressMap{}
	for i := range ids {
		ids[i] = uint64(i + 1)
		match := uint64(1000 + (i*37)%11)
		prs[ids[i]] = &tracker.Progress{Match: match, Next: match + 1, Inflights: tracker.NewInflights(4, 0)}
	}
	return tracker.MakeMajorityConfig(ids...), prs
}

func BenchmarkCommittedIndex(b *testing.B) {
	for _, n := range []int{1, 3, 5, 7, 11} {
		cfg, prs := benchConfig(n)
		b.Run(fmt.Sprintf("voters=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var sink uint64
			for i := 0; i < b.N; i++ {
				sink += cfg.CommittedIndex(prs)
			}
			if sink == 0 {
				b.Fatal("nothing committed")
			}
		})
	}
}
