package benchcmp_test

import (
	"flag"
	"fmt"
	"testing"

	"github.com/tickraft/raft/tools/benchcmp"
)

var groups10k = flag.Bool("groups10k", false, "also run BenchmarkIdleGroups with 10,000 groups")

// BenchmarkReplication runs every row of the replication workload on each
// library, side by side: nodes=N/size=S/batch=B/lib=L.
func BenchmarkReplication(b *testing.B) {
	for _, s := range benchcmp.Shapes() {
		for _, lib := range benchcmp.Libraries {
			b.Run(s.Name()+"/lib="+lib.Name, func(b *testing.B) {
				if err := benchcmp.RunReplication(b, lib, s); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkFloor runs the append-only floor of every row.
func BenchmarkFloor(b *testing.B) {
	for _, s := range benchcmp.Shapes() {
		b.Run(s.Name(), func(b *testing.B) {
			if err := benchcmp.RunFloor(b, s); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkIdleGroups runs the idle workload with 1,000 groups (and 10,000
// with -groups10k) on each library. One iteration takes seconds; run it
// with -benchtime=1x.
func BenchmarkIdleGroups(b *testing.B) {
	counts := []int{1000}
	if *groups10k {
		counts = append(counts, 10000)
	}
	for _, n := range counts {
		for _, lib := range benchcmp.Libraries {
			b.Run(fmt.Sprintf("groups=%d/lib=%s", n, lib.Name), func(b *testing.B) {
				if err := benchcmp.RunIdleGroups(b, lib, n); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
