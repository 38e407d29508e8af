package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// FuzzStepNeverPanics feeds arbitrary bytes, decoded as a Message, to the
// leader and to a follower of a live cluster, then lets the cluster run on.
// Whatever a peer sends, no node may panic and every invariant must hold.
//
//	go test ./core -run XXX -fuzz FuzzStepNeverPanics -fuzztime 60s
func FuzzStepNeverPanics(f *testing.F) {
	for _, m := range fuzzSeedMessages() {
		f.Add(m.Marshal())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m raftpb.Message
		if m.Unmarshal(data) != nil {
			return
		}
		c := electedClusterWith(t, 3, func(cfg *Config) { cfg.SnapshotChunkSize = 4; cfg.SnapshotInterval = 2; cfg.Quiesce = true })
		c.lenient = true
		for _, to := range []uint64{1, 2} {
			m.To = to
			_ = c.nodes[to].Step(m)
			if err := c.nodes[to].CheckInvariants(); err != nil {
				t.Fatalf("after Step(%v): %v", m, err)
			}
		}
		c.stabilize()
		for _, id := range c.up() {
			c.nodes[id].Tick()
		}
		c.stabilize()
	})
}

// fuzzSeedMessages are plausible messages of every peer type, so that the
// fuzzer starts from inputs that pass the cheap checks.
func fuzzSeedMessages() []raftpb.Message {
	snap := &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 9, Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}
	return []raftpb.Message{
		{Type: raftpb.MsgApp, From: 1, Term: 1, LogTerm: 1, Index: 4, Commit: 4, Entries: []raftpb.Entry{{Term: 1, Index: 5, Data: []byte("x")}}},
		{Type: raftpb.MsgApp, From: 3, Term: 2, LogTerm: 1, Index: 2, Commit: 9, Entries: []raftpb.Entry{{Term: 2, Index: 3}}},
		{Type: raftpb.MsgAppResp, From: 2, Term: 1, Index: 4},
		{Type: raftpb.MsgAppResp, From: 3, Term: 1, Index: 3, Reject: true, RejectHint: 2, LogTerm: 1},
		{Type: raftpb.MsgVote, From: 3, Term: 2, LogTerm: 1, Index: 4},
		{Type: raftpb.MsgPreVote, From: 3, Term: 2, LogTerm: 1, Index: 9},
		{Type: raftpb.MsgVoteResp, From: 3, Term: 2},
		{Type: raftpb.MsgHeartbeat, From: 1, Term: 1, Commit: 4},
		{Type: raftpb.MsgHeartbeatResp, From: 2, Term: 1},
		{Type: raftpb.MsgSnap, From: 1, Term: 1, Snapshot: snap},
		{Type: raftpb.MsgProp, From: 3, Entries: []raftpb.Entry{{Data: []byte("p")}}},
		{Type: raftpb.MsgTimeoutNow, From: 1, Term: 1},
		{Type: raftpb.MsgTransferLeader, From: 3, Term: 1},
		{Type: raftpb.MsgReadIndex, From: 3, Entries: []raftpb.Entry{{Data: []byte("r")}}},
		{Type: raftpb.MsgSnapOffer, From: 1, Term: 1, Snapshot: snap, Index: 3, RejectHint: 4, Context: raftpb.EncodeSources([]uint64{1, 3})},
		{Type: raftpb.MsgSnapChunkReq, From: 3, Index: 2, LogTerm: 1, Commit: 0, RejectHint: 4},
		{Type: raftpb.MsgSnapChunk, From: 3, Index: 9, LogTerm: 1, Commit: 1, Context: []byte("abcd")},
		{Type: raftpb.MsgSnapChunk, From: 3, Index: 9, LogTerm: 1, Commit: 2, Reject: true, RejectHint: 1},
		{Type: raftpb.MsgQuiesce, From: 1, Term: 1, Index: 4, LogTerm: 1, Commit: 4},
		{Type: raftpb.MsgQuiesceResp, From: 3, Term: 1, Index: 4, LogTerm: 1, Commit: 4},
		{Type: raftpb.MsgQuiesceResp, From: 2, Term: 1, Index: 3, LogTerm: 1, Commit: 2, Reject: true},
	}
}
