package core

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// TestAnOfferIsRepeatedAtMostOncePerSnapshotRetryTicks: node 3 lags
// behind the leader's snapshot and answers every heartbeat, but every
// offer to it is lost. Counted on the wire over 60 heartbeats (one per
// tick), the leader offers again at most once per SnapshotRetryTicks (6),
// and still does: a lost offer is recovered without ReportSnapshot.
func TestAnOfferIsRepeatedAtMostOncePerSnapshotRetryTicks(t *testing.T) {
	const retry, ticks = 6, 60
	c, down := laggingChunkedCluster(t, func(cfg *Config) {
		cfg.SnapshotRetryTicks = retry
		cfg.DisableCheckQuorum = true
	})
	c.nodes[3] = down
	leader := c.nodes[1]
	leader.trk.Progress(3).RecentActive = true
	var offers []uint64 // the leader's tick at each offer carried to node 3
	heartbeats := 0
	for tick := 0; tick < ticks; tick++ {
		leader.Tick()
		c.stabilizeThrough(func(m raftpb.Message) bool {
			switch {
			case m.Type == raftpb.MsgSnapOffer && m.To == 3:
				offers = append(offers, leader.ticks)
				return false // lost
			case m.Type == raftpb.MsgHeartbeat && m.To == 3:
				heartbeats++
			}
			return true
		})
	}
	if pr := leader.trk.Progress(3); pr.State != tracker.StateSnapshot || heartbeats < ticks {
		t.Fatalf("setup: progress of 3 %s after %d heartbeats, want StateSnapshot and %d heartbeats", pr, heartbeats, ticks)
	}
	if len(offers) < ticks/retry {
		t.Fatalf("%d offers over %d ticks (%v), want one every %d ticks at least", len(offers), ticks, offers, retry)
	}
	for i := 1; i < len(offers); i++ {
		if offers[i]-offers[i-1] < retry {
			t.Fatalf("offers at ticks %v: two within SnapshotRetryTicks (%d)", offers, retry)
		}
	}

	// A newer snapshot, with the log compacted past the pending one, is
	// offered at the next heartbeat answer, within SnapshotRetryTicks of
	// the last offer: it supersedes the transfer.
	_, _, err := leader.Propose([]byte("newer"))
	must(t, err)
	c.stabilizeThrough(func(m raftpb.Message) bool { return m.Type != raftpb.MsgSnapOffer })
	for leader.ticks-offers[len(offers)-1] >= retry-1 {
		leader.Tick()
		c.stabilizeThrough(func(m raftpb.Message) bool {
			if m.Type == raftpb.MsgSnapOffer && m.To == 3 {
				offers = append(offers, leader.ticks)
				return false
			}
			return true
		})
	}
	cs := leader.trk.ConfState()
	applied := leader.raftLog.applied
	_, err = c.st[1].CreateSnapshot(applied, &cs, []byte("newer"))
	must(t, err)
	must(t, c.st[1].Compact(applied))
	var newer []raftpb.Message
	leader.Tick()
	c.stabilizeThrough(func(m raftpb.Message) bool {
		if m.Type == raftpb.MsgSnapOffer && m.To == 3 {
			newer = append(newer, m)
			return false
		}
		return true
	})
	if len(newer) != 1 {
		t.Fatalf("offers at the first heartbeat after a newer snapshot, %d ticks after the last offer: %v, want one",
			leader.ticks-offers[len(offers)-1], newer)
	}
	if o, err := raftpb.ParseSnapshotOffer(newer[0]); err != nil || o.Snapshot.Index != applied {
		t.Fatalf("offer after a newer snapshot: %+v (%v), want the snapshot at %d", o, err, applied)
	}
}

// snapshotReads is a MemoryStorage that counts the calls of Snapshot.
type snapshotReads struct {
	*MemoryStorage
	n int
}

func (s *snapshotReads) Snapshot() (raftpb.Snapshot, error) {
	s.n++
	return s.MemoryStorage.Snapshot()
}

// TestASourceReadsItsStorageSnapshotOncePerSnapshotServed: a source asked
// for every chunk of its snapshot reads Storage.Snapshot once, not once
// per chunk. Once its storage took a newer snapshot (and compacted), a
// request for the one replaced is refused, and one for the newer reads
// Storage.Snapshot again and is served.
func TestASourceReadsItsStorageSnapshotOncePerSnapshotServed(t *testing.T) {
	st := &snapshotReads{MemoryStorage: NewMemoryStorage()}
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	must(t, st.ApplySnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 4, Term: 1, ConfState: cs}, Data: []byte("0123456789")}))
	r, err := NewRaft(&Config{ID: 2, Storage: st, SnapshotChunkSize: 4, CheckContract: true})
	must(t, err)
	// ask returns the answer to a request for a chunk, through the
	// snapshot worker (serving from the storage's snapshot) if the node
	// hands it one.
	ask := func(index, chunk uint64) raftpb.Chunk {
		t.Helper()
		r.out.msgs = nil
		r.takeLocal()
		must(t, r.Step(raftpb.ChunkRequest{From: 3, To: 2, ID: raftpb.ChunkID{Index: index, Term: 1, Chunk: chunk}, Size: 4}.Message()))
		out := r.out.msgs
		local := r.takeLocal()
		if len(local) == 1 {
			snap, _ := st.MemoryStorage.Snapshot()
			out = []raftpb.Message{ServeSnapshotChunkFrom(local[0], snap)}
		}
		if len(out) != 1 {
			t.Fatalf("request for chunk %d of %d: sent %v %v, want one answer", chunk, index, r.out.msgs, local)
		}
		c, err := raftpb.ParseChunk(out[0])
		must(t, err)
		return c
	}
	before := st.n
	for chunk := uint64(0); chunk < 3; chunk++ {
		if c := ask(4, chunk); c.Refused {
			t.Fatalf("chunk %d of the snapshot held: %+v, want it served", chunk, c)
		}
	}
	if got := st.n - before; got != 1 {
		t.Fatalf("serving 3 chunks read Storage.Snapshot %d times, want 1", got)
	}
	must(t, st.ApplySnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 6, Term: 1, ConfState: cs}, Data: []byte("abcdefghij")}))
	if c := ask(4, 1); !c.Refused || c.Why != raftpb.ChunkNotHeld {
		t.Fatalf("the answer for the replaced snapshot: %+v, want a refusal", c)
	}
	before = st.n
	for chunk := uint64(0); chunk < 3; chunk++ {
		if c := ask(6, chunk); c.Refused || (chunk == 2 && string(c.Data) != "ij") {
			t.Fatalf("chunk %d of the newer snapshot: %+v, want it served", chunk, c)
		}
	}
	if got := st.n - before; got != 1 {
		t.Fatalf("serving the newer snapshot read Storage.Snapshot %d times, want 1", got)
	}
}

// TestALostOfferIsRepeatedEvenWhenWholeSnapshotsAreNeverResent: with
// SnapshotRetryTicks negative a whole snapshot is never resent, but an
// offer of a chunked one still is, every 2*ElectionTick: nothing else
// repeats a lost offer, and the follower would wait for ever.
func TestALostOfferIsRepeatedEvenWhenWholeSnapshotsAreNeverResent(t *testing.T) {
	c, down := laggingChunkedCluster(t, func(cfg *Config) {
		cfg.SnapshotRetryTicks = -1
		cfg.DisableCheckQuorum = true
	})
	c.nodes[3] = down
	leader := c.nodes[1]
	leader.trk.Progress(3).RecentActive = true
	every := uint64(2 * leader.settings.electionTimeout)
	var offers []uint64
	for tick := uint64(0); tick < 3*every; tick++ {
		leader.Tick()
		c.stabilizeThrough(func(m raftpb.Message) bool {
			if m.Type == raftpb.MsgSnapOffer && m.To == 3 {
				offers = append(offers, leader.ticks)
				return false // lost
			}
			return true
		})
	}
	if len(offers) < 2 {
		t.Fatalf("offers at ticks %v over %d ticks, want one every %d", offers, 3*every, every)
	}
	for i := 1; i < len(offers); i++ {
		if offers[i]-offers[i-1] < every {
			t.Fatalf("offers at ticks %v: two within 2*ElectionTick (%d)", offers, every)
		}
	}
}
