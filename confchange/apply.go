package confchange

import (
	"fmt"
	"slices"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// apply applies ccs in order to the incoming half of cfg and to prs, which
// are the changer's own copies. It fails on an unknown change type, on node
// 0, and if the incoming half ends up without voters.
func (c Changer) apply(cfg *tracker.Config, prs tracker.ProgressMap, ccs []raftpb.ConfChangeSingle) error {
	for _, cc := range ccs {
		if cc.NodeID == 0 {
			return fmt.Errorf("%w: in %s", ErrInvalidNodeID, Describe(ccs...))
		}
		switch cc.Type {
		case raftpb.ConfChangeAddNode:
			c.makeVoter(cfg, prs, cc.NodeID)
		case raftpb.ConfChangeAddLearnerNode:
			c.makeLearner(cfg, prs, cc.NodeID)
		case raftpb.ConfChangeRemoveNode:
			remove(cfg, prs, cc.NodeID)
		case raftpb.ConfChangeUpdateNode:
			// Membership is unchanged; the application acts on it.
		default:
			return fmt.Errorf("%w: type %d for node %d", ErrUnknownChangeType, cc.Type, cc.NodeID)
		}
	}
	if len(cfg.Voters[0]) == 0 {
		return fmt.Errorf("%w: after %s", ErrRemovedAllVoters, Describe(ccs...))
	}
	return nil
}

// makeVoter makes id an incoming voter, promoting it if it is a learner or
// was to become one on leaving joint consensus.
func (c Changer) makeVoter(cfg *tracker.Config, prs tracker.ProgressMap, id uint64) {
	pr := prs[id]
	if pr == nil {
		prs[id] = c.newProgress(false)
	} else {
		pr.IsLearner = false
		cfg.Learners = without(cfg.Learners, id)
		cfg.LearnersNext = without(cfg.LearnersNext, id)
	}
	cfg.Voters[0] = insert(cfg.Voters[0], id)
}

// makeLearner makes id a learner. A voter of the outgoing half cannot stop
// voting while the joint configuration lasts, so it goes to LearnersNext
// and becomes a learner when the joint configuration is left.
func (c Changer) makeLearner(cfg *tracker.Config, prs tracker.ProgressMap, id uint64) {
	pr := prs[id]
	switch {
	case pr == nil:
		prs[id] = c.newProgress(true)
		cfg.Learners = insert(cfg.Learners, id)
	case pr.IsLearner:
		// Already a learner.
	default:
		cfg.Voters[0] = without(cfg.Voters[0], id)
		if cfg.Voters[1].Contains(id) {
			cfg.LearnersNext = insert(cfg.LearnersNext, id)
		} else {
			pr.IsLearner = true
			cfg.Learners = insert(cfg.Learners, id)
		}
	}
}

// remove takes id out of the incoming voters, the learners and
// LearnersNext. Its Progress stays only while it is an outgoing voter.
func remove(cfg *tracker.Config, prs tracker.ProgressMap, id uint64) {
	cfg.Voters[0] = without(cfg.Voters[0], id)
	cfg.Learners = without(cfg.Learners, id)
	cfg.LearnersNext = without(cfg.LearnersNext, id)
	if !cfg.Voters[1].Contains(id) {
		delete(prs, id)
	}
}

// newProgress returns the Progress of a node that joins: probing from just
// past the leader's log (at index 1 at least), with an empty window, and counted as recently
// active so a leader checking its quorum gives it time to answer.
func (c Changer) newProgress(learner bool) *tracker.Progress {
	return &tracker.Progress{
		Next:         max(c.LastIndex+1, 1), // +1 wraps only at the end of the index space
		Inflights:    tracker.NewInflights(c.MaxInflight, c.MaxInflightBytes),
		IsLearner:    learner,
		RecentActive: true,
	}
}

// insert returns the sorted set s with id added.
func insert[S ~[]uint64](s S, id uint64) S {
	i, found := slices.BinarySearch(s, id)
	if found {
		return s
	}
	return slices.Insert(s, i, id)
}

// without returns the sorted set s with id removed, nil when it empties.
func without[S ~[]uint64](s S, id uint64) S {
	i, found := slices.BinarySearch(s, id)
	if !found {
		return s
	}
	s = slices.Delete(s, i, i+1)
	if len(s) == 0 {
		return nil
	}
	return s
}
