package raft

import (
	"fmt"
)

// This file holds the schedule cluster's faults: crashes (also in the
// middle of a Ready), restarts and compactions.

// crash stops nd. If nd has a Ready, it is taken and cut short after
// cut steps of its work: Messages leave first when send (they may go
// before the write), then the records of the write one by one
// (snapshot, entries, hard state); a cut past the whole write also sends
// MessagesAfterPersist and applies the committed entries, but Advance is
// never called. Everything the RawNode held is lost.
func (c *scheduleCluster) crash(nd *scheduleNode, cut int, send bool) string {
	what := "idle"
	c.stats.Crashes++
	if nd.rn.HasReady() {
		c.stats.CrashesInReady++
		rd := nd.rn.Ready()
		c.afterInput(nd, "Ready")
		whole := len(rd.Entries) + 2
		cut %= whole + 2
		rd.Snapshot = c.opts.Chunks.assemble(nd, rd.Snapshot)
		if send {
			c.send(rd.LocalMessages) // lost with the worker's queue
			c.send(rd.Messages)
		}
		c.persist(nd, &rd, min(cut, whole))
		if cut > whole {
			c.send(rd.MessagesAfterPersist)
			c.apply(nd, &rd)
		}
		if c.opts.OnReady != nil {
			c.opts.OnReady(nd, &rd)
		}
		what = fmt.Sprintf("in Ready{%s }: sent Messages=%t, persisted %d of %d records, applied=%t",
			describeReady(&rd), send, min(cut, whole), whole, cut > whole)
	}
	if c.opts.Async != nil {
		c.opts.Async.crash(nd)
	}
	c.opts.Chunks.crash(nd)
	nd.rn, nd.pending = nil, nil
	return what
}

// restart starts a crashed node again from its storage; its state machine
// restarts from the storage's snapshot.
func (c *scheduleCluster) restart(nd *scheduleNode) {
	hs, _, err := nd.st.InitialState()
	if err != nil {
		c.fail("node %d: %v", nd.id, err)
	}
	snap, _ := nd.st.Snapshot()
	if err := nd.sm.restore(snap.Metadata.Index, snap.Data); err != nil {
		c.fail("node %d: its own snapshot: %v", nd.id, err)
	}
	nd.confs = []confAt{{snap.Metadata.Index, snap.Metadata.ConfState}}
	c.history.Restart(nd.id, hs, snap.Metadata.Index)
	for _, o := range c.up() {
		nd.ticks = max(nd.ticks, o.ticks)
	}
	c.start(nd, snap.Metadata.Index)
}

// compact makes nd snapshot its state machine at an index above its
// storage's snapshot and at or below its applied index, chosen by pick,
// and discards its log up to there. It reports the index, or 0 when there
// is nothing to compact.
func (c *scheduleCluster) compact(nd *scheduleNode, pick int) uint64 {
	snap, _ := nd.st.Snapshot()
	lo, applied := snap.Metadata.Index, nd.sm.applied()
	if applied <= lo {
		return 0
	}
	i := lo + 1 + uint64(pick)%(applied-lo)
	if k := c.opts.Chunks.interval(); k > 0 {
		// Every member snapshots at the same indexes.
		if i -= i % k; i <= lo {
			return 0
		}
	}
	cs := nd.confAtIndex(i)
	if _, err := nd.st.CreateSnapshot(i, &cs, nd.sm.snapshotData(i)); err != nil {
		c.fail("node %d cannot snapshot at %d (applied %d): %v", nd.id, i, applied, err)
	}
	if err := nd.st.Compact(i); err != nil {
		c.fail("node %d cannot compact at %d: %v", nd.id, i, err)
	}
	nd.writes++
	return i
}
