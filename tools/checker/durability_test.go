package checker_test

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/checker"
)

func TestDurabilityAllowsNodesThatHaveNotAppliedTheEntryYet(t *testing.T) {
	h := checker.NewHistory()
	h.Apply(1, logOf(1, 1))
	h.Acknowledge(entry(2, 1))
	h.Apply(2, logOf(1))
	h.ApplySnapshot(3, raftpb.SnapshotMetadata{Index: 5, Term: 2})
	observe(t, h, follower(2, 1, 1, 1, 1, logOf(1, 7)))
	wantPass(t, checker.CheckDurability(h))
}

func TestDurabilityFailsWhenANodeAppliesAnotherEntryAtTheIndex(t *testing.T) {
	h := checker.NewHistory()
	h.Apply(1, logOf(1, 1))
	h.Acknowledge(entry(2, 1))
	h.Apply(2, logOf(1, 2))
	wantViolation(t, checker.CheckDurability(h), checker.Durability,
		`acknowledged 1/2 EntryNormal "2@1" (event 3) was lost: node 2 applied 2/2`)
}

func TestDurabilityFailsWhenANodeAppliesPastTheEntryWithoutIt(t *testing.T) {
	h := checker.NewHistory()
	h.Acknowledge(entry(2, 1))
	h.Apply(3, logOf(1))
	h.Apply(3, logFrom(3, 1))
	wantViolation(t, checker.CheckDurability(h), checker.Durability,
		"lost by node 3: it applied index 3 (event 3) without ever applying 2")
}

func TestDurabilityFailsWhenACommittedLogLosesTheEntry(t *testing.T) {
	h := checker.NewHistory()
	h.Acknowledge(entry(2, 1))
	observe(t, h, follower(2, 2, 3, 2, 0, logOf(1, 2)))
	wantViolation(t, checker.CheckDurability(h), checker.Durability,
		"node 2 holds 2/2", "committed up to 2 (event 2)")
}
