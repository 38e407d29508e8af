package core

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

func TestTransferToUpToDateFollowerElectsItWithoutPreVote(t *testing.T) {
	c := electedCluster(t, 2)
	must(t, c.nodes[1].TransferLeader(3))
	c.stabilize()
	if s := c.nodes[3].softState(); s.RaftState != StateLeader {
		t.Fatalf("node 3 is %v, want leader", s.RaftState)
	}
	if c.nodes[1].state != StateFollower || c.nodes[1].lead != 3 {
		t.Fatalf("old leader: %v lead %d", c.nodes[1].state, c.nodes[1].lead)
	}
	if c.nodes[3].term != 2 {
		t.Fatalf("new term %d, want 2 (one election, no pre-vote round)", c.nodes[3].term)
	}
}

func TestTransferToLaggingFollowerCatchesItUpFirst(t *testing.T) {
	c := electedCluster(t, 1)
	lagging := c.nodes[3]
	delete(c.nodes, 3)
	for i := 0; i < 3; i++ {
		if _, _, err := c.nodes[1].Propose([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	c.stabilize()
	c.nodes[3] = lagging
	must(t, c.nodes[1].TransferLeader(3))
	// Proposals are refused while the transfer runs, naming it.
	if _, _, err := c.nodes[1].Propose([]byte("y")); !errors.Is(err, ErrTransferInProgress) || !errors.Is(err, ErrProposalDropped) {
		t.Fatalf("Propose during a transfer = %v", err)
	}
	for i := 0; i < 3 && lagging.state != StateLeader; i++ {
		c.nodes[1].bcastHeartbeat()
		c.stabilize()
	}
	if lagging.state != StateLeader {
		t.Fatalf("lagging target is %v, want leader", lagging.state)
	}
	if lagging.raftLog.lastIndex() < 5 {
		t.Fatalf("new leader's log ends at %d; it lost entries", lagging.raftLog.lastIndex())
	}
}

func TestTransferRefusalsAreTypedErrors(t *testing.T) {
	c := electedCluster(t, 0)
	for _, tc := range []struct {
		id   uint64
		want error
	}{{1, ErrTransferRefused}, {9, ErrTransferRefused}} {
		if err := c.nodes[1].TransferLeader(tc.id); !errors.Is(err, tc.want) {
			t.Errorf("TransferLeader(%d) = %v, want %v", tc.id, err, tc.want)
		}
	}
	if err := c.nodes[2].TransferLeader(3); !errors.Is(err, ErrNotLeader) {
		t.Errorf("follower asking for a transfer to another = %v, want ErrNotLeader", err)
	}
	if c.nodes[1].transferee() != None {
		t.Fatal("a refused transfer was recorded")
	}
}

func TestTransferToLearnerIsRefused(t *testing.T) {
	c := electedCluster(t, 0)
	demote := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 3}}}
	if _, err := c.nodes[1].ApplyConfChange(demote); err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[1].TransferLeader(3); !errors.Is(err, ErrTransferRefused) {
		t.Fatalf("transfer to a learner = %v", err)
	}
}

func TestTransferThatDoesNotFinishIsAbandonedAfterElectionTimeout(t *testing.T) {
	c := electedCluster(t, 0)
	delete(c.nodes, 3) // the target is down
	must(t, c.nodes[1].TransferLeader(3))
	for i := 0; i < c.nodes[1].settings.electionTimeout; i++ {
		c.nodes[1].Tick()
	}
	if c.nodes[1].transferee() != None {
		t.Fatal("the transfer is still running after an election timeout")
	}
	if _, _, err := c.nodes[1].Propose([]byte("ok")); err != nil {
		t.Fatalf("proposal after the transfer was abandoned: %v", err)
	}
}

func TestFollowerAsksLeaderToTransferToItself(t *testing.T) {
	c := electedCluster(t, 0)
	must(t, c.nodes[2].TransferLeader(2))
	c.stabilize()
	if c.nodes[2].state != StateLeader {
		t.Fatalf("node 2 is %v, want leader", c.nodes[2].state)
	}
}

// TestTransferToANodeDemotedToLearnerIsAbandoned: once the target is no
// longer a voter, the leader stops refusing proposals for its sake.
func TestTransferToANodeDemotedToLearnerIsAbandoned(t *testing.T) {
	c := electedCluster(t, 0)
	delete(c.nodes, 3) // keep the transfer from finishing
	must(t, c.nodes[1].TransferLeader(3))
	demote := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode, NodeID: 3}}}
	if _, err := c.nodes[1].ApplyConfChange(demote); err != nil {
		t.Fatal(err)
	}
	if c.nodes[1].transferee() != None {
		t.Fatal("the transfer to a learner is still running")
	}
}

// TestTimeoutNowFollowsTheCommitIndex: the transferee learns the commit
// index before it is told to campaign, so that a committed conf change it
// has not applied keeps it from campaigning.
func TestTimeoutNowFollowsTheCommitIndex(t *testing.T) {
	c := electedCluster(t, 0)
	leader := c.nodes[1]
	if _, _, err := leader.Propose([]byte("x")); err != nil {
		t.Fatal(err)
	}
	c.stabilize()
	leader.trk.Progress(3).SentCommit = 0 // as if 3 had not heard the commit
	must(t, leader.TransferLeader(3))
	var order []raftpb.MessageType
	for _, m := range leader.out.msgs {
		if m.To == 3 {
			order = append(order, m.Type)
		}
	}
	if len(order) != 2 || order[0] != raftpb.MsgApp || order[1] != raftpb.MsgTimeoutNow {
		t.Fatalf("messages to the transferee %v, want MsgApp (with the commit) then MsgTimeoutNow", order)
	}
}
