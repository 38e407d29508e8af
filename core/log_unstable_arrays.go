package core

import "github.com/tickraft/raft/raftpb"

// The arrays of the unstable tail, taken back once nobody may read them.
//
// In the synchronous loop a busy node would otherwise allocate a fresh
// array for every batch of entries it appends (a leader's proposals, a
// follower's received append, which it copies): an allocation of up to
// maxUnstableCapHint entries that each hold a pointer, and the collector
// cycles it brings, whose write barriers and marking were most of the
// leader's cost per entry (BENCHMARKS.md, "The hot path near the floor").
// The array is handed out (Ready.Entries, the Entries of the appends sent,
// CommittedEntries read from the recent entries), so the node takes it
// back only when the contract lets it: once every entry in it is durable
// and applied, at the Advance that acknowledged the last one, since a
// Ready's entry slices are valid until the next Advance. It is then
// cleared (a message still holding a slice of it, against the contract,
// now carries entries at index 0, which Step refuses) and kept as the
// next batch's array. In the asynchronous mode nothing is taken back: the
// storage workers keep what they are handed for as long as they like.
//
// The array waits in recent, the entries that last became stable: when a
// whole tail became stable at once (recentWhole), recent keeps the array's
// capacity, and once every entry in it is applied it becomes the spare
// (recentSpare: recent emptied, its array free).

// smallSpareEntries bounds the arrays dropped at the first tick they go
// unused rather than after ElectionTick: those of a proposal at a time
// (three allocations per entry otherwise, one per node) and of an
// election's empty entry, which every node of a group just elected holds
// until it ticks.
const smallSpareEntries = 8

// recentOf returns the recent entries for the stable prefix ents of the
// tail, whole reporting whether it is the whole tail: the array's
// capacity is kept when the array may be taken back, and cut otherwise.
func (u *unstable) recentOf(ents []raftpb.Entry, whole bool) []raftpb.Entry {
	u.recentWhole = whole && u.reuseArrays && cap(ents) <= maxUnstableCapHint
	u.recentSpare = false
	if u.recentWhole {
		return ents
	}
	return ents[:len(ents):len(ents)]
}

// releaseApplied takes back the recent array once every entry in it is
// applied (the caller checked), clearing it so that it keeps no payload
// reachable; any other recent entries are dropped.
func (u *unstable) releaseApplied() {
	switch {
	case u.recentSpare:
	case u.recentWhole && len(u.recent) > 0:
		clear(u.recent)
		u.recent = u.recent[:0]
		u.recentWhole, u.recentSpare, u.spareIdle = false, true, 0
	default:
		u.dropRecent()
	}
}

// dropRecent lets go of the recent entries, and of a spare array.
func (u *unstable) dropRecent() {
	u.recent = nil
	u.recentWhole, u.recentSpare = false, false
}

// newArray returns an empty array for at least want entries: the spare
// one if it is large enough, else a fresh one.
func (u *unstable) newArray(want int) []raftpb.Entry {
	if u.recentSpare && cap(u.recent) >= want {
		arr := u.recent
		u.dropRecent()
		return arr
	}
	return make([]raftpb.Entry, 0, want)
}

// arraysOnTick counts n ticks and drops a spare array unused for limit
// ticks or more (a small one at the first tick), so that a group gone
// idle does not keep one.
func (u *unstable) arraysOnTick(n, limit int) {
	if !u.recentSpare {
		return
	}
	if cap(u.recent) < smallSpareEntries {
		limit = 1
	}
	u.spareIdle = uint16(min(int(u.spareIdle)+n, limit))
	if int(u.spareIdle) >= limit {
		u.dropRecent()
	}
}

// takeBackArrays turns on taking back the tail's arrays: the synchronous
// loop only.
func (u *unstable) takeBackArrays() { u.reuseArrays = true }
