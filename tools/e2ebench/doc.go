// Package e2ebench compares the example key-value server built on tickraft
// (tools/kvexample) with the etcd server, end to end: three processes of each
// on loopback, each with its own data directory on the real disk and real
// fsync, driven by the same closed-loop load.
//
// It lives in its own Go module so that the library's go.mod keeps no
// dependency on etcd. The command cmd/e2e runs the comparison; cmd/etcdserver
// is the etcd server built from the module proxy at the version go.mod pins.
//
// Every process it starts runs in its own process group with a parent-death
// signal, and is stopped (SIGTERM, then SIGKILL after a bounded wait) when a
// cluster is closed, when a run fails and when the driver is interrupted.
package e2ebench
