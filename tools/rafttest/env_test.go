package rafttest

import (
	"testing"

	"github.com/tickraft/raft"
)

func TestStabilizeElectsLeaderAndEveryNodeAppliesTheProposal(t *testing.T) {
	env := NewEnv()
	if _, err := env.AddNodes(3, NodeOptions{Voters: []uint64{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Campaign(1); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Stabilize(); err != nil {
		t.Fatal(err)
	}
	index, term, err := env.Propose(1, []byte("x"))
	if err != nil || index != 2 || term != 1 {
		t.Fatalf("Propose = %d, %d, %v; want 2, 1, nil", index, term, err)
	}
	if _, err := env.Stabilize(); err != nil {
		t.Fatal(err)
	}
	for _, id := range env.IDs() {
		n := env.Node(id)
		if n.AppliedIndex != 2 || string(n.Applied[1].Data) != "x" {
			t.Errorf("node %d applied %v", id, n.Applied)
		}
	}
}

func TestCrashedNodeRestartsFromItsSnapshotAndReapplies(t *testing.T) {
	env := NewEnv()
	if _, err := env.AddNodes(1, NodeOptions{Voters: []uint64{1}}); err != nil {
		t.Fatal(err)
	}
	mustStabilize := func() {
		t.Helper()
		if _, err := env.Stabilize(); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Campaign(1); err != nil {
		t.Fatal(err)
	}
	mustStabilize()
	for _, v := range []string{"a", "b"} {
		if _, _, err := env.Propose(1, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	mustStabilize()
	if err := env.Compact(1, 2); err != nil {
		t.Fatal(err)
	}
	if err := env.Crash(1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Propose(1, []byte("c")); err == nil {
		t.Fatal("a crashed node accepted a proposal")
	}
	if err := env.Restart(1); err != nil {
		t.Fatal(err)
	}
	mustStabilize()
	n := env.Node(1)
	if n.AppliedIndex != 3 || len(n.Applied) != 3 {
		t.Fatalf("after restart: applied index %d, entries %v", n.AppliedIndex, n.Applied)
	}
	if err := env.Campaign(1); err != nil {
		t.Fatal(err)
	}
	mustStabilize()
	if s, _ := env.Status(1); s.RaftState != raft.StateLeader {
		t.Fatalf("node 1 is %v after campaigning alone", s.RaftState)
	}
}

func TestPartitionLosesMessagesAcrossGroups(t *testing.T) {
	env := NewEnv()
	if _, err := env.AddNodes(3, NodeOptions{Voters: []uint64{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	env.Partition([]uint64{1})
	if err := env.Campaign(1); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Stabilize(); err != nil {
		t.Fatal(err)
	}
	if s, _ := env.Status(1); s.RaftState == raft.StateLeader {
		t.Fatal("node 1 won an election alone behind a partition")
	}
	env.Heal()
	if err := env.Campaign(1); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Stabilize(); err != nil {
		t.Fatal(err)
	}
	if s, _ := env.Status(1); s.RaftState != raft.StateLeader {
		t.Fatalf("node 1 is %v after the partition healed", s.RaftState)
	}
}

func TestTransferLeaderHandsOverToUpToDateFollower(t *testing.T) {
	env := NewEnv()
	if _, err := env.AddNodes(3, NodeOptions{Voters: []uint64{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Campaign(1); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Stabilize(); err != nil {
		t.Fatal(err)
	}
	if err := env.TransferLeader(1, 1); err == nil {
		t.Fatal("a transfer from the leader to itself was accepted")
	}
	if err := env.TransferLeader(1, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Stabilize(); err != nil {
		t.Fatal(err)
	}
	if s, _ := env.Status(3); s.RaftState != raft.StateLeader {
		t.Fatalf("node 3 is %v after the transfer", s.RaftState)
	}
}

func TestKeepLeaderAfterRemovalReachesTheConfig(t *testing.T) {
	env := NewEnv()
	if _, err := env.AddNodes(1, NodeOptions{Voters: []uint64{1}, KeepLeaderAfterRemoval: true}); err != nil {
		t.Fatal(err)
	}
	if !env.Node(1).config().KeepLeaderAfterRemoval {
		t.Fatal("NodeOptions.KeepLeaderAfterRemoval did not reach Config")
	}
}
