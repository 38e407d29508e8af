package core

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// ruleNet is the cluster behind the rule scenarios (rules_*_test.go). It
// plays the application of every node, and the test decides which message
// is delivered when: messages wait in a queue until the test delivers or
// drops them, which is how a scenario builds a history no random schedule
// finds. Two observers sit outside the library and are what the scenarios
// judge by:
//
//   - the disk: each node's MemoryStorage holds exactly what the node handed
//     to storage and the application wrote (in the asynchronous mode, what
//     the append worker has completed);
//   - the wire: every message put on the network, checked by onSend at the
//     moment it leaves, against the sender's disk at that moment.
//
// In the synchronous mode a node's Ready is handled as the contract says:
// Messages leave, then HardState, Snapshot and Entries are written, then
// MessagesAfterPersist leave, then committed entries are applied. In the
// asynchronous mode the storage messages wait in per-node worker queues
// that the test completes one by one (or all, when autoWorkers is set).
type ruleNet struct {
	t     *testing.T
	opt   func(*Config)
	async bool
	// autoWorkers makes deliver complete every worker's queue as it goes.
	autoWorkers bool

	ids   []uint64
	nodes map[uint64]*Raft
	disk  map[uint64]*MemoryStorage
	queue []raftpb.Message
	// delivered records every message the network delivered, in order.
	delivered []raftpb.Message

	appendQ map[uint64][]raftpb.Message
	applyQ  map[uint64][]raftpb.Message

	// appended records every entry each node handed to storage, in order;
	// applied every entry handed out to apply (both as the application saw
	// them, whatever the node's own bookkeeping says).
	appended map[uint64][]raftpb.Entry
	applied  map[uint64][]raftpb.Entry
	// hardStates records every HardState each node handed to storage.
	hardStates map[uint64][]raftpb.HardState
	// onSend, when set, judges every message as it leaves its sender.
	onSend func(m raftpb.Message)
	// onPersist, when set, judges the entries a node writes to its disk,
	// before they are written.
	onPersist func(id uint64, ents []raftpb.Entry)
	// holdApply keeps autoWorkers from running these nodes' apply workers:
	// their committed entries wait, unapplied, until completeApply.
	holdApply map[uint64]bool

	// The snapshot worker (chunked transfer): chunk saves wait in chunkQ
	// until saveChunk runs one (or deliver, with autoChunks); saved holds
	// the chunks on each node's disk by snapshot index and chunk number.
	chunkQ     map[uint64][]raftpb.Message
	saved      map[uint64]map[uint64]map[uint64][]byte
	autoChunks bool
	// onSnapshot, when set, judges every snapshot a node hands out to be
	// persisted and applied, before the application takes it.
	onSnapshot func(id uint64, s raftpb.Snapshot)
}

// newRuleNet builds n voters 1..n, their Configs adjusted by opt.
func newRuleNet(t *testing.T, n int, async bool, opt func(*Config)) *ruleNet {
	t.Helper()
	s := &ruleNet{
		t: t, opt: opt, async: async, autoWorkers: true, autoChunks: true,
		nodes: map[uint64]*Raft{}, disk: map[uint64]*MemoryStorage{},
		appendQ: map[uint64][]raftpb.Message{}, applyQ: map[uint64][]raftpb.Message{},
		appended: map[uint64][]raftpb.Entry{}, applied: map[uint64][]raftpb.Entry{},
		hardStates: map[uint64][]raftpb.HardState{}, holdApply: map[uint64]bool{},
		chunkQ: map[uint64][]raftpb.Message{}, saved: map[uint64]map[uint64]map[uint64][]byte{},
	}
	for i := 1; i <= n; i++ {
		s.ids = append(s.ids, uint64(i))
	}
	for _, id := range s.ids {
		st := NewMemoryStorage()
		st.SetConfState(raftpb.ConfState{Voters: s.ids})
		s.disk[id] = st
		s.start(id)
	}
	return s
}

// start builds node id from what its disk holds (a boot or a restart).
func (s *ruleNet) start(id uint64) {
	s.t.Helper()
	cfg := Config{ID: id, Storage: s.disk[id], AsyncStorageWrites: s.async, Seed: id, CheckContract: true}
	if s.opt != nil {
		s.opt(&cfg)
	}
	r, err := NewRaft(&cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.nodes[id] = r
}

// crash stops node id: it loses whatever its workers had not completed,
// and messages to it are lost until it restarts.
func (s *ruleNet) crash(id uint64) {
	delete(s.nodes, id)
	s.appendQ[id], s.applyQ[id], s.chunkQ[id] = nil, nil, nil
	s.drop(to(id))
}

// restart starts a crashed node again from its disk.
func (s *ruleNet) restart(id uint64) { s.start(id) }

func (s *ruleNet) up() []uint64 { return slices.Sorted(maps.Keys(s.nodes)) }

// hardState returns the HardState on node id's disk.
func (s *ruleNet) hardState(id uint64) raftpb.HardState {
	hs, _, err := s.disk[id].InitialState()
	must(s.t, err)
	return hs
}

// diskLastIndex returns the last index on node id's disk.
func (s *ruleNet) diskLastIndex(id uint64) uint64 {
	last, err := s.disk[id].LastIndex()
	must(s.t, err)
	return last
}

// send puts m on the wire.
func (s *ruleNet) send(m raftpb.Message) {
	if s.onSend != nil {
		s.onSend(m)
	}
	s.queue = append(s.queue, m)
}

// flush handles every Ready node id has.
func (s *ruleNet) flush(id uint64) {
	s.t.Helper()
	r := s.nodes[id]
	for n := 0; r.HasReady(); n++ {
		if n == 100 {
			s.t.Fatalf("node %d: HasReady stays true after 100 Readys", id)
		}
		rd := r.Ready()
		if s.async {
			s.route(id, rd)
			continue
		}
		for _, m := range rd.LocalMessages {
			s.snapshotWork(id, m)
		}
		for _, m := range rd.Messages {
			s.send(m)
		}
		s.persist(id, rd.HardState, rd.Snapshot, rd.Entries)
		for _, m := range rd.MessagesAfterPersist {
			s.send(m)
		}
		s.apply(id, rd.CommittedEntries)
		r.Advance()
		s.check(id)
	}
}

// route hands an asynchronous Ready's messages to the workers and the wire.
func (s *ruleNet) route(id uint64, rd Ready) {
	for _, m := range rd.Messages {
		switch m.To {
		case LocalAppendThread:
			s.appendQ[id] = append(s.appendQ[id], m)
		case LocalApplyThread:
			s.applyQ[id] = append(s.applyQ[id], m)
		case LocalSnapshotThread:
			s.snapshotWork(id, m)
		default:
			s.send(m)
		}
	}
}

// persist writes what a node handed to storage onto its disk. A snapshot
// is written with the data its chunks hold, when it came in chunks.
func (s *ruleNet) persist(id uint64, hs raftpb.HardState, snap raftpb.Snapshot, ents []raftpb.Entry) {
	s.t.Helper()
	if !snap.IsEmpty() {
		if s.onSnapshot != nil {
			s.onSnapshot(id, snap)
		}
		must(s.t, s.disk[id].ApplySnapshot(s.assemble(id, snap)))
	}
	if s.onPersist != nil && len(ents) > 0 {
		s.onPersist(id, ents)
	}
	must(s.t, s.disk[id].Append(ents))
	s.appended[id] = append(s.appended[id], ents...)
	if !hs.IsEmpty() {
		must(s.t, s.disk[id].SetHardState(hs))
		s.hardStates[id] = append(s.hardStates[id], hs)
	}
}

// apply applies committed entries as the application does: it records
// them and applies the conf changes among them.
func (s *ruleNet) apply(id uint64, ents []raftpb.Entry) {
	s.t.Helper()
	s.applied[id] = append(s.applied[id], ents...)
	for _, e := range ents {
		cc, err := e.ConfChange()
		must(s.t, err)
		if cc == nil {
			continue
		}
		if _, err := s.nodes[id].ApplyConfChange(cc); err != nil {
			s.t.Fatalf("node %d applying %v at %d: %v", id, cc, e.Index, err)
		}
	}
}

// completeAppend runs node id's append worker once: the oldest write
// becomes durable, then its responses are delivered or sent.
func (s *ruleNet) completeAppend(id uint64) {
	s.t.Helper()
	m := s.appendQ[id][0]
	s.appendQ[id] = s.appendQ[id][1:]
	var snap raftpb.Snapshot
	if m.Snapshot != nil {
		snap = *m.Snapshot
	}
	s.persist(id, raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}, snap, m.Entries)
	s.respond(id, m.Responses)
}

// completeApply runs node id's apply worker once.
func (s *ruleNet) completeApply(id uint64) {
	s.t.Helper()
	m := s.applyQ[id][0]
	s.applyQ[id] = s.applyQ[id][1:]
	s.apply(id, m.Entries)
	s.respond(id, m.Responses)
}

// respond delivers a worker's responses: to the node itself at once, to
// peers through the wire.
func (s *ruleNet) respond(id uint64, resps []raftpb.Message) {
	for _, m := range resps {
		if m.To == id {
			s.step(m)
			continue
		}
		s.send(m)
	}
}

// step delivers m to its recipient and checks the recipient's invariants.
func (s *ruleNet) step(m raftpb.Message) {
	s.t.Helper()
	r := s.nodes[m.To]
	if r == nil {
		return // the node is down: the message is lost
	}
	if err := r.Step(m); err != nil {
		s.t.Fatalf("step %v: %v", m, err)
	}
	s.check(m.To)
}

func (s *ruleNet) check(id uint64) {
	s.t.Helper()
	if err := s.nodes[id].CheckInvariants(); err != nil {
		s.t.Fatal(err)
	}
}

// flushAll handles every running node's Readys and, with autoWorkers,
// completes every worker's queue, until no node has anything to do.
func (s *ruleNet) flushAll() {
	s.t.Helper()
	for round := 0; ; round++ {
		if round == 1000 {
			s.t.Fatal("the nodes never quiesced")
		}
		moved := false
		for _, id := range s.up() {
			if s.nodes[id].HasReady() {
				s.flush(id)
				moved = true
			}
			for s.autoWorkers && len(s.appendQ[id]) > 0 {
				s.completeAppend(id)
				moved = true
			}
			for s.autoWorkers && !s.holdApply[id] && len(s.applyQ[id]) > 0 {
				s.completeApply(id)
				moved = true
			}
			for s.autoChunks && len(s.chunkQ[id]) > 0 {
				s.saveChunk(id)
				moved = true
			}
		}
		if !moved {
			return
		}
	}
}

// deliver delivers, oldest first, every queued message that match
// accepts, and those their delivery causes, until none is left; the
// others stay queued. It returns how many it delivered.
func (s *ruleNet) deliver(match func(raftpb.Message) bool) int {
	s.t.Helper()
	n := 0
	for {
		s.flushAll()
		i := slices.IndexFunc(s.queue, match)
		if i < 0 {
			return n
		}
		m := s.queue[i]
		s.queue = slices.Delete(s.queue, i, i+1)
		if s.nodes[m.To] != nil {
			s.delivered = append(s.delivered, m)
		}
		s.step(m)
		n++
		if n > 100000 {
			s.t.Fatal("deliver never ends")
		}
	}
}

// stepQueued delivers the queued messages match accepts, in order,
// without handling any Ready in between (several messages reach a node
// before it next runs its Ready loop).
func (s *ruleNet) stepQueued(match func(raftpb.Message) bool) {
	s.t.Helper()
	var rest, now []raftpb.Message
	for _, m := range s.queue {
		if match(m) {
			now = append(now, m)
		} else {
			rest = append(rest, m)
		}
	}
	s.queue = rest
	for _, m := range now {
		if s.nodes[m.To] != nil {
			s.delivered = append(s.delivered, m)
		}
		s.step(m)
	}
}

// drop removes the queued messages that match accepts: the network lost
// them.
func (s *ruleNet) drop(match func(raftpb.Message) bool) {
	s.queue = slices.DeleteFunc(s.queue, match)
}

// queued returns the queued messages match accepts.
func (s *ruleNet) queued(match func(raftpb.Message) bool) []raftpb.Message {
	var out []raftpb.Message
	for _, m := range s.queue {
		if match(m) {
			out = append(out, m)
		}
	}
	return out
}

// elect makes node id campaign and delivers the election among the nodes
// in voters (all running nodes when none are named), then checks that id
// leads.
func (s *ruleNet) elect(id uint64, voters ...uint64) {
	s.t.Helper()
	must(s.t, s.nodes[id].Campaign())
	within := anyMsg
	if len(voters) > 0 {
		within = among(append(voters, id)...)
	}
	s.deliver(func(m raftpb.Message) bool {
		return within(m) && isElectionMsg(m.Type)
	})
	if st := s.nodes[id].state; st != StateLeader {
		s.t.Fatalf("node %d is %v after its election, want leader", id, st)
	}
}

func isElectionMsg(t raftpb.MessageType) bool {
	switch t {
	case raftpb.MsgVote, raftpb.MsgVoteResp, raftpb.MsgPreVote, raftpb.MsgPreVoteResp:
		return true
	}
	return false
}

// propose proposes data on node id, failing the test if it is refused.
func (s *ruleNet) propose(id uint64, data string) uint64 {
	s.t.Helper()
	index, _, err := s.nodes[id].Propose([]byte(data))
	if err != nil {
		s.t.Fatalf("node %d: Propose(%q): %v", id, data, err)
	}
	return index
}

// snapshotWork hands m to node id's snapshot worker: a chunk request is
// served at once from the node's disk; a chunk to save waits in chunkQ.
func (s *ruleNet) snapshotWork(id uint64, m raftpb.Message) {
	s.t.Helper()
	switch m.Type {
	case raftpb.MsgSnapChunkReq:
		snap, err := s.disk[id].Snapshot()
		must(s.t, err)
		s.send(ServeSnapshotChunkFrom(m, snap))
	case raftpb.MsgSnapChunk:
		s.chunkQ[id] = append(s.chunkQ[id], m)
	default:
		s.t.Fatalf("node %d handed its snapshot worker %v", id, m)
	}
}

// saveChunk runs node id's snapshot worker once: the oldest chunk waiting
// is written to the disk, then the worker reports it saved.
func (s *ruleNet) saveChunk(id uint64) {
	s.t.Helper()
	m := s.chunkQ[id][0]
	s.chunkQ[id] = s.chunkQ[id][1:]
	if s.saved[id] == nil {
		s.saved[id] = map[uint64]map[uint64][]byte{}
	}
	if s.saved[id][m.Index] == nil {
		s.saved[id][m.Index] = map[uint64][]byte{}
	}
	s.saved[id][m.Index][m.Commit] = append([]byte(nil), m.Context...)
	s.respond(id, m.Responses)
}

// assemble fills in the data of a snapshot node id installs from the
// chunks on its disk, in order, as far as they go.
func (s *ruleNet) assemble(id uint64, snap raftpb.Snapshot) raftpb.Snapshot {
	parts := s.saved[id][snap.Metadata.Index]
	if snap.Data != nil || parts == nil {
		return snap
	}
	for i := uint64(0); parts[i] != nil; i++ {
		snap.Data = append(snap.Data, parts[i]...)
	}
	return snap
}

// Message filters.

func anyMsg(raftpb.Message) bool { return true }

// to accepts messages addressed to one of ids.
func to(ids ...uint64) func(raftpb.Message) bool {
	return func(m raftpb.Message) bool { return slices.Contains(ids, m.To) }
}

// among accepts messages between two of ids.
func among(ids ...uint64) func(raftpb.Message) bool {
	return func(m raftpb.Message) bool { return slices.Contains(ids, m.To) && slices.Contains(ids, m.From) }
}

// ofType accepts messages of one of the types ts.
func ofType(ts ...raftpb.MessageType) func(raftpb.Message) bool {
	return func(m raftpb.Message) bool { return slices.Contains(ts, m.Type) }
}

// and accepts messages every filter accepts.
func and(fs ...func(raftpb.Message) bool) func(raftpb.Message) bool {
	return func(m raftpb.Message) bool {
		for _, f := range fs {
			if !f(m) {
				return false
			}
		}
		return true
	}
}

// not accepts what f refuses.
func not(f func(raftpb.Message) bool) func(raftpb.Message) bool {
	return func(m raftpb.Message) bool { return !f(m) }
}

// describeQueue lists the queued messages, for failure output.
func (s *ruleNet) describeQueue() string {
	out := ""
	for _, m := range s.queue {
		out += fmt.Sprintf("\n  %v", m)
	}
	return out
}
