package core

import (
	"errors"
	"fmt"

	"github.com/tickraft/raft/tracker"
)

// ErrStorageStalled refuses a campaign of a node whose storage has not
// acknowledged a write for Config.StorageStallTicks: a leader whose disk
// cannot make its entries durable cannot commit anything.
var ErrStorageStalled = errors.New("raft: storage stalled")

// storageWatch follows the node's own writes: whether one is handed to
// storage and not yet acknowledged, and since which tick no write has
// been acknowledged while one waits. Both fit one word (a process with
// many groups holds one per node): waitingSince is that tick plus one, so
// that tick 0 stays apart from 0, "no write waits".
type storageWatch struct {
	waitingSince uint64
}

// waiting reports whether a write waits for its acknowledgement.
func (w *storageWatch) waiting() bool { return w.waitingSince != 0 }

// waitedTicks returns how many ticks, at tick now, no write has been
// acknowledged while one waits.
func (w *storageWatch) waitedTicks(now uint64) uint64 { return now + 1 - w.waitingSince }

// writesOutstanding reports whether entries or a snapshot were handed to
// storage and are not yet acknowledged as durable.
func (r *Raft) writesOutstanding() bool {
	u := &r.raftLog.unstable
	return u.offsetInProgress > u.offset || u.snapshotInProgress
}

// noteStorage restarts the stall clock when storage made progress (a
// write acknowledged) or a wait begins, and stops it when nothing waits.
func (r *Raft) noteStorage(progress bool) {
	w := &r.storage
	switch {
	case !r.writesOutstanding():
		w.waitingSince = 0
	case progress || !w.waiting():
		w.waitingSince = r.ticks + 1
	}
}

// storageStalled reports whether a write has waited StorageStallTicks
// with no acknowledgement.
func (r *Raft) storageStalled() bool {
	w := &r.storage
	stall := r.settings.stallTicks
	return stall > 0 && w.waiting() && w.waitedTicks(r.ticks) >= stall
}

// checkStorageStall is the leader's rule for its own disk: a leader whose
// storage has acknowledged nothing for StorageStallTicks while a write
// waits can commit nothing, yet its heartbeats keep the followers from
// electing another. It gives up its lease and hands leadership to a
// follower that holds its last index, or steps down if none does, or if
// a handover already ended without a new leader (the simulator found a
// leader handing over, an election timeout apart, forever to a follower
// that could not stand: it was recovering from a lost log). The
// followers never judge the leader's disk themselves (that would void
// the lease's promise); only the stalled leader acts.
func (r *Raft) checkStorageStall() {
	if !r.storageStalled() {
		return
	}
	// Either way the lease ends: no lease holds while a transfer runs or
	// after MsgTimeoutNow, and a follower has none.
	if r.leader.transferee != None {
		return // a handover is under way
	}
	if target := r.caughtUpFollower(); target != None && r.leader.tryStallHandover() {
		r.log(LevelWarn, "storage stalled: handing leadership over", peerAttr(target),
			Attr{"stalled_ticks", r.storage.waitedTicks(r.ticks)})
		r.leader.startTransfer(target)
		r.clock.restartElection()
		r.maybeFinishTransfer(target, r.trk.Progress(target))
		return
	}
	r.log(LevelWarn, "storage stalled and no follower holds the last index or took over: stepping down",
		Attr{"stalled_ticks", r.storage.waitedTicks(r.ticks)})
	r.becomeFollower(r.term, None)
}

// caughtUpFollower returns the voter with the lowest ID whose log holds
// the leader's last index, or None.
func (r *Raft) caughtUpFollower() uint64 {
	last := r.raftLog.lastIndex()
	target := None
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		if target == None && id != r.id && !pr.IsLearner && pr.Match == last {
			target = id
		}
	})
	return target
}

// storageStallError refuses a campaign while the node's storage stalls.
func (r *Raft) storageStallError() error {
	if r.storageStalled() {
		return fmt.Errorf("%w: no write acknowledged for %d ticks", ErrStorageStalled, r.storage.waitedTicks(r.ticks))
	}
	return nil
}
