package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// warnLines is a Logger that keeps the messages of the warnings it gets.
type warnLines struct{ msgs []string }

func (w *warnLines) Enabled(l Level) bool { return l >= LevelWarn }
func (w *warnLines) Log(l Level, msg string, _ []Attr) {
	if l >= LevelWarn {
		w.msgs = append(w.msgs, msg)
	}
}

// stabilizeThrough is stabilize with every message passed through pass
// first; a message pass returns false for is dropped.
func (c *testCluster) stabilizeThrough(pass func(raftpb.Message) bool) {
	c.t.Helper()
	for round := 0; round < 1000; round++ {
		var msgs []raftpb.Message
		for _, id := range c.up() {
			msgs = append(msgs, c.drain(id)...)
		}
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			if m.To == LocalSnapshotThread || c.nodes[m.To] == nil || !pass(m) {
				continue
			}
			c.stepChecked(m)
		}
	}
	c.t.Fatal("cluster never quiesced")
}

// TestALateAppendRejectionNeverLowersMatch: node 2 misses an append and
// rejects the next one; the leader repairs it, then gets that rejection
// again (the network duplicated it). Its hint lies below the Match the
// leader has learned since: it is stale, and is ignored as etcd raft
// ignores stale rejections (no probe, Match kept, nothing logged), not
// taken for a follower that lost entries.
func TestALateAppendRejectionNeverLowersMatch(t *testing.T) {
	logs := &warnLines{}
	c := electedClusterWith(t, 2, func(cfg *Config) {
		if cfg.ID == 1 {
			cfg.Logger = logs
		}
	})
	leader := c.nodes[1]
	_, _, err := leader.Propose([]byte("missed"))
	must(t, err)
	c.stabilizeThrough(func(m raftpb.Message) bool { return !(m.To == 2 && m.Type == raftpb.MsgApp) })
	_, _, err = leader.Propose([]byte("rejected"))
	must(t, err)
	var late []raftpb.Message
	c.stabilizeThrough(func(m raftpb.Message) bool {
		if m.From == 2 && m.Type == raftpb.MsgAppResp && m.Reject {
			late = append(late, m)
		}
		return true
	})
	last := leader.raftLog.lastIndex()
	pr := leader.trk.Progress(2)
	if len(late) != 1 || late[0].RejectHint >= last || pr.Match != last || pr.State != tracker.StateReplicate {
		t.Fatalf("setup: rejections %v, progress of 2 %s, want one rejection below %d and 2 repaired to it", late, pr, last)
	}
	before := pr.String()
	c.stepChecked(late[0])
	if got := leader.trk.Progress(2).String(); got != before {
		t.Fatalf("a duplicated rejection moved the progress of 2 from %s to %s", before, got)
	}
	for _, m := range c.drain(1) {
		if m.To == 2 && m.Type == raftpb.MsgApp {
			t.Fatalf("a duplicated rejection cost a probe: %v", m)
		}
	}
	if len(logs.msgs) != 0 {
		t.Fatalf("warnings after a duplicated rejection: %q", logs.msgs)
	}
}

// TestAFollowerThatLostItsLastEntryIsRepairedThroughItsHeartbeatAnswer:
// node 2 restarts over a log that lost its last entry (it had made it
// durable and acknowledged it, and its hard state's commit index does
// not reach it, so it boots). The leader's next heartbeat claims that
// entry; the follower's answer reports its short log, the leader lowers
// Match to what the follower holds and repairs it.
func TestAFollowerThatLostItsLastEntryIsRepairedThroughItsHeartbeatAnswer(t *testing.T) {
	c := electedCluster(t, 4)
	leader := c.nodes[1]
	last := leader.raftLog.lastIndex()
	r := restartWithoutLastEntry(t, c, 2, last)
	if pr := leader.trk.Progress(2); pr.Match != last {
		t.Fatalf("setup: progress of 2 %s, want match %d", pr, last)
	}

	leader.bcastHeartbeat()
	var reports int
	c.stabilizeThrough(func(m raftpb.Message) bool {
		if raftpb.IsShortLogReport(m) {
			reports++
			if m.From != 2 || m.Index != last || m.RejectHint != last-1 {
				t.Fatalf("report %v, want node 2 naming %d below the claimed %d", m, last-1, last)
			}
			c.stepChecked(m)
			if pr := leader.trk.Progress(2); pr.Match != last-1 || pr.State != tracker.StateProbe {
				t.Fatalf("progress of 2 after its report: %s, want match %d in probe", pr, last-1)
			}
			return false
		}
		return true
	})
	if reports != 1 {
		t.Fatalf("%d short-log reports, want 1", reports)
	}
	if got := r.raftLog.lastIndex(); got != last {
		t.Fatalf("node 2's log ends at %d after the repair, want %d", got, last)
	}
	if pr := leader.trk.Progress(2); pr.Match != last {
		t.Fatalf("progress of 2 after the repair: %s, want match %d", pr, last)
	}
}

// TestAShortLogReportWhoseLastEntryDivergesFallsBackToTheCommitIndex: node
// 2 restarts over a storage that lost an overwrite: where the leader's
// term begins it still holds an entry of the old term, and its commit
// index stops just before. Its short-log report names that entry; the
// leader holds another term there, so the entry does not match, and the
// leader lowers Match to node 2's commit index (carried in the report)
// and repairs it from there, instead of taking the stale entry for a
// matching one and rejecting every append that would repair it.
func TestAShortLogReportWhoseLastEntryDivergesFallsBackToTheCommitIndex(t *testing.T) {
	c := electedClusterWith(t, 3, func(cfg *Config) { cfg.DisableCheckQuorum = true })
	must(t, c.nodes[3].Campaign())
	c.stabilize()
	leader := c.nodes[3]
	if leader.state != StateLeader {
		t.Fatalf("setup: node 3 is %v, want leader", leader.state)
	}
	for i := 0; i < 3; i++ {
		_, _, err := leader.Propose([]byte("new term"))
		must(t, err)
	}
	c.stabilize()
	start, last := leader.leader.termStart, leader.raftLog.lastIndex()
	hs, _, _ := c.st[2].InitialState()
	kept, err := c.st[2].Entries(1, start, 1<<30)
	must(t, err)
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	must(t, st.Append(append(kept, raftpb.Entry{Index: start, Term: leader.term - 1, Data: []byte("overwritten")})))
	hs.Commit = start - 1
	must(t, st.SetHardState(hs))
	r, err := NewRaft(&Config{ID: 2, Storage: st, CheckContract: true, DisableCheckQuorum: true})
	must(t, err)
	c.nodes[2], c.st[2] = r, st

	leader.bcastHeartbeat()
	var reports int
	c.stabilizeThrough(func(m raftpb.Message) bool {
		if raftpb.IsShortLogReport(m) {
			reports++
			if m.Commit != start-1 {
				t.Fatalf("report %v carries commit %d, want node 2's %d", m, m.Commit, start-1)
			}
		}
		return true
	})
	if reports != 1 {
		t.Fatalf("%d short-log reports, want 1", reports)
	}
	if got, _ := r.raftLog.term(start); got != leader.term {
		t.Fatalf("node 2 holds term %d at %d after the repair, want the leader's %d", got, start, leader.term)
	}
	if pr := leader.trk.Progress(2); pr.Match != last || r.raftLog.lastIndex() != last {
		t.Fatalf("progress of 2 %s, node 2's last index %d, want both at %d", pr, r.raftLog.lastIndex(), last)
	}
}

// TestADuplicatedShortLogReportAfterTheRepairIsIgnored: node 2 lost its
// last entry, reports it, and is repaired at a later tick of the leader;
// then the network delivers its report again. The leader heard node 2
// acknowledge entries after the heartbeat that report answers, so the
// report is older than what the leader knows: it keeps Match and sends
// nothing, instead of sending node 2 back to its commit index.
func TestADuplicatedShortLogReportAfterTheRepairIsIgnored(t *testing.T) {
	c := electedCluster(t, 4)
	leader := c.nodes[1]
	last := leader.raftLog.lastIndex()
	restartWithoutLastEntry(t, c, 2, last)

	leader.bcastHeartbeat()
	var report []raftpb.Message
	c.stabilizeThrough(func(m raftpb.Message) bool {
		if raftpb.IsShortLogReport(m) && len(report) == 0 {
			report = append(report, m)
			c.stepChecked(m)
			leader.Tick() // the repair's acknowledgements arrive a tick later
			return false
		}
		return true
	})
	if len(report) != 1 {
		t.Fatalf("setup: %d short-log reports, want 1", len(report))
	}
	pr := leader.trk.Progress(2)
	if pr.Match != last || pr.State != tracker.StateReplicate {
		t.Fatalf("setup: progress of 2 after the repair %s, want match %d in replicate", pr, last)
	}
	before := pr.String()
	c.stepChecked(report[0])
	if got := leader.trk.Progress(2).String(); got != before {
		t.Fatalf("the duplicated report moved the progress of 2 from %s to %s", before, got)
	}
	for _, m := range c.drain(1) {
		if m.To == 2 && (m.Type == raftpb.MsgApp || m.Type == raftpb.MsgSnap) {
			t.Fatalf("the duplicated report cost a resend: %v", m)
		}
	}
}

// restartWithoutLastEntry restarts node id of c (a three-node cluster)
// over a copy of its storage that lost entry last, which the node had
// made durable and acknowledged; its hard state's commit index stops
// below, so that it boots.
func restartWithoutLastEntry(t *testing.T, c *testCluster, id, last uint64) *Raft {
	t.Helper()
	hs, _, _ := c.st[id].InitialState()
	kept, err := c.st[id].Entries(1, last, 1<<30)
	must(t, err)
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	must(t, st.Append(kept))
	hs.Commit = min(hs.Commit, last-1)
	must(t, st.SetHardState(hs))
	r, err := NewRaft(&Config{ID: id, Storage: st, CheckContract: true})
	must(t, err)
	c.nodes[id], c.st[id] = r, st
	return r
}
