package raftslog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftslog"
)

// TestJSONLinesCarryNodeTermAndPeer runs a real node with the adapter over
// slog's JSON handler and reads the records back: each carries the node's
// ID and term as numbers, a line about a peer names it, and message types
// are text.
func TestJSONLinesCarryNodeTermAndPeer(t *testing.T) {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	st := raft.NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1, 2, 3}})
	rn, err := raft.NewRawNode(&raft.Config{ID: 1, Storage: st, Logger: raftslog.New(slog.New(h))})
	if err != nil {
		t.Fatal(err)
	}
	// Node 2 leads term 5; then a message of term 1 from node 3 is ignored.
	if err := rn.Step(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 5}); err != nil {
		t.Fatal(err)
	}
	if err := rn.Step(raftpb.Message{Type: raftpb.MsgVoteResp, From: 3, To: 1, Term: 1}); err != nil {
		t.Fatal(err)
	}
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		records = append(records, r)
	}
	if len(records) < 2 {
		t.Fatalf("%d records: %s", len(records), buf.String())
	}
	for _, r := range records {
		if r["node"] != float64(1) || r["term"] == nil {
			t.Errorf("record without node 1 and a term: %v", r)
		}
	}
	last := records[len(records)-1]
	if last["level"] != "DEBUG" || last["peer"] != float64(3) || last["msg_term"] != float64(1) || last["msg_type"] != "MsgVoteResp" ||
		last["term"] != float64(5) || last["msg"] != "ignored a message of a lower term" {
		t.Fatalf("the ignored message's record: %v", last)
	}
	if follower := records[len(records)-2]; follower["msg"] != "became follower" || follower["leader"] != float64(2) {
		t.Fatalf("the role change's record: %v", follower)
	}
}

// TestTheHandlersLevelDecides: lines below the handler's level are not
// built, and Enabled says so.
func TestTheHandlersLevelDecides(t *testing.T) {
	var buf bytes.Buffer
	l := raftslog.New(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if l.Enabled(raft.LevelInfo) || !l.Enabled(raft.LevelWarn) {
		t.Fatal("Enabled does not follow the handler's level")
	}
	l.Log(raft.LevelWarn, "w", []raft.Attr{{Key: "err", Value: raft.ErrNoLeader}, {Key: "type", Value: raftpb.MsgApp}})
	if !strings.Contains(buf.String(), `"err":"raft: no leader"`) || !strings.Contains(buf.String(), `"type":"MsgApp"`) {
		t.Fatalf("record %s", buf.String())
	}
}
