package raftloop_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// asyncConfig is the configuration of a node in the asynchronous storage
// mode.
func asyncConfig(id uint64) raft.Config {
	return raft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, AsyncStorageWrites: true}
}

// newHandOffCluster boots an asynchronous cluster whose loops hand their
// writes to the members' workers (Config.HandOff), which the cluster runs
// between turns: each saves every job waiting, syncs once, and completes
// them in order.
func newHandOffCluster(n int, cfg func(id uint64) raft.Config) *cluster {
	c := &cluster{nodes: map[uint64]*member{}, cfg: cfg, handOff: true}
	c.net = &net{c: c}
	var voters []uint64
	for id := uint64(1); id <= uint64(n); id++ {
		voters = append(voters, id)
	}
	for _, id := range voters {
		cs := raftpb.ConfState{Voters: voters}
		d := raftloop.NewCrashDisk()
		d.Bootstrap(cs)
		c.start(id, d, &list{conf: cs}, 0)
	}
	must(c.nodes[1].loop.Campaign())
	c.run()
	return c
}

func TestHandOffAcknowledgesOnlyOnceDurable(t *testing.T) {
	workload(t, newHandOffCluster(3, asyncConfig))
}

// sentBy returns a record of the messages node id sends from now on, as
// "type index" in the order they leave.
func sentBy(c *cluster, id uint64) *[]string {
	var sent []string
	c.net.onSend = func(m raftpb.Message) {
		if m.From == id {
			sent = append(sent, fmt.Sprintf("%s %d", m.Type, m.Index))
		}
	}
	return &sent
}

// twoWritesOnFollower has node 1 replicate a and then b to node 2, which
// hands off one write for each: its jobs are returned, saved and synced
// by its worker but not yet completed.
func twoWritesOnFollower(t *testing.T, c *cluster) []raftloop.Job {
	t.Helper()
	leader, f := c.nodes[1], c.nodes[2]
	for _, p := range []string{"a", "b"} {
		if _, _, err := leader.loop.Propose([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := leader.loop.HandleReady(); err != nil {
			t.Fatal(err)
		}
		c.deliver()
		if err := f.loop.HandleReady(); err != nil {
			t.Fatal(err)
		}
	}
	jobs := f.jobs
	f.jobs = nil
	if len(jobs) != 2 || len(jobs[0].Entries) != 1 || len(jobs[1].Entries) != 1 {
		t.Fatalf("node 2 handed off %+v, want two writes of one entry", jobs)
	}
	for _, j := range jobs {
		if err := f.write(j); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.disk.Sync(); err != nil {
		t.Fatal(err)
	}
	return jobs
}

// TestHandOffAcknowledgesInHandOffOrder completes a follower's second
// write before its first: the loop sends nothing until the first
// completes, and then both acknowledgements, in log order.
func TestHandOffAcknowledgesInHandOffOrder(t *testing.T) {
	c := newHandOffCluster(3, asyncConfig)
	jobs := twoWritesOnFollower(t, c)
	sent := sentBy(c, 2)
	f := c.nodes[2].loop
	if err := f.Completed(jobs[1].Seq); err != nil {
		t.Fatal(err)
	}
	if len(*sent) > 0 {
		t.Fatalf("the second write completed before the first: node 2 sent %v", *sent)
	}
	if err := f.Completed(jobs[0].Seq); err != nil {
		t.Fatal(err)
	}
	a, b := jobs[0].Entries[0].Index, jobs[1].Entries[0].Index
	if got, want := fmt.Sprint(*sent), fmt.Sprintf("[MsgAppResp %d MsgAppResp %d]", a, b); got != want {
		t.Fatalf("node 2 sent %s once both writes completed, want %s", got, want)
	}
	if f.HandedOff() != 0 {
		t.Fatalf("%d jobs still wait", f.HandedOff())
	}
}

// TestHandOffHoldsAcknowledgementsBehindAMissingCompletion completes a
// follower's second write and never its first (a worker that lost a
// completion): nothing it wrote is acknowledged, and the cluster still
// commits with the other follower.
func TestHandOffHoldsAcknowledgementsBehindAMissingCompletion(t *testing.T) {
	c := newHandOffCluster(3, asyncConfig)
	jobs := twoWritesOnFollower(t, c)
	sent := sentBy(c, 2)
	if err := c.nodes[2].loop.Completed(jobs[1].Seq); err != nil {
		t.Fatal(err)
	}
	c.nodes[2].down = true // its loop, stuck behind the lost completion, plays no part
	c.run()
	if len(*sent) > 0 {
		t.Fatalf("node 2 acknowledged past a write never completed: %v", *sent)
	}
	if got := fmt.Sprint(c.nodes[3].sm.items); got != "[a b]" {
		t.Fatalf("node 3 applied %s", got)
	}
}

// TestCrashBeforeCompletionLosesNothingAcknowledged crashes a follower
// whose writes were handed off and saved but not synced, after every
// record: nothing the network carried from it acknowledges what the
// crash lost, and the restarted node catches up.
func TestCrashBeforeCompletionLosesNothingAcknowledged(t *testing.T) {
	c := newHandOffCluster(3, asyncConfig)
	var acks []raftpb.Message
	c.net.onSend = func(m raftpb.Message) {
		if m.From == 2 && (m.Type == raftpb.MsgAppResp || m.Type == raftpb.MsgVoteResp) && !m.Reject {
			acks = append(acks, m)
		}
	}
	leader, f := c.nodes[1], c.nodes[2]
	for _, p := range []string{"a", "b", "c"} {
		if _, _, err := leader.loop.Propose([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := leader.loop.HandleReady(); err != nil {
			t.Fatal(err)
		}
		c.deliver()
		if err := f.loop.HandleReady(); err != nil {
			t.Fatal(err)
		}
		for _, j := range f.jobs {
			if err := f.write(j); err != nil { // never synced, never completed
				t.Fatal(err)
			}
		}
		f.jobs = nil
	}
	total := f.disk.Unsynced()
	if total < 3 {
		t.Fatalf("%d records unsynced: the test crashes nothing useful", total)
	}
	for keep := 0; keep <= total; keep++ {
		cp := *f.disk
		cp.Crash(keep)
		_, last := durable(t, &cp)
		for _, m := range acks {
			if m.Type == raftpb.MsgAppResp && m.Index > last {
				t.Fatalf("crash after %d of %d records: node 2 acknowledged index %d with %d durable", keep, total, m.Index, last)
			}
		}
	}
	f.disk.Crash(1)
	d, err := f.disk.Reopen()
	if err != nil {
		t.Fatal(err)
	}
	c.start(2, d, &list{conf: f.sm.conf}, 0)
	c.tick(2)
	if got := fmt.Sprint(c.nodes[2].sm.items); got != "[a b c]" {
		t.Fatalf("node 2 applied %s after its restart", got)
	}
}

// TestHandOffSavesChunksThroughTheWorker fetches a snapshot in chunks on
// a node whose loop hands its chunks to the worker: each is handed off,
// saved, and the snapshot assembled from them installed.
func TestHandOffSavesChunksThroughTheWorker(t *testing.T) {
	c := newHandOffCluster(3, func(id uint64) raft.Config {
		rc := asyncConfig(id)
		rc.SnapshotChunkSize = 4
		return rc
	})
	c.nodes[3].down = true
	c.propose("alpha", "beta", "gamma")
	n1 := c.nodes[1]
	if err := n1.disk.Compact(n1.loop.Applied(), n1.sm.conf, n1.sm.data()); err != nil {
		t.Fatal(err)
	}
	n3 := c.nodes[3]
	n3.down = false
	c.tick(3)
	if want := (len(n1.sm.data()) + 3) / 4; n3.chunksHandedOff < want || c.net.sent[raftpb.MsgSnapChunk] < want {
		t.Fatalf("%d chunks sent, %d handed off, want %d", c.net.sent[raftpb.MsgSnapChunk], n3.chunksHandedOff, want)
	}
	if got := fmt.Sprint(n3.sm.items); got != "[alpha beta gamma]" {
		t.Fatalf("node 3 holds %s", got)
	}
}

// TestCompletedRefusesAJobNotWaiting completes jobs never handed off and
// jobs a second time (one waiting behind an earlier job, one delivered):
// each is refused with ErrCompletion and changes nothing.
func TestCompletedRefusesAJobNotWaiting(t *testing.T) {
	c := newHandOffCluster(3, asyncConfig)
	jobs := twoWritesOnFollower(t, c)
	f := c.nodes[2].loop
	if err := f.Completed(jobs[1].Seq); err != nil { // held behind jobs[0]
		t.Fatal(err)
	}
	sent := sentBy(c, 2)
	refuse := func(seqs ...uint64) {
		t.Helper()
		for _, seq := range seqs {
			if err := f.Completed(seq); !errors.Is(err, raftloop.ErrCompletion) {
				t.Fatalf("Completed(%d): %v, want ErrCompletion", seq, err)
			}
		}
	}
	refuse(0, jobs[1].Seq, jobs[1].Seq+1, jobs[1].Seq+100)
	if f.HandedOff() != 2 || len(*sent) > 0 {
		t.Fatalf("refused completions changed the loop: %d waiting, sent %v", f.HandedOff(), *sent)
	}
	if err := f.Completed(jobs[0].Seq); err != nil {
		t.Fatal(err)
	}
	refuse(jobs[0].Seq, jobs[1].Seq)
	if got := len(*sent); got != 2 {
		t.Fatalf("the completions sent %v, want one acknowledgement per write", *sent)
	}
}

func TestNewRefusesHandOffOutsideTheAsynchronousMode(t *testing.T) {
	d := raftloop.NewCrashDisk()
	d.Bootstrap(raftpb.ConfState{Voters: []uint64{1}})
	_, err := raftloop.New(raftloop.Config{
		Raft: raft.Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1}, Disk: d, Network: &net{}, StateMachine: &list{},
		HandOff: func(raftloop.Job) {},
	})
	if !errors.Is(err, raftloop.ErrConfig) {
		t.Fatalf("New with HandOff in the synchronous mode: %v", err)
	}
}

// chunksOnce is a disk that discards a snapshot's chunks once they have
// been assembled, as a disk that keeps only what it must may do when the
// snapshot is installed.
type chunksOnce struct {
	*raftloop.CrashDisk
	assembled map[[2]uint64]bool
}

// Chunks assembles a snapshot's chunks the first time, and refuses after.
func (d *chunksOnce) Chunks(index, term uint64) ([]byte, error) {
	if d.assembled[[2]uint64{index, term}] {
		return nil, fmt.Errorf("the chunks of snapshot %d/%d were discarded", term, index)
	}
	d.assembled[[2]uint64{index, term}] = true
	return d.CrashDisk.Chunks(index, term)
}

// TestAsyncRestoreNeedsNoChunksOnceInstalled fetches a snapshot in chunks
// in the asynchronous mode, on a disk that discards them once assembled
// for the write: the state machine is restored from the snapshot the
// write made durable, in both ways of running the append worker.
func TestAsyncRestoreNeedsNoChunksOnceInstalled(t *testing.T) {
	for _, handOff := range []bool{false, true} {
		t.Run(fmt.Sprint("handoff=", handOff), func(t *testing.T) {
			cfg := func(id uint64) raft.Config {
				rc := asyncConfig(id)
				rc.SnapshotChunkSize = 4
				return rc
			}
			c := newCluster(3, cfg)
			if handOff {
				c = newHandOffCluster(3, cfg)
			}
			c.wrapDisk = func(d *raftloop.CrashDisk) raftloop.Disk {
				return &chunksOnce{CrashDisk: d, assembled: map[[2]uint64]bool{}}
			}
			n3 := c.nodes[3]
			c.start(3, n3.disk, n3.sm, 0) // node 3 again, on the discarding disk
			c.nodes[3].down = true
			c.propose("alpha", "beta", "gamma")
			n1 := c.nodes[1]
			if err := n1.disk.Compact(n1.loop.Applied(), n1.sm.conf, n1.sm.data()); err != nil {
				t.Fatal(err)
			}
			c.nodes[3].down = false
			c.tick(3)
			if got := fmt.Sprint(c.nodes[3].sm.items); got != "[alpha beta gamma]" {
				t.Fatalf("node 3 holds %s", got)
			}
		})
	}
}
