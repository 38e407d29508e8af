// Package raft is tickraft: a Raft consensus library whose core is a pure,
// deterministic, tick-driven state machine.
//
// A RawNode takes ticks, proposals and messages from peers and hands back
// Ready batches that say what to persist, what to send and what to apply. It
// does no I/O, starts no goroutines, reads no clock and draws no global
// randomness: disk, network, threads and time belong to the application
// that embeds it. Given the same Config (including its seed) and the same
// sequence of calls, it produces the same sequence of Readys, byte for byte.
package raft
