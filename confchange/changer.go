package confchange

import (
	"fmt"
	"slices"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// Changer computes membership changes from the configuration and progress
// of Tracker. Its methods never modify Tracker: each returns a new Config
// and ProgressMap, or an error and nothing.
type Changer struct {
	// Tracker holds the configuration to change and its progress map. It
	// must hold a configuration (tracker.MakeProgressTracker or
	// SetConfig): the zero ProgressTracker is refused with
	// ErrInvalidConfig.
	Tracker tracker.ProgressTracker
	// LastIndex is the leader's last log index; a new member is probed
	// from LastIndex+1.
	LastIndex uint64
	// MaxInflight and MaxInflightBytes bound the window of appends in
	// flight given to a new member (tracker.NewInflights); MaxInflight
	// must be at least 1.
	MaxInflight      int
	MaxInflightBytes uint64
}

// EnterJoint enters joint consensus (thesis §4.3): the current voters
// become the outgoing half, and ccs are applied to the incoming half.
// autoLeave records whether the leader should leave the joint
// configuration on its own once it is committed. It fails if the
// configuration is already joint or has no voters, or if a change fails.
func (c Changer) EnterJoint(autoLeave bool, ccs ...raftpb.ConfChangeSingle) (tracker.Config, tracker.ProgressMap, error) {
	cfg, prs, err := c.checkAndCopy()
	switch {
	case err != nil:
		return fail(err)
	case cfg.Voters.IsJoint():
		return fail(fmt.Errorf("%w: voters=%v", ErrAlreadyJoint, cfg.Voters))
	case len(cfg.Voters[0]) == 0:
		return fail(fmt.Errorf("%w: changes %s", ErrZeroVoterJoint, Describe(ccs...)))
	}
	cfg.Voters[1] = slices.Clone(cfg.Voters[0])
	if err := c.apply(&cfg, prs, ccs); err != nil {
		return fail(err)
	}
	cfg.AutoLeave = autoLeave
	return checkResult(cfg, prs)
}

// LeaveJoint leaves joint consensus: the outgoing half is dropped, the
// nodes of LearnersNext become learners, AutoLeave is cleared, and nodes
// that were only outgoing voters lose their Progress. It fails if the
// configuration is not joint.
func (c Changer) LeaveJoint() (tracker.Config, tracker.ProgressMap, error) {
	cfg, prs, err := c.checkAndCopy()
	switch {
	case err != nil:
		return fail(err)
	case !cfg.Voters.IsJoint():
		return fail(fmt.Errorf("%w: voters=%v", ErrNotJoint, cfg.Voters))
	}
	for _, id := range cfg.LearnersNext {
		cfg.Learners = insert(cfg.Learners, id)
		prs[id].IsLearner = true
	}
	cfg.LearnersNext = nil
	for _, id := range cfg.Voters[1] {
		if !cfg.Voters[0].Contains(id) && !slices.Contains(cfg.Learners, id) {
			delete(prs, id)
		}
	}
	cfg.Voters[1] = nil
	cfg.AutoLeave = false
	return checkResult(cfg, prs)
}

// Simple applies ccs without joint consensus. It fails if the
// configuration is joint, if a change fails, or if the changes together
// add or remove more than one voter (thesis §4.1: only then do all
// majorities of the old and the new configuration overlap).
func (c Changer) Simple(ccs ...raftpb.ConfChangeSingle) (tracker.Config, tracker.ProgressMap, error) {
	cfg, prs, err := c.checkAndCopy()
	switch {
	case err != nil:
		return fail(err)
	case cfg.Voters.IsJoint():
		return fail(fmt.Errorf("%w: voters=%v", ErrAlreadyJoint, cfg.Voters))
	}
	if err := c.apply(&cfg, prs, ccs); err != nil {
		return fail(err)
	}
	old := c.Tracker.Voters[0]
	if n := symmetricDifference(old, cfg.Voters[0]); n > 1 {
		return fail(fmt.Errorf("%w: %v to %v changes %d voters", ErrTooManyVoters, old, cfg.Voters[0], n))
	}
	return checkResult(cfg, prs)
}

// fail returns err with no configuration.
func fail(err error) (tracker.Config, tracker.ProgressMap, error) {
	return tracker.Config{}, nil, err
}

// checkAndCopy checks the tracker's invariants and returns a deep copy of
// its configuration and progress.
func (c Changer) checkAndCopy() (tracker.Config, tracker.ProgressMap, error) {
	if err := c.Tracker.CheckInvariants(); err != nil {
		return tracker.Config{}, nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return c.Tracker.Config.Clone(), c.Tracker.ProgressMap(), nil
}

// checkResult checks the invariants of a computed configuration and returns
// it. With the rules of apply a check can only fail on a bug, but an error
// is kinder to the caller than a wrong configuration.
func checkResult(cfg tracker.Config, prs tracker.ProgressMap) (tracker.Config, tracker.ProgressMap, error) {
	for _, id := range cfg.Learners {
		if cfg.Voters.Contains(id) {
			return fail(fmt.Errorf("%w: node %d", ErrVoterAndLearner, id))
		}
	}
	var check tracker.ProgressTracker
	check.SetConfig(cfg, prs)
	if err := check.CheckInvariants(); err != nil {
		return fail(fmt.Errorf("%w: result: %w", ErrInvalidConfig, err))
	}
	return cfg, prs, nil
}

// symmetricDifference returns the number of IDs in exactly one of the two
// sorted sets.
func symmetricDifference(a, b tracker.MajorityConfig) int {
	n := 0
	for _, id := range a {
		if !b.Contains(id) {
			n++
		}
	}
	for _, id := range b {
		if !a.Contains(id) {
			n++
		}
	}
	return n
}
