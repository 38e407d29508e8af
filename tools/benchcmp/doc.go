// Package benchcmp compares tickraft with etcd's raft library
// (go.etcd.io/raft/v3 v3.6.0) on the same in-memory workloads, in one
// process, interleaved.
//
// It lives in its own module, which the library's module never imports, so
// that tickraft keeps no dependencies. The workloads are those of the
// project's own benchmark suite:
//
//   - Replication: a group of 3 or 5 nodes led by node 1; each loop
//     iteration proposes 1, 64 or 1024 entries of 128 B or 1 KiB on the
//     leader and stabilizes the group (every Ready persisted to the
//     library's MemoryStorage, its messages delivered, its committed
//     entries applied, Advance called, until nothing moves). Reported per
//     committed entry: time, allocations, bytes allocated and messages,
//     and committed entries per second.
//   - Floor: the same entries copied into one slice per node, as a log
//     with no protocol would store them; and the payload floor, only their
//     payload bytes copied into one byte slice per node, as a store that
//     keeps nothing but the bytes would. Both run interleaved with the
//     libraries, in the same measurement.
//   - Idle groups: 1,000 (or 10,000) independent three-node groups, each
//     elected, then every node of every group ticked 1,000 times with the
//     heartbeats handled. Reported: live heap per group and time,
//     allocations and messages per group-tick.
//
// The drivers of the two libraries (packages tickraftdriver and
// etcddriver) are written line for line alike and check that every
// proposed entry is applied, in index order, on every node, so that the
// comparison cannot be of a broken driver. Package workload holds what
// both share: the configuration numbers and the payloads.
//
// Run the Go benchmarks with
//
//	go test -run XXX -bench . -benchmem
//
// and the side-by-side comparison, which runs each row on both libraries
// several times and prints medians and ratios, with
//
//	go run ./cmd/compare -runs 5
package benchcmp
