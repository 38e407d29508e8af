package transport_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// record returns the bytes of one record of a batch from process 7 to
// process 2 carrying m of group.
func record(group uint64, m raftpb.Message) []byte {
	frame := transport.AppendBatch(nil, 7, 2, []transport.GroupMessage{{Group: group, Message: m}})
	return frame[transport.FrameHeaderBytes+1:] // the count of 1 is one byte
}

// rawBatch returns a batch body claiming count messages followed by the
// given bytes.
func rawBatch(count uint64, parts ...[]byte) []byte {
	body := binary.AppendUvarint(nil, count)
	for _, p := range parts {
		body = append(body, p...)
	}
	return body
}

// hostileBatch is a batch body that breaks the framing of a connection from
// process 7 to process 2, and the error it must be refused with.
type hostileBatch struct {
	name string
	body []byte
	want error
}

// hostileBatches each open with well-formed messages, so that delivering
// part of a frame would show.
func hostileBatches() []hostileBatch {
	app := record(1, raftpb.Message{Type: raftpb.MsgApp, From: 7, To: 2, Term: 2, Index: 5,
		Entries: []raftpb.Entry{{Term: 2, Index: 6, Data: []byte("x")}}})
	hb := record(2, raftpb.Message{Type: raftpb.MsgHeartbeat, From: 7, To: 2, Term: 2, LogTerm: 2, Commit: 5,
		Context: raftpb.HeartbeatContext{Round: 3, Tick: 4}.Encode()})
	resp := record(3, raftpb.Message{Type: raftpb.MsgHeartbeatResp, From: 7, To: 2, Term: 2})
	good := [][]byte{app, hb, resp}
	with := func(extra ...[]byte) []byte { return rawBatch(uint64(3+len(extra)), append(good, extra...)...) }
	forged := func(m raftpb.Message) []byte { return with(record(4, m)) }
	undecodable := append([]byte{1, 4, 3}, 0xff, 0xff, 0xff) // kind 1, group 4, 3 bytes that are no message
	// A removed notice with a raw index and term (AppendBatch writes no
	// notice at index 0) and the encoding of m.
	noticeOf := func(removed, term uint64, m raftpb.Message) []byte {
		b := binary.AppendUvarint([]byte{4, 5}, removed) // kind 4, group 5
		b = binary.AppendUvarint(b, term)
		b = binary.AppendUvarint(b, uint64(m.Size()))
		return m.AppendMarshal(b)
	}
	notice := func(removed uint64, m raftpb.Message) []byte { return noticeOf(removed, 2, m) }
	return []hostileBatch{
		{"removed notice at index 0", with(notice(0, raftpb.Message{From: 7, To: 2})), transport.ErrBatchRecord},
		{"removed notice of term 0", with(noticeOf(9, 0, raftpb.Message{From: 7, To: 2})), transport.ErrBatchRecord},
		{"removed notice with a term", with(notice(9, raftpb.Message{From: 7, To: 2, Term: 3})), transport.ErrBatchRecord},
		{"removed notice with a type", with(notice(9, raftpb.Message{Type: raftpb.MsgApp, From: 7, To: 2})), transport.ErrBatchRecord},
		{"removed notice with an empty context", with(notice(9, raftpb.Message{From: 7, To: 2, Context: []byte{}})), transport.ErrBatchRecord},
		{"removed notice that does not decode", with(append([]byte{4, 5, 9, 2, 3}, 0xff, 0xff, 0xff)), transport.ErrBatchRecord},
		{"removed notice cut short", with(notice(9, raftpb.Message{From: 7, To: 2})[:5]), transport.ErrBatchTruncated},
		{"removed notice from another process", with(notice(9, raftpb.Message{From: 8, To: 2})), transport.ErrBatchMisaddressed},
		{"removed notice to another process", with(notice(9, raftpb.Message{From: 7, To: 3})), transport.ErrBatchMisaddressed},
		{"count above the records", rawBatch(5, good...), transport.ErrBatchCount},
		{"count below the records", rawBatch(2, good...), transport.ErrBatchCount},
		{"count zero", rawBatch(0, good...), transport.ErrBatchCount},
		{"count above MaxBatchMsgs", rawBatch(transport.MaxBatchMsgs+1, good...), transport.ErrBatchCount},
		{"count more than the bytes can hold", rawBatch(20, good...), transport.ErrBatchCount},
		{"no count", nil, transport.ErrBatchCount},
		{"record cut short", with(app[:len(app)-2]), transport.ErrBatchTruncated},
		{"heartbeat cut inside its context", with(hb[:len(hb)-1]), transport.ErrBatchTruncated},
		// kind 2, group 4, term 2, stated term 3 below it, commit 5, nil context
		{"heartbeat stating a term below 0", with([]byte{2, 4, 2, 3, 5, 0}), transport.ErrBatchRecord},
		{"unknown record kind", with([]byte{9, 4, 0, 0}), transport.ErrBatchRecord},
		{"message that does not decode", with(undecodable), transport.ErrBatchRecord},
		{"message from another process", forged(raftpb.Message{Type: raftpb.MsgApp, From: 8, To: 2, Term: 2}), transport.ErrBatchMisaddressed},
		{"heartbeat from another process", forged(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 8, To: 2, Term: 2}), transport.ErrBatchMisaddressed},
		{"message to another process", forged(raftpb.Message{Type: raftpb.MsgVote, From: 7, To: 3, Term: 2}), transport.ErrBatchMisaddressed},
		{"message of a local type", forged(raftpb.Message{Type: raftpb.MsgHup, From: 7, To: 2}), transport.ErrBatchMisaddressed},
	}
}

// Claim: DecodeBatch refuses each hostile batch whole with an error wrapping
// ErrMalformed and the specific reason, and returns nothing of it.
func TestDecodeBatchRefusesHostileBatches(t *testing.T) {
	for _, tc := range hostileBatches() {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			got, err := transport.DecodeBatch(tc.body, 7, 2)
			if !errors.Is(err, transport.ErrMalformed) || !errors.Is(err, tc.want) || got != nil {
				t.Fatalf("DecodeBatch = %d messages, %v; want nothing and an error wrapping ErrMalformed and %v", len(got), err, tc.want)
			}
		})
	}
}

// Claim: on a multi-group transport, a connection sending a hostile batch
// is closed and counted as a decode error, nothing of its frame is
// delivered (not even the well-formed messages before the fault), and a
// real peer's link is unaffected. A frame above MaxFrameBytes and a
// single-group hello are refused likewise.
func TestHostileBatchesCloseOnlyTheirConnectionAndDeliverNothing(t *testing.T) {
	a, b := startGroupsPair(t, transport.Config{}, transport.Config{MaxFrameBytes: 1 << 20})
	seq := uint64(0)
	flows := func(t *testing.T) {
		t.Helper()
		seq++
		sent := []transport.GroupMessage{{Group: seq, Message: msgApp(1, 2, seq, 2, 64)}}
		a.SendGroups(sent)
		got := receiveGroups(t, b, 1)
		if d := diffGroupMessages(sent, flatten(got)); d != "" {
			t.Fatalf("the first batch after the attack is not the real peer's: %s", d)
		}
	}
	flows(t)
	hello := transport.AppendGroupsHello(nil, "", 7, 2)
	type attack struct {
		name      string
		input     []byte
		modeError bool
	}
	var attacks []attack
	for _, h := range hostileBatches() {
		frame := binary.BigEndian.AppendUint32(append([]byte(nil), hello...), uint32(len(h.body)))
		attacks = append(attacks, attack{name: h.name, input: append(frame, h.body...)})
	}
	attacks = append(attacks,
		attack{name: "frame above MaxFrameBytes", input: binary.BigEndian.AppendUint32(append([]byte(nil), hello...), 1<<20+1)},
		attack{name: "single-group hello", input: append(transport.AppendHello(nil, 7, 2), heartbeat(7, 2, 1)...), modeError: true})
	for _, tc := range attacks {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			before := b.Stats()
			conn := dialRaw(t, b.Addr().String(), tc.input)
			expectClosedByPeer(t, conn)
			waitFor(t, "the refusal to be counted", func() bool {
				s := b.Stats()
				return s.DecodeErrors+s.GroupModeErrors == before.DecodeErrors+before.GroupModeErrors+1
			})
			if s := b.Stats(); tc.modeError != (s.GroupModeErrors == before.GroupModeErrors+1) {
				t.Fatalf("stats %+v after %+v: counted as the wrong kind of refusal", s, before)
			}
			flows(t)
		})
	}
	if s := a.Stats(); s.Unreachable != 0 || s.Drops != 0 {
		t.Fatalf("the real link suffered: stats of process 1 = %+v", s)
	}
	if s := b.Stats(); s.MsgsReceived != seq {
		t.Fatalf("process 2 received %d messages, want the real peer's %d only", s.MsgsReceived, seq)
	}
}
