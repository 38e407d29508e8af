package core

import (
	"errors"
	"os"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// TestStalledFollowerCannotGrowTheLeader: follower 3 stops answering while
// the leader takes proposals totalling far more than every bound (64 MiB of
// 1 KiB entries; 1 GiB with TICKRAFT_LONG=1, generated from one shared
// buffer, not stored). Throughout, the bytes the leader holds in flight to
// the stalled follower and in its uncommitted tail stay within the
// configured bounds, and the healthy majority keeps committing; when the
// follower returns it catches up through a snapshot.
func TestStalledFollowerCannotGrowTheLeader(t *testing.T) {
	const (
		entrySize        = 1 << 10
		maxInflightBytes = 256 << 10
		maxUncommitted   = 1 << 20
		maxMsg           = 64 << 10
		batch            = 64
	)
	total := uint64(64 << 20)
	if os.Getenv("TICKRAFT_LONG") != "" {
		total = 1 << 30
	}
	c := electedClusterWith(t, 0, func(cfg *Config) {
		cfg.MaxInflightBytes = maxInflightBytes
		cfg.MaxInflightMsgs = 64
		cfg.MaxUncommittedEntriesSize = maxUncommitted
		cfg.MaxSizePerMsg = maxMsg
	})
	leader, stalled := c.nodes[1], c.nodes[3]
	delete(c.nodes, 3) // every message to 3 is lost, and 3 says nothing
	payload := make([]byte, entrySize)
	var proposed, peakInflight, peakUncommitted uint64
	for proposed < total {
		for i := 0; i < batch; i++ {
			if _, _, err := leader.Propose(payload); err != nil {
				t.Fatalf("after %d bytes: %v", proposed, err)
			}
			proposed += entrySize
		}
		peakUncommitted = max(peakUncommitted, leader.uncommittedSize)
		c.stabilize()
		leader.bcastHeartbeat() // heartbeats go on; only 2 answers
		c.stabilize()
		peakInflight = max(peakInflight, leader.trk.Progress[3].Inflights.Bytes())
		peakUncommitted = max(peakUncommitted, leader.uncommittedSize)
		if peakInflight > maxInflightBytes || peakUncommitted > maxUncommitted {
			t.Fatalf("after %d bytes: %d bytes in flight to the stalled follower (bound %d), %d uncommitted (bound %d)",
				proposed, peakInflight, maxInflightBytes, peakUncommitted, maxUncommitted)
		}
		if leader.raftLog.committed != leader.raftLog.lastIndex() {
			t.Fatalf("the majority stopped committing at %d of %d", leader.raftLog.committed, leader.raftLog.lastIndex())
		}
		if proposed%(4<<20) == 0 { // the application compacts what it applied
			for _, id := range []uint64{1, 2} {
				applied := c.nodes[id].raftLog.applied
				cs := c.nodes[id].trk.ConfState()
				if _, err := c.st[id].CreateSnapshot(applied, &cs, nil); err != nil {
					t.Fatal(err)
				}
				must(t, c.st[id].Compact(applied))
			}
		}
	}
	t.Logf("proposed %d MiB; peak in flight to the stalled follower %d KiB (bound %d KiB); peak uncommitted %d KiB (bound %d KiB)",
		proposed>>20, peakInflight>>10, maxInflightBytes>>10, peakUncommitted>>10, maxUncommitted>>10)

	// The follower comes back and catches up.
	c.nodes[3] = stalled
	for i := 0; i < 5 && stalled.raftLog.applied < leader.raftLog.committed; i++ {
		leader.bcastHeartbeat()
		c.stabilize()
		if leader.trk.Progress[3].State == tracker.StateSnapshot {
			leader.ReportSnapshot(3, false)
		}
	}
	if stalled.raftLog.applied != leader.raftLog.committed {
		t.Fatalf("the returning follower applied %d, the leader committed %d", stalled.raftLog.applied, leader.raftLog.committed)
	}
}

func TestProposalsBeyondUncommittedBoundAreRefusedThenAcceptedAfterCommit(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  func(*Config)
	}{
		{"bytes", func(cfg *Config) { cfg.MaxUncommittedEntriesSize = 3 }},
		{"entries", func(cfg *Config) { cfg.MaxUncommittedEntries = 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := electedClusterWith(t, 0, tc.opt)
			leader := c.nodes[1]
			for i := 0; i < 3; i++ {
				if _, _, err := leader.Propose([]byte("x")); err != nil {
					t.Fatalf("proposal %d: %v", i, err)
				}
			}
			last := leader.raftLog.lastIndex()
			_, _, err := leader.Propose([]byte("x"))
			if !errors.Is(err, ErrUncommittedTailFull) || !errors.Is(err, ErrProposalDropped) {
				t.Fatalf("proposal beyond the bound = %v", err)
			}
			if leader.raftLog.lastIndex() != last {
				t.Fatal("a refused proposal reached the log")
			}
			c.stabilize()
			if _, _, err := leader.Propose([]byte("x")); err != nil {
				t.Fatalf("proposal after commit: %v", err)
			}
		})
	}
}

func TestCommittedEntriesAreHandedOutInBoundedChunks(t *testing.T) {
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.MaxCommittedEntriesPerReady = 2 })
	for i := 0; i < 5; i++ {
		if _, _, err := c.nodes[1].Propose([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	c.stabilize()
	f := c.nodes[2]
	f.Tick()
	if f.raftLog.applied != f.raftLog.committed {
		t.Fatalf("applied %d of %d", f.raftLog.applied, f.raftLog.committed)
	}
	// Re-run on a fresh follower to see the chunks.
	st := c.st[2]
	r, err := NewRaft(&Config{ID: 2, Storage: st, MaxCommittedEntriesPerReady: 2})
	must(t, err)
	for r.HasReady() {
		rd := r.Ready()
		if len(rd.CommittedEntries) > 2 {
			t.Fatalf("a Ready handed out %d committed entries, bound 2", len(rd.CommittedEntries))
		}
		r.Advance()
	}
	if r.raftLog.applied != r.raftLog.committed {
		t.Fatalf("restarted follower applied %d of %d", r.raftLog.applied, r.raftLog.committed)
	}
}

// TestProbeCarriesNoMoreThanMaxInflightBytes: Config.MaxInflightBytes bounds
// the payload in flight to a follower in every state, so the one append a
// leader probes with (StateProbe, after a rejection or an unreachable
// report) carries at most MaxInflightBytes (but always one entry), not
// MaxSizePerMsg. The simulator's wire oracle found probes of 1 MiB budget
// carrying several KiB to a follower whose bound was 1 KiB.
func TestProbeCarriesNoMoreThanMaxInflightBytes(t *testing.T) {
	const maxInflightBytes, entrySize = 1 << 10, 400
	c := electedClusterWith(t, 0, func(cfg *Config) { cfg.MaxInflightBytes = maxInflightBytes })
	leader := c.nodes[1]
	delete(c.nodes, 3) // 3 hears nothing
	for i := 0; i < 8; i++ {
		if _, _, err := leader.Propose(make([]byte, entrySize)); err != nil {
			t.Fatal(err)
		}
	}
	c.stabilize()
	pr := leader.trk.Progress[3]
	leader.ReportUnreachable(3) // back to probing from Match+1
	if pr.State != tracker.StateProbe {
		t.Fatalf("progress of 3 is %v, want StateProbe", pr.State)
	}
	leader.msgs = nil
	if !leader.maybeSendAppend(3, pr, false) {
		t.Fatal("the leader sent no probe")
	}
	var payload uint64
	for _, m := range leader.msgs {
		if m.Type == raftpb.MsgApp && m.To == 3 {
			payload += payloadSize(m.Entries)
			if len(m.Entries) == 0 {
				t.Fatalf("the probe %v carries no entry", m)
			}
		}
	}
	if payload > max(maxInflightBytes, entrySize) {
		t.Fatalf("the probe carries %d bytes, bound %d", payload, maxInflightBytes)
	}
}
