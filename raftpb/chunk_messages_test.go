package raftpb_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// TestChunkMessagesRoundTripThroughTheirTypedViews: each typed view's
// Message, parsed back, gives the same view; and the wire form is the
// documented reuse of etcd's fields, so peers that print or relay them
// see what they always saw.
func TestChunkMessagesRoundTripThroughTheirTypedViews(t *testing.T) {
	id := raftpb.ChunkID{Index: 100, Term: 2, Chunk: 3}
	meta := raftpb.SnapshotMetadata{Index: 100, Term: 2, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
	offer := raftpb.SnapshotOffer{To: 4, Snapshot: meta, Chunks: 8, Size: 4096, Sources: []uint64{1, 2}}
	if got, err := raftpb.ParseSnapshotOffer(offer.Message()); err != nil || !reflect.DeepEqual(got, offer) {
		t.Errorf("offer: %+v, %v; want %+v", got, err, offer)
	}
	req := raftpb.ChunkRequest{To: 2, From: 4, ID: id, Size: 4096}
	if got, err := raftpb.ParseChunkRequest(req.Message()); err != nil || got != req {
		t.Errorf("request: %+v, %v; want %+v", got, err, req)
	}
	for _, c := range []raftpb.Chunk{
		{To: 4, From: 2, ID: id, Data: []byte("abc")},
		{To: 4, From: 2, ID: id, Refused: true, Why: raftpb.ChunkBusy},
		{To: 4, From: 2, ID: id, Refused: true, Why: raftpb.ChunkNotHeld},
	} {
		if got, err := raftpb.ParseChunk(c.Message()); err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("chunk: %+v, %v; want %+v", got, err, c)
		}
	}
	saved := raftpb.ChunkSaved{To: 4, From: 5, ID: id}
	if got, err := raftpb.ParseChunkSaved(saved.Message()); err != nil || got != saved {
		t.Errorf("saved: %+v, %v; want %+v", got, err, saved)
	}
	m := req.Message()
	if m.Index != 100 || m.LogTerm != 2 || m.Commit != 3 || m.RejectHint != 4096 || m.Term != 0 {
		t.Errorf("the request's wire form moved: %+v", m)
	}
	if o := offer.Message(); o.Index != 8 || o.RejectHint != 4096 || o.Snapshot.Data != nil {
		t.Errorf("the offer's wire form moved: %+v", o)
	}
}

// TestChunkMessageParsersRefuseWhatNoSenderWrites: another type, entries,
// a snapshot, data on a request or a refusal, an offer with data or with
// a source list that does not decode.
func TestChunkMessageParsersRefuseWhatNoSenderWrites(t *testing.T) {
	id := raftpb.ChunkID{Index: 100, Term: 2, Chunk: 3}
	req := raftpb.ChunkRequest{To: 2, From: 4, ID: id, Size: 8}.Message()
	withEntries := req
	withEntries.Entries = []raftpb.Entry{{Index: 1}}
	withData := req
	withData.Context = []byte("x")
	refusedWithData := raftpb.Chunk{ID: id, Refused: true}.Message()
	refusedWithData.Context = []byte("x")
	offer := raftpb.SnapshotOffer{To: 4, Snapshot: raftpb.SnapshotMetadata{Index: 1, Term: 1}, Chunks: 1, Size: 8, Sources: []uint64{1}}.Message()
	offerData := offer
	offerData.Snapshot = &raftpb.Snapshot{Data: []byte("x")}
	offerBadSources := offer
	offerBadSources.Context = []byte{0}
	for name, parse := range map[string]func() error{
		"request of another type":  func() error { _, err := raftpb.ParseChunkRequest(raftpb.Message{Type: raftpb.MsgApp}); return err },
		"request with entries":     func() error { _, err := raftpb.ParseChunkRequest(withEntries); return err },
		"request with data":        func() error { _, err := raftpb.ParseChunkRequest(withData); return err },
		"chunk of another type":    func() error { _, err := raftpb.ParseChunk(req); return err },
		"refusal with data":        func() error { _, err := raftpb.ParseChunk(refusedWithData); return err },
		"saved of another type":    func() error { _, err := raftpb.ParseChunkSaved(req); return err },
		"offer with data":          func() error { _, err := raftpb.ParseSnapshotOffer(offerData); return err },
		"offer with bad sources":   func() error { _, err := raftpb.ParseSnapshotOffer(offerBadSources); return err },
		"offer without a snapshot": func() error { o := offer; o.Snapshot = nil; _, err := raftpb.ParseSnapshotOffer(o); return err },
		"offer of another type":    func() error { _, err := raftpb.ParseSnapshotOffer(req); return err },
	} {
		if err := parse(); !errors.Is(err, raftpb.ErrMalformedChunkMessage) {
			t.Errorf("%s: %v, want ErrMalformedChunkMessage", name, err)
		}
	}
}
