package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// TestHasReadyIsAPureQuery: HasReady changes nothing, however often it is
// called: a leader with appends and a read round waiting sends nothing
// and starts no round until Ready.
func TestHasReadyIsAPureQuery(t *testing.T) {
	c := electedCluster(t, 1)
	leader := c.nodes[1]
	if _, _, err := leader.Propose([]byte("x")); err != nil {
		t.Fatal(err)
	}
	must(t, leader.ReadIndex([]byte("r")))
	before := fingerprint(leader)
	pending := leader.readOnly.NeedsRound()
	for i := 0; i < 3; i++ {
		if !leader.HasReady() {
			t.Fatal("HasReady is false with an append and a read waiting")
		}
	}
	if after := fingerprint(leader); after != before || leader.readOnly.NeedsRound() != pending || len(readStatesOf(leader)) != 0 {
		t.Fatalf("HasReady changed the node:\nbefore %s\nafter  %s", before, after)
	}
	rd := leader.Ready()
	if len(rd.Messages) == 0 {
		t.Fatal("Ready sent no appends or heartbeats")
	}
}

// TestHasReadyIsFalseWhenEveryFollowerIsPaused: pending appends that
// would send nothing (every follower's inflight window is full and it
// holds the commit index it can be told) make no Ready.
func TestHasReadyIsFalseWhenEveryFollowerIsPaused(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.MaxInflightMsgs = 1 })
	leader := c.nodes[1]
	for i := 0; i < 2; i++ {
		if _, _, err := leader.Propose([]byte("x")); err != nil {
			t.Fatal(err)
		}
		c.drain(1) // persisted; the appends are lost in the network
	}
	// The first proposal's append fills each window; the second waits.
	leader.appendsPending = true // as an acknowledgement that frees nothing leaves it
	if leader.HasReady() {
		t.Fatalf("HasReady with every follower's window full: %s", fingerprint(leader))
	}
	leader.trk.Progress(2).Inflights.FreeLE(leader.raftLog.lastIndex())
	if !leader.HasReady() {
		t.Fatal("HasReady is false with a follower's window open and an entry to send")
	}
}

// TestAReadyWithoutMessagesKeepsTheEarlierOnesArray: the application may
// call Ready more than once before Advance. A Ready that hands out no
// messages must not make the array of an earlier Ready's messages spare:
// the next message would overwrite one the application has yet to send.
func TestAReadyWithoutMessagesKeepsTheEarlierOnesArray(t *testing.T) {
	c := electedCluster(t, 2)
	r := c.nodes[1]
	for i := 0; i < 3; i++ { // busy: the node keeps an array for reuse
		r.bcastHeartbeat()
		r.Ready()
		r.Advance()
	}
	r.bcastHeartbeat()
	rd1 := r.Ready()
	if len(rd1.Messages) == 0 {
		t.Fatal("the heartbeats were not handed out")
	}
	want := append([]raftpb.Message(nil), rd1.Messages...)
	if rd2 := r.Ready(); len(rd2.Messages) != 0 {
		t.Fatalf("a second Ready handed out %v", rd2.Messages)
	}
	if _, _, err := r.Propose([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if rd3 := r.Ready(); len(rd3.Messages) == 0 { // the appends: other messages
		t.Fatal("the appends were not handed out")
	}
	for i := range want {
		if rd1.Messages[i].Type != want[i].Type || rd1.Messages[i].To != want[i].To || string(rd1.Messages[i].Context) != string(want[i].Context) {
			t.Fatalf("message %d of the first Ready changed before Advance: %v, was %v", i, rd1.Messages[i], want[i])
		}
	}
}

// TestAReadyWithMessagesHandsOutTheWorkBesideThem: a Ready whose node
// has messages queued is built without the full computation only when
// they are all it holds (readyHoldsOnlyMessages). Each case queues a
// heartbeat (or its answer) and one other kind of work on an idle group,
// alone, and the Ready must hand that work out too.
func TestAReadyWithMessagesHandsOutTheWorkBesideThem(t *testing.T) {
	cases := []struct {
		name string
		// opt adjusts the nodes' Configs (nil: the defaults).
		opt func(*Config)
		// id is the node whose Ready is taken; work queues the work.
		id   uint64
		work func(t *testing.T, c *testCluster, r *Raft)
		// handed reports whether rd (and the node after it) shows the work.
		handed func(r *Raft, rd *Ready) bool
	}{{
		name: "an acknowledgement waiting for durability",
		id:   2,
		work: func(t *testing.T, c *testCluster, r *Raft) {
			r.send(&raftpb.Message{To: 1, Type: raftpb.MsgAppResp, Index: r.raftLog.lastIndex()})
		},
		handed: func(r *Raft, rd *Ready) bool { return len(rd.MessagesAfterPersist) == 1 },
	}, {
		name: "work for the snapshot worker",
		id:   2,
		work: func(t *testing.T, c *testCluster, r *Raft) {
			r.queueLocal(raftpb.Message{To: LocalSnapshotThread, From: 2, Type: raftpb.MsgSnapChunkReq})
		},
		handed: func(r *Raft, rd *Ready) bool { return len(rd.LocalMessages) == 1 },
	}, {
		name: "appends to a follower that fell back to probing",
		id:   1,
		work: func(t *testing.T, c *testCluster, r *Raft) {
			if _, _, err := r.Propose([]byte("lost")); err != nil {
				t.Fatal(err)
			}
			c.drain(1) // persisted; its appends are lost
			r.trk.Progress(2).BecomeProbe()
			r.appendsPending = true // as a rejection leaves it
		},
		handed: func(r *Raft, rd *Ready) bool { return hasMessage(rd.Messages, raftpb.MsgApp, 2) },
	}, {
		name: "a read round to start",
		id:   1,
		work: func(t *testing.T, c *testCluster, r *Raft) { must(t, r.ReadIndex([]byte("r"))) },
		handed: func(r *Raft, rd *Ready) bool {
			return !r.readOnly.NeedsRound() && len(rd.Messages) == 4 // two rounds of heartbeats
		},
	}, {
		name: "a commit index learned from the heartbeat",
		id:   2,
		work: func(t *testing.T, c *testCluster, r *Raft) {
			leader := c.nodes[1]
			if _, _, err := leader.Propose([]byte("x")); err != nil {
				t.Fatal(err)
			}
			for _, m := range c.drain(1) {
				if m.Type == raftpb.MsgApp && m.To == 2 {
					c.stepChecked(m)
				}
			}
			for _, m := range c.drain(2) {
				c.stepChecked(m) // its acknowledgement: the leader commits
			}
			c.drain(1) // the appends telling the commit index are lost
			leader.Tick()
			for _, m := range c.drain(1) {
				if m.Type == raftpb.MsgHeartbeat && m.To == 2 {
					c.stepChecked(m) // the follower learns the commit index
				}
			}
		},
		handed: func(r *Raft, rd *Ready) bool {
			return rd.HardState.Commit == r.raftLog.committed && len(rd.CommittedEntries) == 1
		},
	}, {
		name: "a role change alone (the leader forgotten)",
		id:   2,
		work: func(t *testing.T, c *testCluster, r *Raft) { must(t, r.ForgetLeader()) },
		handed: func(r *Raft, rd *Ready) bool {
			return rd.SoftState != nil && rd.SoftState.Lead == None && rd.HardState.IsEmpty()
		},
	}, {
		name: "a hard state alone (one storage must be told again)",
		id:   2,
		work: func(t *testing.T, c *testCluster, r *Raft) { r.ready.owePersistedChange(raftpb.HardState{}) },
		handed: func(r *Raft, rd *Ready) bool {
			return rd.HardState == r.hardState() && rd.SoftState == nil && len(rd.CommittedEntries) == 0
		},
	}, {
		name: "committed entries alone (the apply budget held them back)",
		opt:  func(cfg *Config) { cfg.MaxCommittedSizePerReady = 1 },
		id:   2,
		work: func(t *testing.T, c *testCluster, r *Raft) {
			leader := c.nodes[1]
			for _, data := range []string{"x", "y"} {
				if _, _, err := leader.Propose([]byte(data)); err != nil {
					t.Fatal(err)
				}
			}
			toNode2 := func() {
				for _, m := range c.drain(1) {
					if m.Type == raftpb.MsgApp && m.To == 2 {
						c.stepChecked(m)
					}
				}
			}
			toNode2() // the entries
			for _, m := range c.drain(2) {
				c.stepChecked(m) // their acknowledgement: the leader commits
			}
			toNode2() // the commit index
			// One Ready hands out the commit and, the budget spent, one of
			// the two entries; the other waits for the next Ready.
			rd := r.Ready()
			must(t, c.st[2].SetHardState(rd.HardState))
			if len(rd.CommittedEntries) != 1 || rd.CommittedEntries[0].Index+1 != r.raftLog.committed {
				t.Fatalf("the case is not set up: %d committed entries handed out, commit %d", len(rd.CommittedEntries), r.raftLog.committed)
			}
			r.Advance()
		},
		handed: func(r *Raft, rd *Ready) bool {
			return len(rd.CommittedEntries) == 1 && rd.HardState.IsEmpty() && rd.SoftState == nil
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := electedClusterWith(t, 1, tc.opt)
			r := c.nodes[tc.id]
			tc.work(t, c, r)
			if r.state == StateLeader {
				r.Tick() // heartbeats
			} else if len(r.out.msgs) == 0 {
				r.send(&raftpb.Message{To: 1, Type: raftpb.MsgHeartbeatResp}) // an answer
			}
			if len(r.out.msgs) == 0 {
				t.Fatal("no message queued: the case tests too little")
			}
			rd := r.Ready()
			if !tc.handed(r, &rd) {
				t.Fatalf("the Ready beside %d messages lacks the work: %d after persist, %d local, %d entries, %d committed, hard %v",
					len(rd.Messages), len(rd.MessagesAfterPersist), len(rd.LocalMessages), len(rd.Entries), len(rd.CommittedEntries), rd.HardState)
			}
		})
	}
}

// hasMessage reports whether msgs holds a message of type typ to to.
func hasMessage(msgs []raftpb.Message, typ raftpb.MessageType, to uint64) bool {
	for _, m := range msgs {
		if m.Type == typ && m.To == to {
			return true
		}
	}
	return false
}
