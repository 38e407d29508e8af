package raft

import (
	"github.com/tickraft/raft/raftpb"
)

// This file holds the application side of the schedule cluster: applying
// snapshots and committed entries, conf changes, and acknowledging
// proposals.

// apply applies rd's snapshot and committed entries to nd's state machine,
// records them in the History and acknowledges the proposals of nd they
// complete.
func (c *scheduleCluster) apply(nd *scheduleNode, rd *Ready) {
	if s := rd.Snapshot; !s.IsEmpty() {
		if err := nd.sm.restore(s.Metadata.Index, s.Data); err != nil {
			c.fail("node %d: snapshot %d/%d: %v", nd.id, s.Metadata.Term, s.Metadata.Index, err)
		}
		c.history.ApplySnapshot(nd.id, s.Metadata)
		nd.confs = []confAt{{s.Metadata.Index, s.Metadata.ConfState}}
		c.stats.SnapshotsApplied++
		for i := range nd.pending {
			if i <= s.Metadata.Index {
				delete(nd.pending, i) // its fate is unknown to this node
			}
		}
	}
	c.applyEntries(nd, rd.CommittedEntries)
}

// applyEntries applies committed entries to nd's state machine, taking
// each conf change with ApplyConfChange, records them in the History and
// acknowledges the proposals of nd they complete.
func (c *scheduleCluster) applyEntries(nd *scheduleNode, ents []raftpb.Entry) {
	for _, e := range ents {
		if err := nd.sm.apply(e); err != nil {
			c.fail("node %d: %v", nd.id, err)
		}
		if e.IsConfChange() {
			c.applyConfChange(nd, e)
		}
	}
	c.history.Apply(nd.id, ents)
	c.acknowledge(nd, ents)
	if c.opts.OnApply != nil {
		for _, e := range ents {
			c.opts.OnApply(nd, e)
		}
	}
}

// applyConfChange hands the conf change e carries to nd, which is
// running, and records the configuration it returns. A change the
// membership math refuses on apply changes nothing: every node refuses
// it alike, since they apply the same entries to the same configuration.
// A change the schedule proposed may be refused (it was drawn against a
// configuration that changed since); a leave the leader appended on its
// own (thesis §4.3, joint consensus left automatically) must never be:
// the leader appends one only while joint and with no conf change
// pending, so a refused one is a second leave (see isAutoLeave).
func (c *scheduleCluster) applyConfChange(nd *scheduleNode, e raftpb.Entry) {
	cc, err := e.ConfChange()
	if err != nil {
		c.fail("node %d: conf change at %d/%d: %v", nd.id, e.Term, e.Index, err)
	}
	cs, err := nd.rn.ApplyConfChange(cc)
	c.afterInput(nd, "ApplyConfChange")
	if err != nil && isAutoLeave(e, cc) {
		c.fail("node %d refused the leave of joint consensus its leader appended on its own at %d/%d (in %v): %v",
			nd.id, e.Term, e.Index, nd.conf(), err)
	}
	if err != nil {
		c.stats.ConfChangesRefused++
		return
	}
	c.stats.ConfChangesApplied++
	nd.confs = append(nd.confs, confAt{e.Index, cs})
	for _, o := range c.nodes {
		if !isMember(cs, o.id) {
			c.oracle.removed(nd.id, o.id)
		}
	}
}

// acknowledge tells the clients of nd's proposals among ents that they
// committed: those applied with the term Propose returned. A proposal
// applied with another term was overwritten, and its client learns that.
func (c *scheduleCluster) acknowledge(nd *scheduleNode, ents []raftpb.Entry) {
	for _, e := range ents {
		p, ok := nd.pending[e.Index]
		if !ok {
			continue
		}
		delete(nd.pending, e.Index)
		if p.Term == e.Term {
			c.history.Acknowledge(p)
			c.stats.Acknowledged++
			if c.opts.OnAcknowledge != nil {
				c.opts.OnAcknowledge(p)
			}
		}
	}
}
