package raftpb_test

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

func TestTextFormsAreCompactAndStable(t *testing.T) {
	cc := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{
		{Type: raftpb.ConfChangeAddNode, NodeID: 4}, {Type: raftpb.ConfChangeAddLearnerNode, NodeID: 5}}}
	cases := []struct {
		got  string
		want string
	}{
		{raftpb.Entry{Term: 3, Index: 11, Data: []byte("x")}.String(), `3/11 EntryNormal "x"`},
		{raftpb.Entry{Term: 3, Index: 12}.String(), `3/12 EntryNormal`},
		{raftpb.Entry{Term: 3, Index: 13, Type: raftpb.EntryConfChangeV2, Data: cc.Marshal()}.String(), `3/13 EntryConfChangeV2 v4 l5`},
		{raftpb.Entry{Term: 1, Index: 1, Data: []byte("0123456789abcdef0123456789abcdefXYZ")}.String(), `1/1 EntryNormal "0123456789abcdef0123456789abcdef"+3B`},
		{raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: 3, LogTerm: 3, Index: 10, Commit: 9,
			Entries: []raftpb.Entry{{Term: 3, Index: 11, Data: []byte("x")}}}.String(),
			`1->2 MsgApp Term:3 Log:3/10 Commit:9 Entries:[3/11 EntryNormal "x"]`},
		{raftpb.Message{Type: raftpb.MsgAppResp, From: 2, To: 1, Term: 3, Index: 10, Reject: true, RejectHint: 7, LogTerm: 2}.String(),
			`2->1 MsgAppResp Term:3 Log:2/10 Rejected (Hint: 7)`},
		{raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 1, Context: raftpb.HeartbeatContext{Round: 2, Tick: 9}.Encode()}.String(),
			`1->2 MsgHeartbeat Term:1 Round:2 Tick:9`},
		{raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 4, LogTerm: 3, Commit: 12}.String(),
			`1->2 MsgHeartbeat Term:4 Commit:3/12`},
		{raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 4, Commit: 12}.String(),
			`1->2 MsgHeartbeat Term:4 Commit:12`},
		{raftpb.HardState{Term: 1, Vote: 2, Commit: 3}.String(), `Term:1 Vote:2 Commit:3`},
		{raftpb.HardState{Term: 4, Commit: 3, RecoveringTerm: 3}.String(), `Term:4 Vote:0 Commit:3 RecoveringTerm:3`},
		{raftpb.ConfState{Voters: []uint64{1, 2, 3}, VotersOutgoing: []uint64{1, 2}, Learners: []uint64{4}, LearnersNext: []uint64{3}, AutoLeave: true}.String(),
			`Voters:[1 2 3] VotersOutgoing:[1 2] Learners:[4] LearnersNext:[3] AutoLeave:true`},
		{raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 5, Term: 2, ConfState: raftpb.ConfState{Voters: []uint64{1}}}}.String(),
			`Index:5 Term:2 ConfState:(Voters:[1])`},
		{raftpb.ConfChangeV2{}.String(), `leave-joint`},
		{raftpb.ConfChangeV2{Transition: raftpb.ConfChangeTransitionJointExplicit, Changes: cc.Changes}.String(), `JointExplicit: v4 l5`},
		{raftpb.ConfChange{ID: 7, Type: raftpb.ConfChangeRemoveNode, NodeID: 3}.String(), `ID:7 r3`},
		{raftpb.MessageType(99).String(), `MessageType(99)`},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
}

func TestEntryConfChangeDecodesBothFormsAndNothingElse(t *testing.T) {
	v1 := raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode, NodeID: 3}
	v2 := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddNode, NodeID: 4}}}
	for _, tc := range []struct {
		e    raftpb.Entry
		want string
	}{
		{raftpb.Entry{Type: raftpb.EntryConfChange, Data: v1.Marshal()}, "r3"},
		{raftpb.Entry{Type: raftpb.EntryConfChangeV2, Data: v2.Marshal()}, "v4"},
	} {
		cc, err := tc.e.ConfChange()
		if err != nil || cc == nil || cc.String() != tc.want {
			t.Errorf("ConfChange of %v = %v, %v; want %s", tc.e.Type, cc, err, tc.want)
		}
	}
	if cc, err := (&raftpb.Entry{Data: []byte("x")}).ConfChange(); cc != nil || err != nil {
		t.Errorf("a normal entry gave %v, %v", cc, err)
	}
	if _, err := (&raftpb.Entry{Type: raftpb.EntryConfChangeV2, Data: []byte{0xff}}).ConfChange(); err == nil {
		t.Error("malformed conf change data decoded")
	}
}

// TestHeartbeatContextRoundTripsAndForeignContextsDoNotDecode: the read
// round and tick survive the encoding, and another library's context is
// not mistaken for one.
func TestHeartbeatContextRoundTripsAndForeignContextsDoNotDecode(t *testing.T) {
	c, ok := raftpb.DecodeHeartbeatContext(raftpb.HeartbeatContext{Round: 3, Tick: 8}.Encode())
	if !ok || c.Round != 3 || c.Tick != 8 {
		t.Fatalf("got %+v %v", c, ok)
	}
	if _, ok := raftpb.DecodeHeartbeatContext([]byte("etcd-ctx")); ok {
		t.Fatal("a foreign context decoded")
	}
}

// TestIsResponseMsgKnowsEveryAnswer: the answers, the chunked transfer's
// included, are responses; the requests they answer are not.
func TestIsResponseMsgKnowsEveryAnswer(t *testing.T) {
	for _, tc := range []struct {
		t    raftpb.MessageType
		resp bool
	}{
		{raftpb.MsgAppResp, true}, {raftpb.MsgHeartbeatResp, true}, {raftpb.MsgReadIndexResp, true},
		{raftpb.MsgSnapChunk, true}, {raftpb.MsgSnapChunkSaved, true}, {raftpb.MsgStorageApplyResp, true},
		{raftpb.MsgApp, false}, {raftpb.MsgSnapChunkReq, false}, {raftpb.MsgSnapOffer, false}, {raftpb.MsgVote, false},
	} {
		if got := raftpb.IsResponseMsg(tc.t); got != tc.resp {
			t.Errorf("IsResponseMsg(%v) = %v, want %v", tc.t, got, tc.resp)
		}
	}
}
