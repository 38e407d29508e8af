package wal

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/tickraft/raft/raftpb"
)

// This file holds the dropping of one group from a shared log: the
// tombstone that keeps the group's term and vote once its state is gone,
// its record, and the check that a re-created group never goes below it.

// ErrStaleHardState is matched by the error of a Drop, or of a Save of a
// group dropped before, whose hard state is older than what the log keeps
// of the group: a term below the group's tombstone (or, for Drop, below
// its last hard state), or another vote in the same term. Such a write
// could let a replica vote twice in a term (§5.2), and nothing is written.
var ErrStaleHardState = errors.New("wal: hard state older than the group's tombstone")

// Tombstone is what a shared log keeps of a group it dropped
// (SharedLog.Drop): the term and vote the group's replica had, which a
// replica of the group with the same ID must start from if it is ever
// added back, so that it never votes twice in a term.
type Tombstone struct {
	// Group is the dropped group's ID.
	Group uint64
	// HardState holds the group's term and vote; its Commit is zero.
	HardState raftpb.HardState
}

// dropRestated is the flag of a drop record that restates a tombstone in
// a segment head: it leaves the group's state as it is.
const dropRestated = 1

// appendDrop appends the payload of a drop record (after its stamp).
func appendDrop(b []byte, hs raftpb.HardState, restated bool) []byte {
	var flags byte
	if restated {
		flags = dropRestated
	}
	return hs.AppendMarshal(append(b, flags))
}

// decodeDrop reads the payload of a drop record.
func decodeDrop(payload []byte) (hs raftpb.HardState, restated bool, err error) {
	if len(payload) == 0 || payload[0]&^dropRestated != 0 {
		return hs, false, fmt.Errorf("bad drop record flags")
	}
	if err := hs.Unmarshal(payload[1:]); err != nil {
		return hs, false, err
	}
	if hs.Commit != 0 {
		return hs, false, fmt.Errorf("a tombstone with a commit index")
	}
	return hs, payload[0] == dropRestated, nil
}

// tombstoneOf returns the term and vote of hs: what a tombstone keeps.
func tombstoneOf(hs raftpb.HardState) raftpb.HardState {
	return raftpb.HardState{Term: hs.Term, Vote: hs.Vote}
}

// notBelow reports whether hard state hs may follow floor: a later term,
// or the same term with no vote in floor or the same vote (§5.2: one vote
// per term).
func notBelow(hs, floor raftpb.HardState) bool {
	return hs.Term > floor.Term || hs.Term == floor.Term && (floor.Vote == 0 || hs.Vote == floor.Vote)
}

// Drop records, durably (written and synced before it returns), that the
// process dropped group: its replica was removed from the group's
// configuration and its state is deleted, but for the term and vote of hs,
// kept as the group's tombstone (hs.Commit is not kept). From then on the
// group needs no segment (a segment goes once no live group needs it;
// Drop deletes those it frees), OpenShared reports it in
// SharedReplay.Dropped instead of Groups, and every later segment head
// restates the tombstone, so that it outlives the segment that holds the
// Drop. A later Save or SaveSnapshot of the group starts it afresh, from
// an empty log (a replica added back under the same ID); a hard state it
// saves must not be below the tombstone (ErrStaleHardState).
//
// Drop refuses, with ErrStaleHardState and writing nothing, a hard state
// below the group's last saved one or below its tombstone. Dropping a
// group the log never held records a tombstone all the same; dropping a
// group that is dropped already with the same term and vote writes
// nothing and returns nil, and with a later term or vote records that one.
func (l *SharedLog) Drop(group uint64, hs raftpb.HardState) error {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	return l.w.drop(group, tombstoneOf(hs))
}

// Tombstone returns the tombstone of group, and true, when the group is
// dropped (SharedLog.Drop) and has not been saved again since; otherwise
// false.
func (l *SharedLog) Tombstone(group uint64) (raftpb.HardState, bool) {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	return l.w.tombstone(group)
}

// dropped returns the dropped groups that were not re-created, with their
// tombstones, sorted by group.
func (l *SharedLog) dropped() []Tombstone {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	var out []Tombstone
	for id := range l.w.tombs {
		if hs, ok := l.w.tombstone(id); ok {
			out = append(out, Tombstone{Group: id, HardState: hs})
		}
	}
	slices.SortFunc(out, func(a, b Tombstone) int { return cmp.Compare(a.Group, b.Group) })
	return out
}

// tombstone returns the tombstone of a dropped group that was not
// re-created. w.mu is held.
func (w *WAL) tombstone(group uint64) (raftpb.HardState, bool) {
	hs, ok := w.tombs[group]
	if !ok || w.groups[group] != nil {
		return raftpb.HardState{}, false
	}
	return hs, true
}

// drop writes and syncs group's tombstone, forgets the group's state and
// deletes the segments no live group needs any more. w.mu is held.
func (w *WAL) drop(group uint64, tomb raftpb.HardState) error {
	if w.err != nil {
		return w.err
	}
	if err := w.checkDrop(group, tomb); err != nil {
		return err
	}
	if old, ok := w.tombstone(group); ok && old == tomb {
		return nil // dropped already, and durably: heads restate it
	}
	encode := func() ([]byte, error) {
		return appendRecord(w.buf[:0], recDrop, func(b []byte) []byte {
			return appendDrop(appendStamp(b, stamp{group: group, synced: w.synced}), tomb, false)
		})
	}
	buf, _ := encode()
	if w.size+int64(len(buf))+sealReserve > w.alloc {
		if err := w.rollover(int64(len(buf))); err != nil {
			return err
		}
		buf, _ = encode() // the stamp names the new segment's synced length
	}
	w.buf = buf
	if err := w.write(buf, true); err != nil {
		return err
	}
	w.forget(group, tomb)
	return w.deleteUnneeded(group, 0)
}

// checkDrop refuses a tombstone below the group's last hard state or its
// tombstone.
func (w *WAL) checkDrop(group uint64, tomb raftpb.HardState) error {
	if g := w.groups[group]; g != nil && !notBelow(tomb, g.hs) {
		return fmt.Errorf("%w: group %d: drop with %v below its hard state %v", ErrStaleHardState, group, tomb, g.hs)
	}
	if old, ok := w.tombs[group]; ok && !notBelow(tomb, old) {
		return fmt.Errorf("%w: group %d: drop with %v below its tombstone %v", ErrStaleHardState, group, tomb, old)
	}
	return nil
}

// forget makes group a dropped group with tombstone tomb: its state goes,
// and no segment holds a record it needs (its first index in each is
// forgotten, as if it had never been written there).
func (w *WAL) forget(group uint64, tomb raftpb.HardState) {
	delete(w.groups, group)
	w.tombs[group] = tomb
	for i := range w.segs {
		delete(w.segs[i].firsts, group)
	}
}

// checkTombstone refuses a hard state of a group with a tombstone that
// lies below it: a replica added back under the same ID must start from
// the term and vote it had.
func (w *WAL) checkTombstone(u *Update) error {
	tomb, ok := w.tombs[u.Group]
	if !ok || u.HardState.IsEmpty() || notBelow(u.HardState, tomb) {
		return nil
	}
	return fmt.Errorf("%w: hard state %v below the tombstone %v", ErrStaleHardState, u.HardState, tomb)
}

// headIDs returns the groups a segment head restates, live or dropped, in
// increasing order, so that a head does not depend on map iteration.
func (w *WAL) headIDs() []uint64 {
	ids := w.groupIDs()
	for id := range w.tombs {
		if w.groups[id] == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// appendTombstone appends, to a segment head, the restated tombstone of
// group id when it has one.
func (w *WAL) appendTombstone(head []byte, id uint64) []byte {
	tomb, ok := w.tombs[id]
	if !ok {
		return head
	}
	head, _ = appendRecord(head, recDrop, func(b []byte) []byte {
		return appendDrop(appendStamp(b, stamp{group: id}), tomb, true)
	})
	return head
}

// Dropped returns the groups the log held as dropped (SharedLog.Drop) and
// not saved since, with their tombstones, sorted by group. Such a group is
// not in Groups; Group returns its tombstone's term and vote as its hard
// state.
func (r *SharedReplay) Dropped() []Tombstone {
	var out []Tombstone
	for id, hs := range r.tombs {
		if r.Groups[id] == nil {
			out = append(out, Tombstone{Group: id, HardState: hs})
		}
	}
	slices.SortFunc(out, func(a, b Tombstone) int { return cmp.Compare(a.Group, b.Group) })
	return out
}

// drop folds a drop record of group into the replay: a tombstone, and,
// unless restated in a head, the end of the group's state; the records of
// it read so far are needed no more (segs is every segment up to the
// current one).
func (rs *replaySet) drop(group uint64, hs raftpb.HardState, restated bool, segs []segment) {
	rs.tombs[group] = hs
	if restated {
		return
	}
	delete(rs.groups, group)
	for i := range segs {
		delete(segs[i].firsts, group)
	}
}
