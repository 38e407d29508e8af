package raft

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

// scenarioSteps is the length of one randomized scenario.
const scenarioSteps = 3000

// scenario is a randomized run of a 3-node cluster: a generator seeded in
// the test picks, step by step, a node to tick, a proposal, a node whose
// Ready to handle, a message in flight to deliver or drop, a node to cut
// off from the others (or the end of that partition), or a node to crash
// and restart from its storage (losing what it held unpersisted). Every Ready
// of every node is encoded, in order, into stream. The run also feeds a
// checker.History, so that it checks Raft's safety properties on the way.
type scenario struct {
	rng        *rand.Rand
	configSeed uint64
	nodes      []*clusterNode
	net        []raftpb.Message
	// isolated is the node cut off from the others, or None.
	isolated uint64
	stream   []byte
	history  *checker.History
	// cache is the GroupCache the nodes share, or nil.
	cache *GroupCache
	// pending maps, per node, the index of each proposal it accepted as
	// leader to the entry, to acknowledge it once the node applies it.
	pending   map[uint64]map[uint64]raftpb.Entry
	proposals int
	acked     int
}

// runScenario runs the scenario of seed on nodes whose Config.Seed derive
// from configSeed, and returns it when done.
func runScenario(t *testing.T, seed, configSeed uint64) *scenario {
	t.Helper()
	return runScenarioWith(t, seed, configSeed, nil)
}

// runScenarioWith runs the scenario of seed as runScenario does, with
// nodes that share cache (nil: none).
func runScenarioWith(t *testing.T, seed, configSeed uint64, cache *GroupCache) *scenario {
	t.Helper()
	return runScenarioOf(t, seed, configSeed, func(s *scenario) { s.cache = cache })
}

// runScenarioOf runs the scenario of seed as runScenario does, once set
// has set the scenario's options.
func runScenarioOf(t *testing.T, seed, configSeed uint64, set func(*scenario)) *scenario {
	t.Helper()
	s := &scenario{
		rng:        rand.New(rand.NewPCG(seed, seed^0x5eed)),
		configSeed: configSeed,
		history:    checker.NewHistory(),
		pending:    make(map[uint64]map[uint64]raftpb.Entry),
	}
	set(s)
	s.nodes = newClusterNodes(t, 3, s.configure)
	for step := 0; step < scenarioSteps; step++ {
		s.step(t)
	}
	if err := checker.Check(s.history); err != nil {
		t.Fatalf("seed %d, config seed %d: %v", seed, configSeed, err)
	}
	return s
}

// step takes one random action.
func (s *scenario) step(t *testing.T) {
	nd := s.nodes[s.rng.IntN(len(s.nodes))]
	switch r := s.rng.IntN(1000); {
	case r < 4:
		s.togglePartition(nd.id)
	case r < 6:
		s.restart(t, nd)
	case r < 250:
		nd.rn.Tick()
	case r < 350:
		s.propose(t, nd)
	case r < 600:
		if nd.rn.HasReady() {
			s.handleReady(t, nd)
		}
	default:
		s.deliver(t)
	}
}

// configure gives each node its seed, derived from the scenario's, and
// the scenario's GroupCache.
func (s *scenario) configure(c *Config) {
	c.Seed = s.configSeed<<8 | c.ID
	c.GroupCache = s.cache
}

// restart crashes nd and starts it again from its storage. Its state
// machine is rebuilt from scratch (Applied 0), and its clients are gone,
// so its proposals are never acknowledged.
func (s *scenario) restart(t *testing.T, nd *clusterNode) {
	hs, _, err := nd.st.InitialState()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{ID: nd.id, Storage: nd.st}
	s.configure(cfg)
	if nd.rn, err = NewRawNode(cfg); err != nil {
		t.Fatalf("node %d cannot restart: %v", nd.id, err)
	}
	delete(s.pending, nd.id)
	s.history.Restart(nd.id, hs, 0)
}

// togglePartition cuts node id off from the others, or heals the
// partition if there is one.
func (s *scenario) togglePartition(id uint64) {
	if s.isolated != None {
		s.isolated = None
		return
	}
	s.isolated = id
}

// propose proposes a fresh payload on nd; a refusal is part of the run.
func (s *scenario) propose(t *testing.T, nd *clusterNode) {
	s.proposals++
	data := []byte(fmt.Sprintf("p%d", s.proposals))
	index, term, err := nd.rn.Propose(data)
	switch {
	case err != nil && !errors.Is(err, ErrProposalDropped):
		t.Fatalf("node %d: proposal refused without ErrProposalDropped: %v", nd.id, err)
	case err == nil && index != 0:
		if s.pending[nd.id] == nil {
			s.pending[nd.id] = make(map[uint64]raftpb.Entry)
		}
		s.pending[nd.id][index] = raftpb.Entry{Index: index, Term: term, Data: data}
	}
}

// deliver takes a random message off the network and delivers it, or drops
// it: one time in ten, and always across the partition.
func (s *scenario) deliver(t *testing.T) {
	if len(s.net) == 0 {
		return
	}
	k := s.rng.IntN(len(s.net))
	m := s.net[k]
	s.net[k] = s.net[len(s.net)-1]
	s.net = s.net[:len(s.net)-1]
	if s.rng.IntN(10) == 0 || m.To == s.isolated || m.From == s.isolated {
		return
	}
	err := s.nodes[m.To-1].rn.Step(m)
	if err != nil && !errors.Is(err, ErrProposalDropped) {
		t.Fatalf("node %d refused %s from %d: %v", m.To, m.Type, m.From, err)
	}
}

// handleReady encodes, persists, sends and applies one Ready of nd, then
// advances nd and records what it now reports.
func (s *scenario) handleReady(t *testing.T, nd *clusterNode) {
	rd := nd.rn.Ready()
	s.stream = appendReady(s.stream, nd.id, &rd)
	nd.persist(t, &rd)
	s.net = appendKept(s.net, rd.Messages)
	s.net = appendKept(s.net, rd.MessagesAfterPersist)
	s.history.Apply(nd.id, rd.CommittedEntries)
	s.acknowledge(nd.id, rd.CommittedEntries)
	nd.rn.Advance()
	s.observe(t, nd)
}

// acknowledge acknowledges the proposals of node id among the entries it
// applied: the client learns that they committed.
func (s *scenario) acknowledge(id uint64, applied []raftpb.Entry) {
	for _, e := range applied {
		p, ok := s.pending[id][e.Index]
		if !ok {
			continue
		}
		delete(s.pending[id], e.Index)
		if p.Term == e.Term && bytes.Equal(p.Data, e.Data) {
			s.history.Acknowledge(p)
			s.acked++
		}
	}
}

// observe feeds the history what nd reports after a Ready: its status and
// its log, then wholly in storage.
func (s *scenario) observe(t *testing.T, nd *clusterNode) {
	st := nd.rn.BasicStatus()
	err := s.history.Observe(checker.Observation{
		ID: nd.id, Soft: st.SoftState, Hard: st.HardState, Applied: st.Applied, Log: storedLog(nd.st),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// marshaler is what the raftpb codec offers for every type it encodes.
type marshaler interface {
	Size() int
	AppendMarshal([]byte) []byte
}

// appendEncoded appends m, prefixed with its length.
func appendEncoded(b []byte, m marshaler) []byte {
	b = binary.AppendUvarint(b, uint64(m.Size()))
	return m.AppendMarshal(b)
}

// appendReady appends the encoding of node id's Ready: its hard state,
// entries, snapshot, committed entries, messages and messages after
// persist, the local messages and the reads released, with the soft state
// and MustSync.
func appendReady(b []byte, id uint64, rd *Ready) []byte {
	b = binary.AppendUvarint(b, id)
	if rd.SoftState != nil {
		b = binary.AppendUvarint(b, rd.SoftState.Lead)
		b = append(b, byte(rd.SoftState.RaftState))
	}
	b = append(b, boolByte(rd.MustSync))
	b = appendEncoded(b, &rd.HardState)
	b = appendEncoded(b, &rd.Snapshot)
	b = appendEntries(b, rd.Entries)
	b = appendEntries(b, rd.CommittedEntries)
	b = appendMessages(b, rd.Messages)
	b = appendMessages(b, rd.MessagesAfterPersist)
	b = appendMessages(b, rd.LocalMessages)
	b = binary.AppendUvarint(b, uint64(len(rd.ReadStates)))
	for _, rs := range rd.ReadStates {
		b = binary.AppendUvarint(b, rs.Index)
		b = append(b, rs.RequestCtx...)
	}
	return b
}

func appendEntries(b []byte, ents []raftpb.Entry) []byte {
	b = binary.AppendUvarint(b, uint64(len(ents)))
	for i := range ents {
		b = appendEncoded(b, &ents[i])
	}
	return b
}

func appendMessages(b []byte, msgs []raftpb.Message) []byte {
	b = binary.AppendUvarint(b, uint64(len(msgs)))
	for i := range msgs {
		b = appendEncoded(b, &msgs[i])
	}
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// firstDifference returns the offset of the first byte at which a and b
// differ, or -1 if they are equal.
func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// determinismSeeds are the scenario seeds the determinism tests run.
var determinismSeeds = []uint64{1, 2, 3, 7, 42, 1234, 99991}

func TestSameSeedsGiveByteIdenticalReadyStreams(t *testing.T) {
	for _, seed := range determinismSeeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			a := runScenario(t, seed, 7)
			b := runScenario(t, seed, 7)
			if at := firstDifference(a.stream, b.stream); at >= 0 {
				t.Fatalf("streams of %d and %d bytes differ from byte %d", len(a.stream), len(b.stream), at)
			}
			if a.acked == 0 {
				t.Fatalf("no proposal of %d committed: the scenario tests too little", a.proposals)
			}
			t.Logf("%d bytes, %d proposals, %d acknowledged", len(a.stream), a.proposals, a.acked)
		})
	}
}

func TestADifferentConfigSeedGivesADifferentReadyStream(t *testing.T) {
	for _, seed := range determinismSeeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			a := runScenario(t, seed, 7)
			b := runScenario(t, seed, 8)
			if bytes.Equal(a.stream, b.stream) {
				t.Fatalf("config seeds 7 and 8 gave the same %d-byte stream: the seed does not reach the node", len(a.stream))
			}
		})
	}
}
