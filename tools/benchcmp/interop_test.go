package benchcmp

import (
	"testing"

	etcd "go.etcd.io/raft/v3"
	etcdpb "go.etcd.io/raft/v3/raftpb"

	tickraft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/benchcmp/etcddriver"
)

// This file runs a two-member group of one tickraft node and one etcd raft
// node, passing every message between them as bytes, each library
// decoding the other's encoding with its own codec: what a mixed cluster
// does on the wire. It checks the one field whose use the libraries do
// not share on a heartbeat, LogTerm (the term a tickraft leader states for
// the commit index it sends; etcd's leaders send 0 and its followers
// ignore it).

// member is one node of the mixed group, behind its own library.
type member interface {
	// stepBytes decodes b with the member's codec and steps it.
	stepBytes(b []byte) error
	// drain handles every Ready, persisting it to the member's storage,
	// and returns the encoded messages to the other member.
	drain() ([][]byte, error)
	// campaign, propose and tick are the library's own calls.
	campaign() error
	propose(data []byte) error
	tick()
	// durableCommit is the commit index in the member's storage.
	durableCommit() uint64
}

// tickraftMember is a tickraft node in the synchronous loop.
type tickraftMember struct {
	rn *tickraft.RawNode
	st *tickraft.MemoryStorage
}

func (m *tickraftMember) stepBytes(b []byte) error {
	var msg raftpb.Message
	if err := msg.Unmarshal(b); err != nil {
		return err
	}
	return m.rn.Step(msg)
}

func (m *tickraftMember) drain() ([][]byte, error) {
	var out [][]byte
	for m.rn.HasReady() {
		rd := m.rn.Ready()
		if !rd.Snapshot.IsEmpty() {
			if err := m.st.ApplySnapshot(rd.Snapshot); err != nil {
				return nil, err
			}
		}
		if err := m.st.Append(rd.Entries); err != nil {
			return nil, err
		}
		if !rd.HardState.IsEmpty() {
			if err := m.st.SetHardState(rd.HardState); err != nil {
				return nil, err
			}
		}
		for _, msg := range append(rd.Messages, rd.MessagesAfterPersist...) {
			out = append(out, msg.Marshal())
		}
		m.rn.Advance()
	}
	return out, nil
}

func (m *tickraftMember) campaign() error { return m.rn.Campaign() }
func (m *tickraftMember) propose(data []byte) error {
	_, _, err := m.rn.Propose(data)
	return err
}
func (m *tickraftMember) tick() { m.rn.Tick() }
func (m *tickraftMember) durableCommit() uint64 {
	hs, _, _ := m.st.InitialState()
	return hs.Commit
}

// etcdMember is an etcd raft node in its synchronous loop.
type etcdMember struct {
	rn *etcd.RawNode
	st *etcd.MemoryStorage
}

func (m *etcdMember) stepBytes(b []byte) error {
	var msg etcdpb.Message
	if err := msg.Unmarshal(b); err != nil {
		return err
	}
	return m.rn.Step(msg)
}

func (m *etcdMember) drain() ([][]byte, error) {
	var out [][]byte
	for m.rn.HasReady() {
		rd := m.rn.Ready()
		if !etcd.IsEmptySnap(rd.Snapshot) {
			if err := m.st.ApplySnapshot(rd.Snapshot); err != nil {
				return nil, err
			}
		}
		if err := m.st.Append(rd.Entries); err != nil {
			return nil, err
		}
		if !etcd.IsEmptyHardState(rd.HardState) {
			if err := m.st.SetHardState(rd.HardState); err != nil {
				return nil, err
			}
		}
		for _, msg := range rd.Messages {
			b, err := msg.Marshal()
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
		m.rn.Advance(rd)
	}
	return out, nil
}

func (m *etcdMember) campaign() error { return m.rn.Campaign() }
func (m *etcdMember) propose(data []byte) error {
	return m.rn.Propose(data)
}
func (m *etcdMember) tick() { m.rn.Tick() }
func (m *etcdMember) durableCommit() uint64 {
	hs, _, _ := m.st.InitialState()
	return hs.Commit
}

// newMixedGroup returns the tickraft member (ID 1) and the etcd member
// (ID 2) of a group whose storages both start from a snapshot at index 1,
// term 1, naming both as voters.
func newMixedGroup(t *testing.T) (*tickraftMember, *etcdMember) {
	t.Helper()
	tst := tickraft.NewMemoryStorage()
	must(t, tst.ApplySnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 1, Term: 1,
		ConfState: raftpb.ConfState{Voters: []uint64{1, 2}}}}))
	trn, err := tickraft.NewRawNode(&tickraft.Config{ID: 1, Storage: tst, ElectionTick: 10, HeartbeatTick: 1})
	must(t, err)
	est := etcd.NewMemoryStorage()
	must(t, est.ApplySnapshot(etcdpb.Snapshot{Metadata: etcdpb.SnapshotMetadata{Index: 1, Term: 1,
		ConfState: etcdpb.ConfState{Voters: []uint64{1, 2}}}}))
	ern, err := etcd.NewRawNode(&etcd.Config{ID: 2, Storage: est, ElectionTick: 10, HeartbeatTick: 1,
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 64, CheckQuorum: true, PreVote: true, Logger: etcddriver.DiscardLogger{}})
	must(t, err)
	return &tickraftMember{rn: trn, st: tst}, &etcdMember{rn: ern, st: est}
}

// exchange delivers the members' messages to each other, as bytes, until
// neither has anything to send; pass sees each message (its sender and
// bytes, decoded by tickraft's codec for the test's eyes) and drops it by
// returning false.
func exchange(t *testing.T, a, b member, pass func(from member, m raftpb.Message) bool) {
	t.Helper()
	for round := 0; round < 100; round++ {
		moved := false
		for _, from := range []member{a, b} {
			to := b
			if from == b {
				to = a
			}
			out, err := from.drain()
			must(t, err)
			for _, bytes := range out {
				var m raftpb.Message
				must(t, m.Unmarshal(bytes))
				if pass != nil && !pass(from, m) {
					continue
				}
				moved = true
				if err := to.stepBytes(bytes); err != nil {
					t.Fatalf("step %v: %v", m, err)
				}
			}
		}
		if !moved {
			return
		}
	}
	t.Fatal("the mixed group never quiesced")
}

// commitViaHeartbeat elects leader, has it commit a proposal while every
// append to the follower that carries no entries (the one that would tell
// it the new commit index) is dropped, and returns the heartbeats the
// leader then sends, after which the follower's durable commit index must
// be the leader's.
func commitViaHeartbeat(t *testing.T, leader, follower member) []raftpb.Message {
	t.Helper()
	must(t, leader.campaign())
	exchange(t, leader, follower, nil)
	must(t, leader.propose([]byte("x")))
	exchange(t, leader, follower, func(from member, m raftpb.Message) bool {
		return !(from == leader && m.Type == raftpb.MsgApp && len(m.Entries) == 0)
	})
	if got, want := follower.durableCommit(), leader.durableCommit(); got >= want {
		t.Fatalf("setup: the follower's commit index %d already reaches the leader's %d", got, want)
	}
	var heartbeats []raftpb.Message
	leader.tick()
	exchange(t, leader, follower, func(from member, m raftpb.Message) bool {
		if m.Type == raftpb.MsgHeartbeat {
			heartbeats = append(heartbeats, m)
		}
		return m.Type != raftpb.MsgApp
	})
	if got, want := follower.durableCommit(), leader.durableCommit(); got != want {
		t.Fatalf("the follower's commit index is %d after the heartbeats %v, want the leader's %d", got, heartbeats, want)
	}
	return heartbeats
}

// Claim: an etcd raft follower takes the commit index of a tickraft
// leader's heartbeat, which states its term in LogTerm (etcd ignores the
// field), and answers it.
func TestAnEtcdFollowerTakesTheCommitOfATickraftHeartbeatStatingItsTerm(t *testing.T) {
	tr, et := newMixedGroup(t)
	hbs := commitViaHeartbeat(t, tr, et)
	stated := false
	for _, m := range hbs {
		stated = stated || (m.LogTerm != 0 && m.Commit == tr.durableCommit())
	}
	if !stated {
		t.Fatalf("no heartbeat stating the term of commit %d among %v", tr.durableCommit(), hbs)
	}
}

// Claim: a tickraft follower takes the commit index of an etcd raft
// leader's heartbeat, which states no term (LogTerm 0).
func TestATickraftFollowerTakesTheCommitOfAnEtcdHeartbeatStatingNoTerm(t *testing.T) {
	tr, et := newMixedGroup(t)
	hbs := commitViaHeartbeat(t, et, tr)
	for _, m := range hbs {
		if m.LogTerm != 0 {
			t.Fatalf("etcd's heartbeat %v states a term", m)
		}
	}
	if len(hbs) == 0 {
		t.Fatal("etcd's leader sent no heartbeat")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
