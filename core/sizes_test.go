package core

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/tickraft/raft/tracker"
)

// The sizes of what every node of a process with many groups holds,
// pinned so that a field added carelessly fails the suite rather than
// moving every node into the next size class of the allocator.
// BENCHMARKS.md ("Idle groups") gives the profile they come from; a new
// field belongs in settings (shared), leaderState (leaders only) or a
// sub-state allocated on first use, unless every node needs it.
const (
	// maxRaftBytes keeps a Raft, with the log it holds, in the 480-byte
	// size class of the Go allocator, in one allocation: what few nodes
	// use (among it the chunked transfer's receiver and the messages to
	// the snapshot worker) is in raftCold, behind one pointer; the
	// membership configuration is behind one too, shared by the nodes of
	// a GroupCache; the windows' bounds are in the shared settings. (Two
	// allocations of 352 and 160 bytes with the log behind a pointer, the
	// bounds in the tracker and the capacity hint in a word of its own;
	// 480 and 160 with the configuration inline too.) Over 512 bytes an
	// object that holds pointers also carries an 8-byte header.
	maxRaftBytes = 480
	// maxRaftLogBytes is the log's part of it (the unstable tail's last
	// durable entries, which the node applies from, take 32 bytes).
	maxRaftLogBytes = 152
	// maxProgressBytes keeps a member's entry in the tracker's array
	// (its ID and Progress) at 56 bytes.
	maxProgressBytes = 48
	// maxMemoryStorageBytes is the 96-byte size class: what only a
	// snapshot, a compaction or a ConfState beyond voters gives a storage
	// (the snapshot, the spare segments, the compaction point, the whole
	// ConfState) is behind one pointer, and a voters-only ConfState is one
	// slice (192 bytes with a ConfState and the compaction point inline).
	maxMemoryStorageBytes = 96
	// maxLeaderStateBytes is the 128-byte size class of what only a
	// leader holds (leaseRevoked sits beside the heartbeat timer, in what
	// would be padding: 136 bytes, class 144, before it).
	maxLeaderStateBytes = 128
)

func TestPerNodeStructuresKeepTheirSize(t *testing.T) {
	for _, tc := range []struct {
		name     string
		got, max uintptr
	}{
		{"core.Raft and its log", unsafe.Sizeof(Raft{}) + logHeldApart(), maxRaftBytes},
		{"core.raftLog", unsafe.Sizeof(raftLog{}), maxRaftLogBytes},
		{"tracker.Progress", unsafe.Sizeof(tracker.Progress{}), maxProgressBytes},
		{"core.MemoryStorage", unsafe.Sizeof(MemoryStorage{}), maxMemoryStorageBytes},
		{"core.leaderState", unsafe.Sizeof(leaderState{}), maxLeaderStateBytes},
	} {
		if tc.got > tc.max {
			t.Errorf("%s is %d bytes, at most %d: every node of every group pays for it", tc.name, tc.got, tc.max)
		}
	}
}

// logHeldApart returns the size of the log if a Raft holds it behind a
// pointer (a second allocation per node), and 0 if it holds it inline.
func logHeldApart() uintptr {
	f, ok := reflect.TypeOf(Raft{}).FieldByName("raftLog")
	if ok && f.Type.Kind() == reflect.Pointer {
		return f.Type.Elem().Size()
	}
	return 0
}
