package raftloop

import (
	"testing"
	"unsafe"
)

// maxLoopBytes pins the size of a Loop, which a process with many groups
// holds once per node: within the 288-byte size class of the allocator,
// so that it keeps no copy of the raft.Config (hooks says why).
const maxLoopBytes = 288

func TestALoopKeepsNoCopyOfTheRaftConfig(t *testing.T) {
	if got := unsafe.Sizeof(Loop{}); got > maxLoopBytes {
		t.Errorf("Loop is %d bytes, at most %d: every node of every group pays for it", got, maxLoopBytes)
	}
}
