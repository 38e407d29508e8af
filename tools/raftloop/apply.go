package raftloop

import (
	"fmt"
	"slices"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// restore replaces the state machine's state with snap's, unless it is
// empty: a snapshot is applied before the committed entries after it.
func (l *Loop) restore(snap raftpb.Snapshot) error {
	if snap.IsEmpty() {
		return nil
	}
	if err := l.cfg.StateMachine.Restore(snap); err != nil {
		return err
	}
	l.applied = snap.Metadata.Index
	return nil
}

// apply applies committed entries in order, handing each conf change to
// the node before the state machine sees it. A committed entry that does
// not decode stops the loop: every member would fail on it alike.
func (l *Loop) apply(ents []raftpb.Entry) error {
	for i := range ents {
		e := &ents[i]
		if e.IsConfChange() {
			if err := l.applyConfEntry(e); err != nil {
				return err
			}
		} else if err := l.cfg.StateMachine.Apply(*e, ConfApplied{}); err != nil {
			return err
		}
		l.applied = e.Index
	}
	if len(ents) > 0 && l.cfg.OnApplied != nil {
		l.cfg.OnApplied(ents)
	}
	return nil
}

// applyConfEntry applies the conf change entry e: the node first, then
// the state machine, told what came of it.
func (l *Loop) applyConfEntry(e *raftpb.Entry) error {
	conf, err := l.applyConfChange(*e)
	if err != nil {
		return err
	}
	return l.cfg.StateMachine.Apply(*e, conf)
}

// applyConfChange hands the conf change e carries, if any, to the node:
// it takes effect when applied (thesis §4.1).
func (l *Loop) applyConfChange(e raftpb.Entry) (ConfApplied, error) {
	cc, err := e.ConfChange()
	if err != nil {
		return ConfApplied{}, fmt.Errorf("raftloop: committed entry %d/%d: %w", e.Term, e.Index, err)
	}
	if cc == nil {
		return ConfApplied{}, nil
	}
	cs, err := l.rn.ApplyConfChange(cc)
	return ConfApplied{Change: cc, State: cs, Err: err}, nil
}

// release queues the reads a Ready released and hands Config.OnRead every
// queued read the applied state now covers, and every failed one (thesis
// §6.4: a read is served once the state machine reaches its index).
func (l *Loop) release(reads []raft.ReadState) {
	if len(reads) == 0 && len(l.peek().reads) == 0 {
		return
	}
	l.qs().reads = append(l.qs().reads, reads...)
	l.qs().reads = slices.DeleteFunc(l.qs().reads, func(rs raft.ReadState) bool {
		if rs.Err == nil && rs.Index > l.applied {
			return false
		}
		if l.cfg.OnRead != nil {
			l.cfg.OnRead(rs)
		}
		return true
	})
}
