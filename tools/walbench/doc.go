// Package walbench compares tickraft's write-ahead log with the logs of
// three other Go Raft libraries, on a real disk, in the same run: etcd's
// WAL (go.etcd.io/etcd/server/v3 v3.6.13, package storage/wal),
// hashicorp's raft-boltdb/v2 (v2.3.1) and hashicorp's raft-wal (v0.4.0),
// the last two as hashicorp/raft v1.7.2 uses them.
//
// It lives in its own module, which the library's module never imports,
// so that tickraft keeps no dependencies.
//
// Each library is driven the way its own Raft implementation makes a
// batch durable: tickraft's log (package tools/wal, with the example
// key-value server's 8 MiB segments) with one Save of the hard state and the
// entries, synced, per Ready, as the example key-value server does; etcd's
// with one WAL.Save per Ready, which fsyncs itself when raft.MustSync says
// so; the hashicorp stores with one StoreLogs per batch, durable when it
// returns, and the term and vote stored with SetUint64 and Set only when
// they change. The workload is a leader's steady state (see Workload):
// entries with consecutive indexes in term 1, and a hard state
// whose commit index follows the log one batch behind.
//
// Measured: entries and saves per second, fsyncs and write calls per
// save, bytes per entry, and the median and 99th percentile of a save's
// latency, at 1, 64 and 1,024 entries per save of 128 B and 1 KiB
// entries (Points); and the time to reopen a log of 100,000 entries and
// read every entry back, with the log's files out of the page cache and
// in it. The counts do not come from the libraries: system calls are
// counted by the kernel (perf stat on the syscalls tracepoints, or
// strace), bytes by the kernel's accounting in /proc/self/io.
//
// Beside the four libraries (Drivers), cmd/compare's -drivers can name
// tickraft's log with its package's default segment size
// (TickraftDefaultDriver) and two floors that write the same bytes with
// no log format (Floors): a growing file fsynced, and preallocated
// segments fdatasynced.
//
// The tests check each driver's round trip (what was saved is what a
// reopened log gives back); the benchmarks profile one library at a
// time; the comparison is a command:
//
//	go test .
//	go run ./cmd/compare -runs 5
package walbench
