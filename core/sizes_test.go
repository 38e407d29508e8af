package core

import (
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
	// maxRaftBytes keeps a Raft in the 480-byte size class of the Go
	// allocator (what few nodes use is in raftCold, behind one pointer);
	// 481 bytes would take 512, and over 512 an object that holds
	// pointers also carries an 8-byte header.
	maxRaftBytes = 480
	// maxRaftLogBytes is the 160-byte size class (the unstable tail's
	// last durable entries, which the node applies from, take 32 bytes).
	maxRaftLogBytes = 160
	// maxProgressBytes keeps a member's entry in the tracker's array
	// (its ID and Progress) at 56 bytes.
	maxProgressBytes = 48
	// maxMemoryStorageBytes is the 192-byte size class: what only a
	// snapshot or a compaction gives a storage (the snapshot, the spare
	// segments) is behind one pointer.
	maxMemoryStorageBytes = 192
)

func TestPerNodeStructuresKeepTheirSize(t *testing.T) {
	for _, tc := range []struct {
		name     string
		got, max uintptr
	}{
		{"core.Raft", unsafe.Sizeof(Raft{}), maxRaftBytes},
		{"core.raftLog", unsafe.Sizeof(raftLog{}), maxRaftLogBytes},
		{"tracker.Progress", unsafe.Sizeof(tracker.Progress{}), maxProgressBytes},
		{"core.MemoryStorage", unsafe.Sizeof(MemoryStorage{}), maxMemoryStorageBytes},
	} {
		if tc.got > tc.max {
			t.Errorf("%s is %d bytes, at most %d: every node of every group pays for it", tc.name, tc.got, tc.max)
		}
	}
}
