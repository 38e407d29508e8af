package raftloop

import (
	"testing"
	"unsafe"
)

// maxLoopBytes pins the size of a Loop, which a process with many groups
// holds once per node: within the 80-byte size class of the allocator,
// so that it keeps no copy of the raft.Config (hooks says why), its
// queues, which an idle node never fills, stay behind a pointer until
// first used, and so do the optional callbacks most Loops leave unset,
// with the storage mode (80 bytes; 96 with the mode and the node's ID
// inline, 152 with the callbacks inline too, 288 with the queues too).
const maxLoopBytes = 80

func TestALoopKeepsNoCopyOfTheRaftConfig(t *testing.T) {
	if got := unsafe.Sizeof(Loop{}); got > maxLoopBytes {
		t.Errorf("Loop is %d bytes, at most %d: every node of every group pays for it", got, maxLoopBytes)
	}
}
