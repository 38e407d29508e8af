package kvnode

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tickraft/raft/raftpb"
)

// ErrRemoved is wrapped by the error that stops a node which applied its
// own removal from the configuration: it is no longer a member, and a
// removed node that stayed up would campaign or serve stale reads for
// nothing. The command exits with its own status for it.
var ErrRemoved = errors.New("kvnode: this node was removed from the cluster")

// noteOwnRemoval records the index of a conf change that removed this
// node, once the node has applied it and is in none of cs's sets.
func (n *Node) noteOwnRemoval(index uint64, changes []raftpb.ConfChangeSingle, cs raftpb.ConfState) {
	self := n.cfg.ID
	for _, set := range [][]uint64{cs.Voters, cs.Learners, cs.VotersOutgoing, cs.LearnersNext} {
		if slices.Contains(set, self) {
			return
		}
	}
	for _, c := range changes {
		if c.Type == raftpb.ConfChangeRemoveNode && c.NodeID == self {
			n.removedAt = index
			return
		}
	}
}

// removedErr returns the error that stops a node that applied its own
// removal, or was told by a peer that it was removed at an index above the
// one at which it was last added, or nil. A node that does not know when
// it was added (a joiner before its first snapshot) is never stopped by a
// peer's word, nor is one a peer merely does not know.
func (n *Node) removedErr() error {
	if n.removedAt != 0 {
		return fmt.Errorf("%w: it applied its removal at index %d", ErrRemoved, n.removedAt)
	}
	if told := n.removal.told.Load(); told != 0 && n.addedAt != 0 && told > n.addedAt {
		return fmt.Errorf("%w: a peer applied its removal at index %d; it was last added at or before index %d",
			ErrRemoved, told, n.addedAt)
	}
	return nil
}

// removal is what the transport's goroutines share with the loop about
// removed nodes.
type removal struct {
	mu sync.Mutex
	// removed maps the nodes whose removal this node applied since it
	// started to the index of the removal. It is not persisted: after a
	// restart only the removals replayed from the log are known.
	removed map[uint64]uint64
	// told is the highest index at which a peer said it removed this node.
	told atomic.Uint64
}

// removedAt is the transport's Config.RemovedAt.
func (r *removal) removedAt(id uint64) (uint64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	index, ok := r.removed[id]
	return index, ok
}

// toldRemoved is the transport's Config.ToldRemoved.
func (r *removal) toldRemoved(_, index uint64) {
	for {
		old := r.told.Load()
		if index <= old || r.told.CompareAndSwap(old, index) {
			return
		}
	}
}

// noteMembership records, for a configuration change applied at index
// (an entry or a snapshot), the removals of other nodes (so that they can
// be told) and the additions that undo them, and the index at which this
// node became a member, if it did.
func (n *Node) noteMembership(index uint64, before, after raftpb.ConfState) {
	in := func(cs raftpb.ConfState, id uint64) bool {
		return slices.Contains(cs.Voters, id) || slices.Contains(cs.Learners, id) ||
			slices.Contains(cs.VotersOutgoing, id) || slices.Contains(cs.LearnersNext, id)
	}
	if in(after, n.cfg.ID) && !in(before, n.cfg.ID) {
		n.addedAt = index
	}
	n.removal.mu.Lock()
	defer n.removal.mu.Unlock()
	if n.removal.removed == nil {
		n.removal.removed = map[uint64]uint64{}
	}
	for _, set := range [][]uint64{before.Voters, before.Learners, before.VotersOutgoing, before.LearnersNext} {
		for _, id := range set {
			if id != n.cfg.ID && !in(after, id) {
				n.removal.removed[id] = index
			}
		}
	}
	for _, set := range [][]uint64{after.Voters, after.Learners, after.VotersOutgoing, after.LearnersNext} {
		for _, id := range set {
			delete(n.removal.removed, id)
		}
	}
}
