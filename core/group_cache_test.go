package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// TestAGroupCacheKeepsABoundedAmountOfArrays: what a GroupCache keeps is
// bounded in messages, oversized arrays are never kept, and an array it
// lends is empty, cleared, and large enough.
func TestAGroupCacheKeepsABoundedAmountOfArrays(t *testing.T) {
	c := NewGroupCache()
	for i := 0; i < 2*maxCachedMessages; i++ {
		c.putArray(make([]raftpb.Message, 1, 4))
	}
	if c.spareCap > maxCachedMessages || len(c.spare) != maxCachedMessages/4 {
		t.Fatalf("keeps %d arrays of %d messages in all, want %d arrays within %d", len(c.spare), c.spareCap, maxCachedMessages/4, maxCachedMessages)
	}
	c = NewGroupCache()
	c.putArray(make([]raftpb.Message, 0, maxMsgsCapHint+1))
	if len(c.spare) != 0 {
		t.Fatalf("kept an array of %d messages, above the bound %d", maxMsgsCapHint+1, maxMsgsCapHint)
	}
	c.putArray([]raftpb.Message{{Type: raftpb.MsgApp, Entries: []raftpb.Entry{{Index: 1}}}, {}})
	s := c.takeArray(2)
	if len(s) != 0 || cap(s) < 2 || s[:2][0].Entries != nil {
		t.Fatalf("lent %d/%d messages %v, want an empty, cleared array for 2", len(s), cap(s), s[:cap(s)])
	}
	if s := c.takeArray(3); cap(s) < 3 {
		t.Fatalf("lent an array for %d messages, want 3", cap(s))
	}
}
