package confchange

import (
	"fmt"
	"slices"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// Restore returns the configuration and progress described by cs, as found
// in a snapshot, built by replaying changes through chg: the outgoing
// voters are added one by one with simple changes, and then, when cs is
// joint, one joint change installs the incoming voters, the learners and
// LearnersNext; otherwise the incoming voters and the learners are added
// with simple changes. Of chg only LastIndex and the tracker's inflight
// bounds are used: the result does not depend on chg's configuration.
//
// The ConfState of the result equals cs with its sets sorted. Restore fails
// if cs has a node that is both voter and learner, or LearnersNext or
// AutoLeave that joint consensus could not have produced. An empty cs
// gives an empty configuration, as a node that waits for a snapshot has.
func Restore(chg Changer, cs raftpb.ConfState) (tracker.Config, tracker.ProgressMap, error) {
	if err := checkConfState(cs); err != nil {
		return fail(err)
	}
	chg.Tracker = tracker.MakeProgressTracker()
	outgoing, incoming := restoreSteps(cs)
	if err := simpleSteps(&chg, outgoing); err != nil {
		return fail(fmt.Errorf("%w (restoring %s)", err, describeConfState(cs)))
	}
	if len(cs.VotersOutgoing) == 0 {
		if err := simpleSteps(&chg, incoming); err != nil {
			return fail(fmt.Errorf("%w (restoring %s)", err, describeConfState(cs)))
		}
		return *chg.Tracker.Config, chg.Tracker.ProgressMap(), nil
	}
	cfg, prs, err := chg.EnterJoint(cs.AutoLeave, incoming...)
	if err != nil {
		return fail(fmt.Errorf("%w (restoring %s)", err, describeConfState(cs)))
	}
	return cfg, prs, nil
}

// simpleSteps applies each change of ccs as its own simple change,
// installing every result in chg before the next.
func simpleSteps(chg *Changer, ccs []raftpb.ConfChangeSingle) error {
	for _, cc := range ccs {
		cfg, prs, err := chg.Simple(cc)
		if err != nil {
			return err
		}
		chg.Tracker.SetConfig(cfg, prs)
	}
	return nil
}

// restoreSteps returns the changes that build the outgoing voters of cs
// from nothing, and then the changes that turn them into cs. The second
// list removes the outgoing voters before adding everything back, so that
// it says the same whether cs is joint or not.
func restoreSteps(cs raftpb.ConfState) (outgoing, incoming []raftpb.ConfChangeSingle) {
	add := func(list []raftpb.ConfChangeSingle, t raftpb.ConfChangeType, ids []uint64) []raftpb.ConfChangeSingle {
		for _, id := range sortedSet(ids) {
			list = append(list, raftpb.ConfChangeSingle{Type: t, NodeID: id})
		}
		return list
	}
	outgoing = add(nil, raftpb.ConfChangeAddNode, cs.VotersOutgoing)
	incoming = add(nil, raftpb.ConfChangeRemoveNode, cs.VotersOutgoing)
	incoming = add(incoming, raftpb.ConfChangeAddNode, cs.Voters)
	incoming = add(incoming, raftpb.ConfChangeAddLearnerNode, cs.Learners)
	incoming = add(incoming, raftpb.ConfChangeAddLearnerNode, cs.LearnersNext)
	return outgoing, incoming
}

// checkConfState refuses a ConfState that the changes of restoreSteps would
// not reproduce.
func checkConfState(cs raftpb.ConfState) error {
	voters := tracker.JointConfig{sortedSet(cs.Voters), sortedSet(cs.VotersOutgoing)}
	for _, id := range cs.Learners {
		if voters.Contains(id) {
			return fmt.Errorf("%w: node %d in %s", ErrVoterAndLearner, id, describeConfState(cs))
		}
	}
	for _, id := range cs.LearnersNext {
		if !voters[1].Contains(id) || voters[0].Contains(id) || slices.Contains(cs.Learners, id) {
			return fmt.Errorf("%w: learner-next %d must be an outgoing voter only, in %s", ErrInvalidConfig, id, describeConfState(cs))
		}
	}
	if cs.AutoLeave && len(cs.VotersOutgoing) == 0 {
		return fmt.Errorf("%w: autoleave outside joint consensus, in %s", ErrInvalidConfig, describeConfState(cs))
	}
	return nil
}

// sortedSet returns ids sorted and without duplicates, in a new slice.
func sortedSet(ids []uint64) tracker.MajorityConfig {
	return tracker.MakeMajorityConfig(ids...)
}

// describeConfState formats cs like a tracker.Config.
func describeConfState(cs raftpb.ConfState) string {
	cfg := tracker.Config{
		Voters:       tracker.JointConfig{sortedSet(cs.Voters), sortedSet(cs.VotersOutgoing)},
		AutoLeave:    cs.AutoLeave,
		Learners:     sortedSet(cs.Learners),
		LearnersNext: sortedSet(cs.LearnersNext),
	}
	return cfg.String()
}
