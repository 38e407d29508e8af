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
		peakUncommitted = max(peakUncommitted, leader.leader.uncommitted.size)
		c.stabilize()
		leader.bcastHeartbeat() // heartbeats go on; only 2 answers
		c.stabilize()
		peakInflight = max(peakInflight, leader.trk.Progress(3).Inflights.Bytes())
		peakUncommitted = max(peakUncommitted, leader.leader.uncommitted.size)
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
		if leader.trk.Progress(3).State == tracker.StateSnapshot {
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

// TestProbeCarriesAtMostMaxInflightBytes: a follower that lags by more
// than MaxInflightBytes is probed (StateProbe) with no more payload than
// MaxInflightBytes, and one entry whatever its size, though MaxSizePerMsg
// allows far more: a probe is in flight like any append, and its window
// is empty (found by the root's wire oracle, schedule_oracle_test.go).
func TestProbeCarriesAtMostMaxInflightBytes(t *testing.T) {
	const (
		entrySize        = 1 << 10
		maxInflightBytes = 4 << 10
		entries          = 20
	)
	c := electedClusterWith(t, 0, func(cfg *Config) {
		cfg.MaxInflightBytes = maxInflightBytes
		cfg.MaxSizePerMsg = 1 << 20
	})
	leader := c.nodes[1]
	delete(c.nodes, 3) // 3 is down: everything sent to it is lost
	payload := make([]byte, entrySize)
	for range entries {
		if _, _, err := leader.Propose(payload); err != nil {
			t.Fatal(err)
		}
		c.stabilize()
	}
	pr := leader.trk.Progress(3)
	pr.BecomeProbe()
	pr.Next = pr.Match + 1 // as after a rejection: probe from what 3 holds
	c.drain(1)
	if !leader.maybeSendAppend(3, pr, false) {
		t.Fatalf("no probe sent to 3 (%v)", pr)
	}
	for _, m := range c.drain(1) {
		if m.To != 3 || m.Type != raftpb.MsgApp {
			continue
		}
		if n := payloadSize(m.Entries); n > maxInflightBytes {
			t.Fatalf("a probe from %d carries %d entries, %d payload bytes, above MaxInflightBytes %d",
				m.Index+1, len(m.Entries), n, maxInflightBytes)
		}
		return
	}
	t.Fatal("the probe to 3 never left")
}
