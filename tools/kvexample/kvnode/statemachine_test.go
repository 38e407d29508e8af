package kvnode

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// Claim: two state machines that applied the same commands, in whatever
// order their maps were filled, encode to the same bytes, and decoding
// gives the state back: followers can serve chunks of their snapshots.
func TestStateEncodingIsDeterministicAndRoundTrips(t *testing.T) {
	a, b := newStateMachine(), newStateMachine()
	for i := 0; i < 200; i++ {
		key := fmt.Sprintf("key-%d", (i*37)%200)
		if err := a.apply(encodeCommand(opPut, key, []byte(key+"-value"))); err != nil {
			t.Fatal(err)
		}
	}
	for i := 199; i >= 0; i-- {
		key := fmt.Sprintf("key-%d", i)
		b.apply(encodeCommand(opPut, key, []byte(key+"-value")))
	}
	a.apply(encodeCommand(opDelete, "key-7", nil))
	b.apply(encodeCommand(opDelete, "key-7", nil))
	ctx := []byte(`{"id":4,"raft":"127.0.0.1:1","http":"127.0.0.1:2"}`)
	cc := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 4}}, Context: ctx}
	a.applyConfChange(cc)
	b.applyConfChange(cc)
	ea, eb := a.encode(), b.encode()
	if !bytes.Equal(ea, eb) {
		t.Fatalf("the same state encodes differently:\n%x\n%x", ea, eb)
	}
	got, err := decodeState(ea)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.kv) != 199 || string(got.kv["key-8"]) != "key-8-value" || got.kv["key-7"] != nil {
		t.Fatalf("decoded %d keys, key-8=%q key-7=%q", len(got.kv), got.kv["key-8"], got.kv["key-7"])
	}
	if got.members[4] != (Member{Raft: "127.0.0.1:1", HTTP: "127.0.0.1:2"}) {
		t.Fatalf("decoded members %v", got.members)
	}
	if !bytes.Equal(got.encode(), ea) {
		t.Fatal("re-encoding the decoded state changed it")
	}
}

// Claim: malformed commands and snapshots are refused with an error,
// never a panic, and a refused command changes nothing.
func TestMalformedCommandsAndSnapshotsAreRefused(t *testing.T) {
	sm := newStateMachine()
	for _, data := range [][]byte{nil, {'X'}, {opPut}, {opPut, 0x80}, {opPut, 5, 'a'}} {
		if err := sm.apply(data); !errors.Is(err, errMalformed) {
			t.Errorf("apply(%x) = %v, want errMalformed", data, err)
		}
	}
	if len(sm.kv) != 0 {
		t.Fatalf("refused commands changed the state: %v", sm.kv)
	}
	good := sm.encode()
	for _, data := range [][]byte{nil, []byte("nope"), good[:len(good)-1], append(append([]byte(nil), good...), 0), []byte(snapMagic + "\x01\xff")} {
		if _, err := decodeState(data); !errors.Is(err, errMalformed) {
			t.Errorf("decodeState(%q) = %v, want errMalformed", data, err)
		}
	}
}

// Claim: ParsePeers reads what FormatPeers writes and refuses bad items.
func TestParsePeersRoundTripsAndRefusesBadItems(t *testing.T) {
	peers := []Peer{{1, "127.0.0.1:7001", "127.0.0.1:8001"}, {2, "127.0.0.1:7002", "127.0.0.1:8002"}}
	got, err := ParsePeers(FormatPeers(peers))
	if err != nil || len(got) != 2 || got[0] != peers[0] || got[1] != peers[1] {
		t.Fatalf("ParsePeers(FormatPeers(%v)) = %v, %v", peers, got, err)
	}
	for _, bad := range []string{"x=a=b", "0=a=b", "1", "1=a=b=c"} {
		if _, err := ParsePeers(bad); err == nil {
			t.Errorf("ParsePeers(%q) accepted it", bad)
		}
	}
}
