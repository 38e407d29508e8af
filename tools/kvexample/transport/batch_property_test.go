package transport_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
	"pgregory.net/rapid"
)

// genContext draws a heartbeat Context in every form a batch must keep
// apart: nil, empty, a HeartbeatContext of small or huge numbers, and
// another library's bytes (16 of them included).
func genContext(t *rapid.T) []byte {
	switch rapid.IntRange(0, 5).Draw(t, "contextKind") {
	case 0:
		return nil
	case 1:
		return []byte{}
	case 2:
		return raftpb.HeartbeatContext{Round: rapid.Uint64Range(0, 1000).Draw(t, "round"), Tick: rapid.Uint64Range(0, 1<<20).Draw(t, "tick")}.Encode()
	case 3:
		return raftpb.HeartbeatContext{Round: rapid.Uint64().Draw(t, "round"), Tick: rapid.Uint64().Draw(t, "tick")}.Encode()
	case 4:
		return rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "raw16")
	}
	return rapid.SliceOfN(rapid.Byte(), 1, 40).Draw(t, "raw")
}

// genPeerType draws a message type a peer may send: any that is not local,
// including numbers no release knows.
func genPeerType(t *rapid.T) raftpb.MessageType {
	typ := raftpb.MessageType(rapid.OneOf(rapid.Int32Range(0, 70), rapid.Int32Range(0, 1<<20)).Draw(t, "type"))
	if raftpb.IsLocalMsg(typ) {
		return raftpb.MsgApp
	}
	return typ
}

// genGroupMessage draws a message from process from to process to of a
// random group: mostly heartbeats and their responses in the exact shape
// the core sends, some with one more field set (which must travel whole),
// and any other message.
func genGroupMessage(from, to uint64) *rapid.Generator[transport.GroupMessage] {
	return rapid.Custom(func(t *rapid.T) transport.GroupMessage {
		m := raftpb.Message{From: from, To: to, Term: rapid.Uint64().Draw(t, "term")}
		switch rapid.IntRange(0, 3).Draw(t, "shape") {
		case 0: // LogTerm, the term stated for Commit, is at most Term
			m.Type, m.Commit, m.Context = raftpb.MsgHeartbeat, rapid.Uint64().Draw(t, "commit"), genContext(t)
			m.LogTerm = rapid.OneOf(rapid.Just(m.Term), rapid.Just(uint64(0)), rapid.Uint64Range(0, m.Term)).Draw(t, "logTerm")
		case 1:
			m.Type, m.Context = raftpb.MsgHeartbeatResp, genContext(t)
		case 2: // a heartbeat or response with one field beyond the compact form
			m.Type = rapid.SampledFrom([]raftpb.MessageType{raftpb.MsgHeartbeat, raftpb.MsgHeartbeatResp}).Draw(t, "hbType")
			m.Context = genContext(t)
			switch rapid.IntRange(0, 7).Draw(t, "extra") {
			case 0: // beyond Term for a heartbeat
				m.LogTerm = m.Term + 1
			case 1:
				m.Index = 1
			case 2:
				m.Entries = []raftpb.Entry{{Term: 1, Index: 2}}
			case 3:
				m.Vote = 3
			case 4:
				m.Reject = true
			case 5:
				m.RejectHint = 4
			case 6:
				m.Snapshot = &raftpb.Snapshot{}
			case 7:
				m.Commit = 5 // a response with a commit
			}
		default:
			m.Type = genPeerType(t)
			m.LogTerm = rapid.Uint64().Draw(t, "logTerm")
			m.Index = rapid.Uint64().Draw(t, "index")
			m.Commit = rapid.Uint64().Draw(t, "commit")
			m.Reject = rapid.Bool().Draw(t, "reject")
			m.RejectHint = rapid.Uint64().Draw(t, "hint")
			m.Context = genContext(t)
			for i := range rapid.IntRange(0, 3).Draw(t, "entries") {
				m.Entries = append(m.Entries, raftpb.Entry{Term: m.Term, Index: m.Index + uint64(i) + 1, Data: genContext(t)})
			}
		}
		group := rapid.OneOf(rapid.Uint64Range(0, 300), rapid.Uint64()).Draw(t, "group")
		if rapid.IntRange(0, 5).Draw(t, "notice") == 0 {
			removed := rapid.OneOf(rapid.Uint64Range(1, 300), rapid.Uint64Range(1, 1<<64-1)).Draw(t, "removed")
			term := rapid.OneOf(rapid.Uint64Range(1, 300), rapid.Uint64Range(1, 1<<64-1)).Draw(t, "removed_term")
			return transport.GroupMessage{Group: group, Removed: removed, RemovedTerm: term, Message: raftpb.Message{From: from, To: to}}
		}
		return transport.GroupMessage{Group: group, Message: m}
	})
}

// viaRaftpb returns what raftpb's own codec makes of msgs' messages: the
// exact round trip a batch must match (it keeps a nil Context apart from
// an empty one, and turns an empty list into nil).
func viaRaftpb(t *rapid.T, msgs []transport.GroupMessage) []transport.GroupMessage {
	out := make([]transport.GroupMessage, len(msgs))
	for i, g := range msgs {
		out[i].Group, out[i].Removed, out[i].RemovedTerm = g.Group, g.Removed, g.RemovedTerm
		if err := out[i].Message.Unmarshal(g.Message.Marshal()); err != nil {
			t.Fatalf("raftpb round trip of %+v: %v", g.Message, err)
		}
	}
	return out
}

// Claim: any batch of messages of random groups, heartbeats and their
// responses and removed notices included, decodes into exactly the groups
// and messages encoded, in order: Term, Commit, LogTerm and Context (nil,
// empty, a read round and tick, or foreign bytes) of every heartbeat
// survive coalescing, a notice stays a notice with its index and term (and a
// message stays a message), and From and To are the connection's.
func TestBatchRoundTripsExactlyProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		from := rapid.Uint64Range(1, 1<<40).Draw(t, "from")
		to := rapid.Uint64Range(1, 1<<40).Filter(func(v uint64) bool { return v != from }).Draw(t, "to")
		msgs := rapid.SliceOfN(genGroupMessage(from, to), 1, 60).Draw(t, "msgs")
		want := viaRaftpb(t, msgs)
		frame := transport.AppendBatch(nil, from, to, msgs)
		got, err := transport.DecodeBatch(frame[transport.FrameHeaderBytes:], from, to)
		if err != nil {
			t.Fatalf("DecodeBatch: %v", err)
		}
		// cmp without EquateEmpty: nil and empty differ.
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("decoded batch differs (-want +got):\n%s", d)
		}
	})
}

// Claim: heartbeats and their responses in the shape the core sends are
// coalesced: a batch of one heartbeat and one response for each of 100
// groups takes under a third of the bytes their raftpb encodings take.
func TestHeartbeatsAreCoalescedIntoACompactForm(t *testing.T) {
	var msgs []transport.GroupMessage
	full := 0
	for g := uint64(1); g <= 100; g++ {
		ctx := raftpb.HeartbeatContext{Round: 40 + g, Tick: 9000 + g}.Encode()
		hb := raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 7, LogTerm: 7, Commit: 12345 + g, Context: ctx}
		resp := raftpb.Message{Type: raftpb.MsgHeartbeatResp, From: 1, To: 2, Term: 7, Context: ctx}
		msgs = append(msgs, transport.GroupMessage{Group: g, Message: hb}, transport.GroupMessage{Group: g, Message: resp})
		full += hb.Size() + resp.Size()
	}
	body := len(transport.AppendBatch(nil, 1, 2, msgs)) - transport.FrameHeaderBytes
	t.Logf("200 heartbeats and responses: %d bytes in a batch, %d as raftpb encodings (%.1f bytes each)", body, full, float64(body)/200)
	if body*3 > full {
		t.Fatalf("the batch takes %d bytes, raftpb %d: heartbeats are not coalesced", body, full)
	}
}

// Claim: the compact form of a heartbeat knows every field of
// raftpb.Message: a field added to Message fails this test until
// recordKind (batch.go) sends a heartbeat that sets it whole.
func TestHeartbeatCompactFormKnowsEveryMessageField(t *testing.T) {
	known := []string{"Type", "To", "From", "Term", "LogTerm", "Index", "Entries", "Commit", "Vote",
		"Snapshot", "Reject", "RejectHint", "Context", "Responses"}
	var fields []string
	typ := reflect.TypeOf(raftpb.Message{})
	for i := range typ.NumField() {
		fields = append(fields, typ.Field(i).Name)
	}
	slices.Sort(fields)
	slices.Sort(known)
	if !slices.Equal(fields, known) {
		t.Fatalf("raftpb.Message has fields %v; recordKind knows %v", fields, known)
	}
}
