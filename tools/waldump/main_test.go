package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/kvnode"
	"github.com/tickraft/raft/tools/wal"
)

// writeExampleLog runs a one-node example server (tools/kvexample/kvnode)
// with its data in a temporary directory, writes keys through its HTTP
// API, stops it and returns the data directory: a log written by the
// example server's own code.
func writeExampleLog(t *testing.T, keys int) string {
	t.Helper()
	dir := t.TempDir()
	addrs, err := kvnode.LoopbackAddrs(2)
	if err != nil {
		t.Fatal(err)
	}
	n, err := kvnode.Start(kvnode.Config{ID: 1, DataDir: dir, RaftAddr: addrs[0], HTTPAddr: addrs[1],
		TickInterval: 10 * time.Millisecond, ElectionTicks: 10, HeartbeatTicks: 1, Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	c := kvnode.NewClient(n.HTTPAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < keys; i++ {
		if _, err := c.Put(ctx, fmt.Sprintf("key-%d", i), []byte(fmt.Sprintf("value-%d", i))); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Claim: waldump prints a log the example server wrote, record by record
// in the transcript notation, with the state it adds up to and the
// snapshot files, and -verify finds it intact.
func TestDumpOfTheExampleServersLog(t *testing.T) {
	dir := writeExampleLog(t, 5)
	var out bytes.Buffer
	if code := run(&out, dir, false); code != 0 {
		t.Fatalf("dump exited %d:\n%s", code, &out)
	}
	for _, want := range []string{
		"segment 0000000000000001-0000000000000001.wal: seq 1, first index 1, format version 1, group 0",
		"snapshot Index:1 Term:1 ConfState:(Voters:[1])",
		"hard state Term:",
		"EntryNormal",
		"state: hard state Term:",
		"snapshot file 0000000000000001-0000000000000001.snap: Index:1 Term:1",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the dump lacks %q:\n%s", want, &out)
		}
	}
	out.Reset()
	if code := run(&out, dir, true); code != 0 || out.String() != "ok\n" {
		t.Fatalf("-verify exited %d:\n%s", code, &out)
	}
}

// Claim: -verify names the file and offset of the first damaged record,
// and exits 1.
func TestVerifyNamesTheFirstDamage(t *testing.T) {
	dir := writeExampleLog(t, 5)
	segs, err := wal.Inspect(nil, filepath.Join(dir, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	seg := segs[0]
	victim := seg.Records[2]
	data, err := os.ReadFile(seg.Path)
	if err != nil {
		t.Fatal(err)
	}
	data[victim.Offset+victim.Size-1] ^= 0xff
	if err := os.WriteFile(seg.Path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := run(&out, dir, true)
	want := fmt.Sprintf("damage: %s at offset %d: payload checksum mismatch", seg.Path, victim.Offset)
	if code != 1 || !strings.HasPrefix(out.String(), want) {
		t.Fatalf("-verify exited %d with:\n%s\nwant status 1 and %q", code, &out, want)
	}
}

// Claim: waldump lists a shared log's records with their groups and sums
// them up group by group; -group G lists group G's records alone, and
// -verify finds the log intact.
func TestDumpOfASharedLogListsEachGroup(t *testing.T) {
	dir := t.TempDir()
	l, _, err := wal.OpenShared(dir, wal.Options{SegmentBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 8; i++ {
		batch := []wal.Update{
			{Group: 1, Entries: []raftpb.Entry{{Term: 1, Index: i, Data: bytes.Repeat([]byte("a"), 100)}}, HardState: raftpb.HardState{Term: 1, Commit: i}},
			{Group: 2, Entries: []raftpb.Entry{{Term: 2, Index: i, Data: []byte("b")}}},
		}
		if err := l.Save(batch, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := run(&out, dir, false); code != 0 {
		t.Fatalf("dump exited %d:\n%s", code, &out)
	}
	for _, want := range []string{
		"segment 0000000000000001-shared.wal: seq 1, shared by many groups, format version 2",
		"segment 0000000000000002-shared.wal",
		"group record: first index",
		"[group 2, synced",
		"state of group 1: hard state Term:1 Vote:0 Commit:8; snapshot Index:0 Term:0 ConfState:(Voters:[]); entries 1..8 (8)",
		"state of group 2: hard state Term:0 Vote:0 Commit:0; snapshot Index:0 Term:0 ConfState:(Voters:[]); entries 1..8 (8)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the dump lacks %q:\n%s", want, &out)
		}
	}
	out.Reset()
	two := uint64(2)
	if code := runGroup(&out, dir, false, &two); code != 0 || strings.Contains(out.String(), "group 1") || !strings.Contains(out.String(), "state of group 2") {
		t.Errorf("-group 2 exited %d with records or state of group 1, or without group 2's state:\n%s", code, &out)
	}
	out.Reset()
	if code := run(&out, dir, true); code != 0 || out.String() != "ok\n" {
		t.Fatalf("-verify exited %d:\n%s", code, &out)
	}
}

// Claim: waldump finds a wal.SharedStorage's log in DIR/wal and lists the
// snapshot files of each group under DIR/snap/GROUP.
func TestDumpOfASharedStorageListsEachGroupsSnapshots(t *testing.T) {
	dir := t.TempDir()
	s, err := wal.OpenSharedStorage(dir, wal.Options{SegmentBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Group(10)
	if err != nil {
		t.Fatal(err)
	}
	cs := raftpb.ConfState{Voters: []uint64{1}}
	if err := g.Bootstrap(cs); err != nil {
		t.Fatal(err)
	}
	if err := g.Save(raft.Ready{HardState: raftpb.HardState{Term: 1, Commit: 2}, Entries: []raftpb.Entry{{Term: 1, Index: 1}, {Term: 1, Index: 2}}, MustSync: true}); err != nil {
		t.Fatal(err)
	}
	if err := g.Compact(2, cs, []byte("state")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := run(&out, dir, false); code != 0 {
		t.Fatalf("dump exited %d:\n%s", code, &out)
	}
	for _, want := range []string{"state of group 10: hard state Term:1", "snapshot file 000000000000000a/"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the dump lacks %q:\n%s", want, &out)
		}
	}
}

// Claim: waldump shows a group's drop and the tombstones segment heads
// restate, and sums the group up as dropped with its term and vote, or,
// once saved again, as live from what followed the drop.
func TestDumpShowsADroppedGroupsTombstone(t *testing.T) {
	dir := t.TempDir()
	l, _, err := wal.OpenShared(dir, wal.Options{SegmentBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	save := func(batch ...wal.Update) {
		t.Helper()
		if err := l.Save(batch, true); err != nil {
			t.Fatal(err)
		}
	}
	save(wal.Update{Group: 1, Entries: []raftpb.Entry{{Term: 2, Index: 1}}, HardState: raftpb.HardState{Term: 2, Vote: 3, Commit: 1}})
	if err := l.Drop(1, raftpb.HardState{Term: 2, Vote: 3, Commit: 1}); err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 8; i++ { // past a rollover: the head restates the tombstone
		save(wal.Update{Group: 2, Entries: []raftpb.Entry{{Term: 1, Index: i, Data: bytes.Repeat([]byte("b"), 150)}}})
	}
	var out bytes.Buffer
	if code := run(&out, dir, false); code != 0 {
		t.Fatalf("dump exited %d:\n%s", code, &out)
	}
	for _, want := range []string{
		"drop: the group's state is deleted, its term 2 and vote 3 kept [group 1,",
		"tombstone (restated): dropped with term 2, vote 3 [group 1,",
		"state of group 1: dropped, term 2 and vote 3 kept",
		"state of group 2: hard state",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the dump lacks %q:\n%s", want, &out)
		}
	}
	save(wal.Update{Group: 1, Snapshot: &raftpb.SnapshotMetadata{Index: 5, Term: 3}})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	run(&out, dir, false)
	if want := "state of group 1: hard state Term:2 Vote:3 Commit:0; snapshot Index:5 Term:3"; !strings.Contains(out.String(), want) {
		t.Errorf("the dump of a re-created group lacks %q:\n%s", want, &out)
	}
	out.Reset()
	if code := run(&out, dir, true); code != 0 || out.String() != "ok\n" {
		t.Fatalf("-verify exited %d:\n%s", code, &out)
	}
}
