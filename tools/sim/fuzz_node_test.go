package sim

import (
	"fmt"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// FuzzNodeMessageSequences feeds the nodes of a live 3-node cluster (a
// leader elected, writes committed) arbitrary messages decoded from the
// fuzzer's bytes, 12 bytes each: any type (unknown ones too), from a
// member, a stranger or nobody, with terms and indexes around the
// recipient's own, entries, a snapshot, a rejection. After each message
// the cluster runs on for a few steps. Whatever arrives, no node may
// panic, every refusal must be one of the library's typed errors, and
// every node's persisted state must stay sane: its term and commit index
// never go back and the commit index never passes its last index. (What
// the cluster then does is not checked: safety assumes correct peers.)
//
//	go test ./tools/sim -run XXX -fuzz FuzzNodeMessageSequences -fuzztime 10m
func FuzzNodeMessageSequences(f *testing.F) {
	f.Add(byte(0), []byte{0, 3, 1, 3, 8, 2, 9, 0, 1, 0, 0, 0, 1, 4, 2, 3, 8, 2, 8, 1, 0, 0, 0, 0})
	f.Add(byte(1), []byte{2, 7, 1, 4, 7, 2, 12, 2, 0, 0, 0, 0, 0, 5, 5, 5, 9, 3, 8, 0, 0, 0, 0, 0})
	f.Add(byte(0), []byte{1, 8, 4, 6, 8, 2, 15, 0, 0, 0, 0, 0, 0, 14, 2, 3, 8, 2, 8, 0, 0, 0, 0, 0})
	f.Add(byte(1), []byte{0, 2, 0, 3, 8, 2, 8, 4, 2, 1, 0, 0, 2, 25, 3, 3, 8, 2, 8, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		s := liveCluster(t, mode&1 == 1)
		s.byzantine = true
		sane := newSanity(s)
		for i := 0; i+12 <= len(data) && i < 12*64; i += 12 {
			to, m := decodeMessage(s, data[i:i+12])
			if !to.up() {
				continue
			}
			s.guard(func() { s.stepNode(to, m) })
			for k := 0; k < 6 && s.failure == nil; k++ {
				s.guard(s.step)
			}
			if s.failure != nil {
				t.Fatalf("after %v: %v", m, s.failure)
			}
			if err := sane.check(s); err != nil {
				t.Fatalf("after %v: %v", m, err)
			}
		}
	})
}

// liveCluster returns 3 nodes that elected a leader and committed writes.
func liveCluster(t *testing.T, async bool) *Sim {
	s := newTestSim(t, Options{Seed: 1, Nodes: 3, Async: async, ChaosTicks: 1 << 30, Steps: 1 << 20,
		Workload: Workload{Clients: 2, Keys: 2, OpRate: 0.5}})
	s.runSteps(240)
	if s.failure != nil || s.leader() == nil {
		t.Fatalf("no live cluster: %v", s.failure)
	}
	return s
}

// decodeMessage decodes 12 bytes into a message to one of the nodes:
// recipient, type, sender, term, index, log term, commit, flags, entries,
// entries' term, reject hint, vote. Terms and indexes are drawn around the
// recipient's own, so that they are often plausible.
func decodeMessage(s *Sim, b []byte) (*node, raftpb.Message) {
	to := s.nodes[int(b[0])%len(s.nodes)]
	term, last := uint64(0), uint64(0)
	if to.up() {
		term = to.rn.BasicStatus().Term
		last, _ = to.st.LastIndex()
	}
	around := func(base uint64, v byte, span int) uint64 {
		d := int(v)%span - span/2
		if d < 0 && uint64(-d) > base {
			return 0
		}
		return uint64(int64(base) + int64(d))
	}
	m := raftpb.Message{
		Type: raftpb.MessageType(int(b[1]) % 26), To: to.id, From: uint64(b[2] % 7),
		Term: around(term, b[3], 8), Index: around(last, b[4], 16), LogTerm: around(term, b[5], 4),
		Commit: around(last, b[6], 16), Reject: b[7]&1 != 0, RejectHint: uint64(b[10] % 32), Vote: uint64(b[11] % 5),
	}
	for k := 0; k < int(b[8])%4; k++ {
		m.Entries = append(m.Entries, raftpb.Entry{Index: m.Index + 1 + uint64(k), Term: around(term, b[9], 4),
			Data: []byte(fmt.Sprintf("k%d=c9.%d", k, b[9]))})
	}
	if b[7]&2 != 0 {
		m.Snapshot = &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: m.Index, Term: m.LogTerm,
			ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}
	}
	if b[7]&4 != 0 {
		m.Context = []byte{b[10], b[11]}
	}
	return to, m
}

// sanity tracks each node's persisted hard state.
type sanity struct{ last []raftpb.HardState }

func newSanity(s *Sim) *sanity {
	return &sanity{last: make([]raftpb.HardState, len(s.nodes))}
}

// check reports a node whose persisted term or commit went back, or whose
// persisted commit passes its persisted log.
func (c *sanity) check(s *Sim) error {
	for i, n := range s.nodes {
		hs, _, _ := n.st.InitialState()
		last, _ := n.st.LastIndex()
		was := c.last[i]
		switch {
		case hs.Term < was.Term || hs.Commit < was.Commit:
			return fmt.Errorf("node %d persisted %v after %v", n.id, hs, was)
		case n.disk.idle() && hs.Commit > last:
			return fmt.Errorf("node %d persisted commit %d beyond its last index %d", n.id, hs.Commit, last)
		}
		c.last[i] = hs
	}
	return nil
}
