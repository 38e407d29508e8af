package raftloop

import (
	"testing"
	"unsafe"
)

// maxLoopBytes pins the size of a Loop, which a process with many groups
// holds once per node: within the 160-byte size class of the allocator,
// so that it keeps no copy of the raft.Config (hooks says why) and its
// queues, which an idle node never fills, stay behind a pointer until
// first used (152 bytes; 288 with the queues inline).
const maxLoopBytes = 160

func TestALoopKeepsNoCopyOfTheRaftConfig(t *testing.T) {
	if got := unsafe.Sizeof(Loop{}); got > maxLoopBytes {
		t.Errorf("Loop is %d bytes, at most %d: every node of every group pays for it", got, maxLoopBytes)
	}
}
