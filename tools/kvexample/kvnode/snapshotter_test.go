package kvnode

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal/snapfile"
)

// Claim: the snapshot worker writes the state as it was when the loop took
// its copy, not as the loop changed it afterwards, and the file it saves
// is durable and loads back: the loop may go on applying while the worker
// serializes.
func TestSnapshotWorkerSavesTheStateAsOfTheTake(t *testing.T) {
	sm := newStateMachine()
	for _, k := range []string{"a", "b", "c"} {
		if err := sm.apply(encodeCommand(opPut, k, []byte(k+"-old"))); err != nil {
			t.Fatal(err)
		}
	}
	store, err := snapfile.Open(t.TempDir(), snapfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := newSnapshotter()
	meta := raftpb.SnapshotMetadata{Index: 40, Term: 2, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
	s.takes.push(snapTake{sm: sm.clone(), meta: meta})
	// The loop applies on before the worker runs.
	sm.apply(encodeCommand(opPut, "a", []byte("a-new")))
	sm.apply(encodeCommand(opDelete, "b", nil))
	sm.apply(encodeCommand(opPut, "d", []byte("d-new")))
	stop := make(chan struct{})
	go runSnapshotWorker(&s, store, stop)
	defer func() { close(stop); <-s.done }()
	var saved snapSaved
	select {
	case <-s.saved.ready():
		saved = s.saved.take()[0]
	case <-time.After(10 * time.Second):
		t.Fatal("the worker saved nothing")
	}
	if saved.err != nil {
		t.Fatal(saved.err)
	}
	onDisk, err := store.LoadAt(meta.Index, meta.Term)
	if err != nil {
		t.Fatalf("the saved snapshot's file: %v", err)
	}
	got, err := decodeState(onDisk.Data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "a-old", "b": "b-old", "c": "c-old"}
	if len(got.kv) != len(want) {
		t.Fatalf("snapshot holds %d keys, want %d: %v", len(got.kv), len(want), got.kv)
	}
	for k, v := range want {
		if string(got.kv[k]) != v {
			t.Errorf("snapshot holds %s=%q, want %q", k, got.kv[k], v)
		}
	}
}

// Claim: the loop records a snapshot, compacts its log and has the marker
// written only for a snapshot whose file was saved; a failed save changes
// neither the in-memory storage nor the log, and frees the worker for the
// next interval.
func TestOnlyADurableSnapshotCompactsTheLog(t *testing.T) {
	n := &Node{
		cfg:     Config{KeepEntries: 5},
		log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		storage: raft.NewMemoryStorage(),
		jobs:    newQueue[diskJob](),
		snapper: newSnapshotter(),
	}
	var ents []raftpb.Entry
	for i := uint64(1); i <= 100; i++ {
		ents = append(ents, raftpb.Entry{Index: i, Term: 1})
	}
	if err := n.storage.Append(ents); err != nil {
		t.Fatal(err)
	}
	snapAt := func(i uint64) raftpb.Snapshot {
		return raftpb.Snapshot{Data: newStateMachine().encode(), Metadata: raftpb.SnapshotMetadata{Index: i, Term: 1}}
	}

	n.snapper.busy = true
	n.snapper.saved.push(snapSaved{snap: snapAt(40), err: errors.New("disk full")})
	n.completeSnapshots()
	if first, _ := n.storage.FirstIndex(); first != 1 {
		t.Errorf("after a failed save the log starts at %d, want 1", first)
	}
	if held, _ := n.storage.Snapshot(); held.Metadata.Index != 0 {
		t.Errorf("after a failed save the storage holds the snapshot at %d", held.Metadata.Index)
	}
	if jobs := n.jobs.take(); len(jobs) != 0 {
		t.Errorf("after a failed save %d disk jobs were queued", len(jobs))
	}
	if n.snapper.busy {
		t.Error("the worker is still marked busy after its save failed")
	}

	n.snapper.busy = true
	n.snapper.saved.push(snapSaved{snap: snapAt(60)})
	n.completeSnapshots()
	if first, _ := n.storage.FirstIndex(); first != 56 {
		t.Errorf("after a saved snapshot at 60 the log starts at %d, want 56 (KeepEntries 5)", first)
	}
	if held, _ := n.storage.Snapshot(); held.Metadata.Index != 60 {
		t.Errorf("the storage holds the snapshot at %d, want 60", held.Metadata.Index)
	}
	jobs := n.jobs.take()
	if len(jobs) != 1 || jobs[0].kind != jobSnapshotMarker || jobs[0].snap.Metadata.Index != 60 || len(jobs[0].snap.Data) != 0 {
		t.Fatalf("queued disk jobs %+v, want one marker at 60 without the data", jobs)
	}
	if n.snapper.busy {
		t.Error("the worker is still marked busy after its save")
	}
}
