package raftloop_test

import (
	"fmt"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// Example boots a new three-node cluster, each node on a disk that holds
// the first configuration and nothing else, elects node 1 and commits a
// proposal: each Loop persists, sends, applies and acknowledges its
// node's Readys.
func Example() {
	c := newCluster(3, nil)
	index, term, err := c.nodes[1].loop.Propose([]byte("x=1"))
	fmt.Println("proposed at", index, "in term", term, err)
	c.run()
	for _, id := range c.ids() {
		fmt.Println(id, "applied", c.nodes[id].loop.Applied(), c.nodes[id].sm.items)
	}
	// Output:
	// proposed at 2 in term 1 <nil>
	// 1 applied 2 [x=1]
	// 2 applied 2 [x=1]
	// 3 applied 2 [x=1]
}

// Example_restart crashes a node and restarts it from what its disk
// holds: the disk is reopened (its writes made again on a new storage),
// the state machine restored from the disk's snapshot, and Applied set
// to that snapshot's index, so the committed entries after it are
// applied again. The last commit index it heard was written without a
// sync (a Ready whose only change is the commit index need not be
// synced): the crash lost it, and the leader's next heartbeat brings it
// back.
func Example_restart() {
	c := newCluster(3, nil)
	c.propose("a", "b")
	n3 := c.nodes[3]
	must(n3.disk.Compact(n3.loop.Applied(), n3.sm.conf, n3.sm.data()))
	c.propose("c")
	fmt.Println("node 3 before the crash:", n3.sm.items)

	n3.disk.Crash(0) // everything it wrote was synced: nothing is lost
	d, err := n3.disk.Reopen()
	must(err)
	snap, _ := d.Storage().Snapshot()
	hs, _, _ := d.Storage().InitialState()
	sm := &list{}
	must(sm.Restore(snap))
	fmt.Println("restored from the snapshot at", snap.Metadata.Index, sm.items, "hard state", hs)
	c.start(3, d, sm, snap.Metadata.Index)
	c.run()
	fmt.Println("node 3 after the restart:", c.nodes[3].sm.items)
	c.tick(1)
	fmt.Println("node 3 after a heartbeat:", c.nodes[3].sm.items)
	// Output:
	// node 3 before the crash: [a b c]
	// restored from the snapshot at 3 [a b] hard state Term:1 Vote:1 Commit:3
	// node 3 after the restart: [a b]
	// node 3 after a heartbeat: [a b c]
}

// ExampleCrashDisk_Crash shows the disk model of the tests: a crash keeps
// what was synced and a prefix of the rest, here one entry of a write of
// two that was not synced. The node restarts from what survived.
func ExampleCrashDisk_Crash() {
	d := raftloop.NewCrashDisk()
	d.Bootstrap(raftpb.ConfState{Voters: []uint64{1}})
	must(d.Save(raftpb.HardState{Term: 1, Vote: 1}, []raftpb.Entry{{Term: 1, Index: 1}}, raftpb.Snapshot{}))
	must(d.Sync())
	must(d.Save(raftpb.HardState{Term: 1, Vote: 1, Commit: 3},
		[]raftpb.Entry{{Term: 1, Index: 2}, {Term: 1, Index: 3}}, raftpb.Snapshot{}))
	fmt.Println("unsynced records:", d.Unsynced())
	fmt.Println("kept:", d.Crash(1))
	r, err := d.Reopen()
	must(err)
	hs, _, _ := r.Storage().InitialState()
	last, _ := r.Storage().LastIndex()
	fmt.Println("after the crash:", hs, "last index", last)
	// Output:
	// unsynced records: 3
	// kept: 1
	// after the crash: Term:1 Vote:1 Commit:0 last index 2
}

// ExampleLoop_ReadIndex serves linearizable reads (thesis §6.4): the
// loop hands Config.OnRead each read once the state machine has applied
// up to its index, or at once when it failed. Here the leader, cut off,
// loses its leadership while its read waits.
func ExampleLoop_ReadIndex() {
	c := newCluster(3, nil)
	c.propose("x=1")
	must(c.nodes[2].loop.ReadIndex([]byte("read-1"))) // forwarded to the leader
	c.run()
	fmt.Println(c.nodes[2].reads)

	c.nodes[1].down = true
	must(c.nodes[1].loop.ReadIndex([]byte("read-2")))
	c.tick(30)
	fmt.Println(c.nodes[1].reads)
	fmt.Println("new leader:", c.nodes[2].loop.RawNode().BasicStatus().Lead)
	// Output:
	// [read-1 at 2: [x=1]]
	// [read-2 failed: raft: read aborted]
	// new leader: 3
}

// ExampleLoop_ReadLocal serves a monotonic read on a follower at or
// after the index of the client's last write, without asking the
// leader.
func ExampleLoop_ReadLocal() {
	c := newCluster(3, nil)
	index, _, err := c.nodes[1].loop.Propose([]byte("x=1"))
	must(err)
	must(c.nodes[3].loop.ReadLocal([]byte("after-x"), index))
	c.run()
	fmt.Println(c.nodes[3].reads)
	// Output:
	// [after-x at 2: [x=1]]
}

// ExampleLoop_RunAppend runs the asynchronous storage mode: a Ready
// carries only messages, and the loop queues the storage work on its
// append and apply workers. The leader's appends leave before its own
// write is done; each worker's job, once done, acknowledges itself
// through Step.
func ExampleLoop_RunAppend() {
	async := func(id uint64) raft.Config {
		return raft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, AsyncStorageWrites: true}
	}
	c := newCluster(3, async)
	leader := c.nodes[1].loop
	_, _, err := leader.Propose([]byte("x=1"))
	must(err)
	must(leader.HandleReady())
	fmt.Println("queued: writes", leader.Appending(), "applies", leader.Applying(), "messages sent", len(c.net.queue))
	ran, err := leader.RunAppend()
	fmt.Println("wrote:", ran, err, "durable last index:", last(c.nodes[1].disk))
	c.run()
	fmt.Println("applied:", c.nodes[1].sm.items, c.nodes[2].sm.items, c.nodes[3].sm.items)
	// Output:
	// queued: writes 1 applies 0 messages sent 2
	// wrote: true <nil> durable last index: 2
	// applied: [x=1] [x=1] [x=1]
}

// last returns the last index d's storage holds.
func last(d *raftloop.CrashDisk) uint64 {
	i, _ := d.Storage().LastIndex()
	return i
}

// ExampleLoop_RunSnapshotWork fetches a snapshot in chunks
// (Config.SnapshotChunkSize): the loop plays the snapshot worker,
// serving chunks from the snapshot on its disk and saving those it
// receives, and installs the snapshot assembled from them.
func ExampleLoop_RunSnapshotWork() {
	chunked := func(id uint64) raft.Config {
		return raft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, SnapshotChunkSize: 4}
	}
	c := newCluster(3, chunked)
	c.nodes[3].down = true
	c.propose("alpha", "beta", "gamma")
	n1 := c.nodes[1]
	must(n1.disk.Compact(n1.loop.Applied(), n1.sm.conf, n1.sm.data()))
	fmt.Printf("leader snapshot at %d: %q\n", n1.loop.Applied(), n1.sm.data())
	c.nodes[3].down = false
	c.tick(3)
	snap, _ := c.nodes[3].disk.Storage().Snapshot()
	fmt.Printf("node 3 installed the snapshot at %d: %q %v\n", snap.Metadata.Index, snap.Data, c.nodes[3].sm.items)
	// Output:
	// leader snapshot at 4: "alpha beta gamma"
	// node 3 installed the snapshot at 4: "alpha beta gamma" [alpha beta gamma]
}

// ExampleLoop_Completed hands the asynchronous mode's writes to the
// application's own worker (Config.HandOff): a worker that runs on a
// goroutine of its own and syncs once for several writes. The loop
// numbers each job it hands off and holds back its acknowledgements; the
// worker saves the jobs, syncs once, and reports each back, on the loop's
// goroutine, with Completed, which delivers the acknowledgements in the
// order the jobs were handed off. Here the worker is played inline.
func ExampleLoop_Completed() {
	c := newHandOffCluster(3, asyncConfig)
	leader := c.nodes[1]
	for _, p := range []string{"x=1", "y=2"} {
		_, _, err := leader.loop.Propose([]byte(p))
		must(err)
		must(leader.loop.HandleReady()) // hands the write to the worker
	}
	jobs := leader.jobs
	leader.jobs = nil
	for _, j := range jobs {
		fmt.Println("handed off: job", j.Seq, j.Entries)
	}
	fmt.Println("appends sent before the leader's write:", len(c.net.queue), "waiting:", leader.loop.HandedOff())

	// The worker: both writes, then one sync for them.
	for _, j := range jobs {
		must(leader.write(j))
	}
	must(leader.disk.Sync())
	// Back on the loop's goroutine: a job completed ahead of an earlier
	// one waits for it.
	must(leader.loop.Completed(jobs[1].Seq))
	fmt.Println("after job", jobs[1].Seq, "waiting:", leader.loop.HandedOff())
	must(leader.loop.Completed(jobs[0].Seq))
	fmt.Println("after job", jobs[0].Seq, "waiting:", leader.loop.HandedOff())

	c.run()
	fmt.Println("applied:", c.nodes[1].sm.items, c.nodes[2].sm.items, c.nodes[3].sm.items)
	// Output:
	// handed off: job 5 [1/2 EntryNormal "x=1"]
	// handed off: job 6 [1/3 EntryNormal "y=2"]
	// appends sent before the leader's write: 4 waiting: 2
	// after job 6 waiting: 2
	// after job 5 waiting: 0
	// applied: [x=1 y=2] [x=1 y=2] [x=1 y=2]
}
