package core

import (
	"errors"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// A member added to a running group starts from an empty Storage: no
// configuration, no log. The group's first configuration is what its
// first members booted with (SetConfState, Bootstrap): storage state at
// index 0, in no entry. Caught up from entries, such a member would apply
// only the conf changes after that state and hold a configuration without
// the first members: added as a learner and then promoted, it would count
// itself as the only voter, elect itself alone and commit alone. So it
// takes no entries until a snapshot has given it a configuration, and the
// leader answers its refusal with a snapshot.

// errNoConfiguration is the cause of a snapshot sent to a follower that
// holds no configuration (maybeSendSnapshot).
var errNoConfiguration = errors.New("the follower holds no configuration")

// holdsNothing reports whether the node holds no configuration and no
// log: a member added with an empty Storage, waiting for its first
// snapshot.
func (r *Raft) holdsNothing() bool {
	return r.raftLog.lastIndex() == 0 && len(r.trk.Voters[0]) == 0 && len(r.trk.Voters[1]) == 0 &&
		len(r.trk.Learners) == 0 && len(r.trk.LearnersNext) == 0
}

// refuseEntriesWithoutConfiguration answers an append that starts the log
// (it follows index 0) on a node that holds nothing with a rejection of
// index 0, which no node holding a configuration ever sends (every log
// matches at index 0): the leader reads it as a request for a snapshot
// (catchUpWithSnapshot). prev is the index the append follows, from its
// sender. It reports whether it refused.
func (r *Raft) refuseEntriesWithoutConfiguration(from, prev uint64) bool {
	if prev != 0 || !r.holdsNothing() {
		return false
	}
	if r.logs(LevelDebug) {
		r.log(LevelDebug, "refusing entries before a snapshot gives this node a configuration", peerAttr(from))
	}
	r.send(&raftpb.Message{To: from, Type: raftpb.MsgAppResp, Index: 0, Reject: true})
	return true
}

// catchUpWithSnapshot answers a follower's rejection of index 0 (it holds
// no configuration; refuseEntriesWithoutConfiguration) with the storage's
// snapshot. Without one (nothing compacted yet) the follower waits, and
// the leader probes again at its next heartbeat answer: the application
// must take a snapshot (at or after the conf change that added the
// follower) for it to catch up. A refusal is current only while the
// leader probes the follower from index 1 (as MaybeDecrTo judges other
// rejections): a late or duplicated one, arriving once the follower
// installed a snapshot and moved on, is ignored, or the leader would send
// a snapshot below the follower's Match and wait for an acknowledgement
// that never counts (found in review).
func (r *Raft) catchUpWithSnapshot(to uint64, pr *tracker.Progress) {
	if pr.State != tracker.StateProbe || pr.Next != 1 {
		return // stale, or a snapshot is on its way
	}
	r.maybeSendSnapshot(to, pr, errNoConfiguration)
}
