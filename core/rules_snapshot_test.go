package core

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// TestFetchedSnapshotIsInstalledOnlyOnceEveryChunkIsDurable: a receiver
// of the chunked snapshot transfer hands the snapshot out to be installed
// only when its snapshot worker has saved every chunk (§7: installing
// replaces the log; a snapshot missing a chunk is state the node does not
// have). The worker here saves ONE chunk per step, and the network runs
// to quiescence between steps, so that several chunks are received and
// waiting to be saved at once; every snapshot the node hands out is
// judged, before the application takes it, against the chunks on its
// disk and the chunk count the leader's offer named on the wire.
func TestFetchedSnapshotIsInstalledOnlyOnceEveryChunkIsDurable(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%t", async), func(t *testing.T) {
			checkChunkedInstall(t, async)
		})
	}
}

func checkChunkedInstall(t *testing.T, async bool) {
	const data = "0123456789ab" // three chunks of four bytes
	s := newRuleNet(t, 3, async, func(cfg *Config) {
		cfg.SnapshotChunkSize = 4
		cfg.SnapshotInterval = 2
		cfg.MaxSnapshotChunksInflight = 4
		cfg.MaxSnapshotChunksPerSource = 4
	})
	s.elect(1)
	s.deliver(anyMsg)
	s.crash(3)
	for i := 0; i < 5; i++ {
		s.propose(1, "q")
	}
	s.deliver(anyMsg)
	snapIndex := s.hardState(1).Commit
	for _, id := range []uint64{1, 2} {
		cs := s.nodes[id].trk.ConfState()
		if _, err := s.disk[id].CreateSnapshot(snapIndex, &cs, []byte(data)); err != nil {
			t.Fatal(err)
		}
		must(t, s.disk[id].Compact(snapIndex))
	}
	offered := map[uint64]uint64{} // snapshot index -> chunk count, as offered on the wire
	s.onSend = func(m raftpb.Message) {
		if m.Type == raftpb.MsgSnapOffer && m.To == 3 {
			offered[m.Snapshot.Metadata.Index] = m.Index
		}
	}
	installs := 0
	s.onSnapshot = func(id uint64, snap raftpb.Snapshot) {
		if id != 3 {
			return
		}
		installs++
		count, ok := offered[snap.Metadata.Index]
		if !ok {
			t.Fatalf("node 3 installs snapshot %d, which nobody offered it", snap.Metadata.Index)
		}
		for c := uint64(0); c < count; c++ {
			if _, ok := s.saved[3][snap.Metadata.Index][c]; !ok {
				t.Fatalf("node 3 handed out snapshot %d for install with chunk %d of %d not on its disk (%d waiting to be saved)",
					snap.Metadata.Index, c, count, len(s.chunkQ[3]))
			}
		}
	}
	s.autoChunks = false
	s.restart(3)
	mostWaiting := 0
	for step := 0; step < 50 && installs == 0; step++ {
		s.nodes[1].Tick()
		s.deliver(anyMsg)
		mostWaiting = max(mostWaiting, len(s.chunkQ[3]))
		if len(s.chunkQ[3]) > 0 {
			s.saveChunk(3)
		}
	}
	s.deliver(anyMsg)
	if mostWaiting < 2 {
		t.Fatalf("at most %d chunks waited to be saved at once: the scenario never had a chunk in flight to the disk beside another", mostWaiting)
	}
	snap, err := s.disk[3].Snapshot()
	must(t, err)
	if installs != 1 || snap.Metadata.Index != snapIndex || !bytes.Equal(snap.Data, []byte(data)) {
		t.Fatalf("node 3 installed %d snapshots and holds %d with %q, want one at %d with %q",
			installs, snap.Metadata.Index, snap.Data, snapIndex, data)
	}
}
