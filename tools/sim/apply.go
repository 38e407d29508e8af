package sim

import (
	"bytes"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// applySnapshot replaces n's state machine with snap.
func (s *Sim) applySnapshot(n *node, snap raftpb.Snapshot) {
	if err := n.kv.restore(snap.Metadata.Index, snap.Data); err != nil {
		s.failf(ClassRefusal, "node %d: snapshot %d/%d: %v", n.id, snap.Metadata.Term, snap.Metadata.Index, err)
		return
	}
	n.conf = snap.Metadata.ConfState
	s.hist.ApplySnapshot(n.id, snap.Metadata)
	s.stats.SnapshotsApplied++
	s.sawAppliedDuringStall(snap.Metadata.Term)
	s.log.add(s.now, evApply, n.id, snap.Metadata.Index, snap.Metadata.Term, 1)
	if s.log.tracing() {
		s.log.printf(s.now, "apply %d: snapshot %v", n.id, snap)
	}
}

// applyEntry applies one committed entry to n's state machine, in
// order: a write to the registers, or a conf change the loop has handed
// to the node (conf says what came of it). The entry is checked against
// what other nodes applied at its index, and the writes acknowledged to
// the clients waiting on n. It reports false when the run must stop.
func (s *Sim) applyEntry(n *node, e raftpb.Entry, conf raftloop.ConfApplied) bool {
	if e.Index != n.kv.applied+1 {
		s.failf(ClassRefusal, "node %d: applied %d/%d right after index %d", n.id, e.Term, e.Index, n.kv.applied)
		return false
	}
	s.safety.applied(s, n, e)
	s.sawAppliedDuringStall(e.Term)
	switch {
	case conf.Change != nil:
		s.confChangeApplied(n, e, conf)
		n.kv.applied = e.Index
	case isWriteEntry(&e):
		s.applyWrite(n, e)
	default:
		n.kv.applied = e.Index
	}
	s.snapshotAtInterval(n, e.Index, e.Term)
	return true
}

// applyWrite applies one write entry.
func (s *Sim) applyWrite(n *node, e raftpb.Entry) {
	w, ok, err := decodeWrite(e.Data)
	if err != nil {
		s.failf(ClassRefusal, "node %d: entry %d/%d: %v", n.id, e.Term, e.Index, err)
		return
	}
	if !ok {
		n.kv.applied = e.Index
		return
	}
	if n.kv.applyWrite(e.Index, w) {
		s.clients.tookEffect(n, e, w)
	}
}

// confChangeApplied records what came of the conf change e carries,
// which the loop handed to n: the configuration it returned. A change the
// membership math refuses changes nothing, on every node alike.
func (s *Sim) confChangeApplied(n *node, e raftpb.Entry, conf raftloop.ConfApplied) {
	s.checkInvariants(n, "ApplyConfChange")
	cc, err := conf.Change, conf.Err
	if err != nil && !typedError(err) {
		s.failf(ClassUntyped, "node %d refused conf change %v at %d/%d with an untyped error: %v", n.id, cc, e.Term, e.Index, err)
		return
	}
	if err != nil {
		s.confChangeRefused(n, e, cc, err)
		return
	}
	s.stats.ConfChangesApplied++
	n.conf = conf.State
	n.restartStreams(0)
}

// onSoftState notes a change of n's role.
func (s *Sim) onSoftState(n *node, ss raft.SoftState) {
	if ss.RaftState != raft.StateLeader {
		return
	}
	st := n.rn.BasicStatus()
	s.stats.Elections++
	s.safety.leader(s, n, st.Term)
	s.transferElected(n.id, st.Term)
}

// operatorContext marks the conf changes the simulated operator proposes,
// so that a conf change without it is one the leader generated itself.
var operatorContext = []byte("operator")

// confChangeRefused takes a conf change the membership math refused when
// n applied it. The operator's changes may be refused (with a typed error,
// on every node alike); one the leader generated itself, the automatic
// leave of a joint configuration, never should: the leader proposes it
// only once the joint configuration is applied and no other change is
// pending (thesis §4.3).
func (s *Sim) confChangeRefused(n *node, e raftpb.Entry, cc raftpb.ConfChangeI, err error) {
	if !bytes.Equal(cc.AsV2().Context, operatorContext) {
		s.failf(ClassLeaderConfChange, "node %d refused %v at %d/%d, which a leader generated itself: %v", n.id, cc, e.Term, e.Index, err)
		return
	}
	s.stats.ConfChangesRefused++
}
