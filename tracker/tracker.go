package tracker

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tickraft/raft/raftpb"
)

// Config is a membership configuration: who votes, who only learns, and
// what happens when joint consensus is left. Learners and LearnersNext are
// sorted in ascending order without duplicates.
type Config struct {
	// Voters are the incoming and, in joint consensus, outgoing voters.
	Voters JointConfig
	// AutoLeave reports whether the leader leaves the joint configuration
	// on its own once it is committed. It is false when not joint.
	AutoLeave bool
	// Learners receive the log without voting. They are never voters of
	// either half.
	Learners []uint64
	// LearnersNext are outgoing voters that were made learners by the
	// change that entered joint consensus. They stay voters of the
	// outgoing half, so the outgoing quorum keeps its meaning, and join
	// Learners when the joint configuration is left.
	LearnersNext []uint64
}

// String returns a one-line form of c such as
// "voters=(1 2 3)&&(1 2) learners=(4) learners_next=(3) autoleave",
// leaving out empty sets and a false AutoLeave.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "voters=%v", c.Voters)
	if len(c.Learners) > 0 {
		fmt.Fprintf(&b, " learners=%v", MajorityConfig(c.Learners))
	}
	if len(c.LearnersNext) > 0 {
		fmt.Fprintf(&b, " learners_next=%v", MajorityConfig(c.LearnersNext))
	}
	if c.AutoLeave {
		b.WriteString(" autoleave")
	}
	return b.String()
}

// Equal reports whether c and o hold the same voters (both halves),
// learners, learners to be and AutoLeave.
func (c *Config) Equal(o *Config) bool {
	return c.AutoLeave == o.AutoLeave && slices.Equal(c.Voters[0], o.Voters[0]) &&
		slices.Equal(c.Voters[1], o.Voters[1]) && slices.Equal(c.Learners, o.Learners) &&
		slices.Equal(c.LearnersNext, o.LearnersNext)
}

// Clone returns a deep copy of c.
func (c Config) Clone() Config {
	return Config{
		Voters:       JointConfig{slices.Clone(c.Voters[0]), slices.Clone(c.Voters[1])},
		AutoLeave:    c.AutoLeave,
		Learners:     slices.Clone(c.Learners),
		LearnersNext: slices.Clone(c.LearnersNext),
	}
}

// ProgressTracker is the leader's view of the group: the configuration, a
// Progress for every member, and the votes of the current election. Its
// zero value holds no configuration at all: install one with SetConfig
// (or build the tracker with MakeProgressTracker) before asking about it.
//
// The configuration is held behind a pointer and never modified once
// installed: SetConfig installs a new one, so that copies of the tracker
// keep theirs, and SetSharedConfig lets trackers alike share one (a
// process with many groups holds a tracker per member of each, nearly
// all with the same few configurations).
//
// A tracker may also hold the configuration alone, with no Progress at
// all (SetConfig with a nil ProgressMap, or DropProgress): what a node
// that does not lead needs, since only a leader tracks its peers'
// replication. Such a tracker answers every question about the
// configuration and the votes; Progress returns nil for every node and
// Visit visits none, until ResetProgress or SetConfig gives it Progress
// again (Tracking tells which).
type ProgressTracker struct {
	*Config
	// Votes holds the first vote received from each node in the current
	// election; nil when none was received.
	Votes map[uint64]bool

	// members holds the Progress of every voter and learner, and of no
	// other node, by value, in ascending ID order: one array per
	// configuration, which Visit walks and Progress searches, instead of a
	// map of pointers (a process with many groups holds one tracker per
	// member of each). Nil when the tracker holds no Progress (Tracking);
	// only SetConfig, ResetProgress and DropProgress replace it.
	members []member
}

// member is the Progress of one member of the configuration.
type member struct {
	id uint64
	pr Progress
}

// SetConfig installs a configuration and the progress of its members (as
// computed by the confchange package): the tracker keeps copies of the
// Progress values, so prs is the caller's again once it returns. A nil prs
// installs the configuration alone: the tracker then holds no Progress.
func (p *ProgressTracker) SetConfig(cfg Config, prs ProgressMap) {
	p.SetSharedConfig(&cfg, prs)
}

// SetSharedConfig is SetConfig with a configuration the tracker may share
// with others: neither the caller nor anyone else may modify cfg, or a
// slice of it, afterwards. The tracker never does.
func (p *ProgressTracker) SetSharedConfig(cfg *Config, prs ProgressMap) {
	p.Config = cfg
	// A fresh slice: copies of the tracker (a confchange.Changer holds
	// one) must not see it change under them.
	p.members = nil
	if prs != nil {
		p.members = make([]member, 0, len(prs))
	}
	for id, pr := range prs {
		p.members = append(p.members, member{id, *pr})
	}
	slices.SortFunc(p.members, func(a, b member) int { return cmp.Compare(a.id, b.id) })
}

// MakeProgressTracker returns a tracker with an empty configuration and
// no Progress. The bounds of its members' windows are given by whoever
// builds their Progress (confchange.Changer's MaxInflight and
// MaxInflightBytes).
func MakeProgressTracker() ProgressTracker {
	return ProgressTracker{Config: &Config{}}
}

// Progress returns the Progress of member id, or nil if id is not a
// member. The pointer is valid until the next SetConfig.
func (p *ProgressTracker) Progress(id uint64) *Progress {
	if len(p.members) <= stackVoters {
		// A scan of a handful of entries beats a binary search's calls.
		for i := range p.members {
			if p.members[i].id == id {
				return &p.members[i].pr
			}
		}
		return nil
	}
	i, ok := slices.BinarySearchFunc(p.members, id, func(m member, id uint64) int { return cmp.Compare(m.id, id) })
	if !ok {
		return nil
	}
	return &p.members[i].pr
}

// Len returns the number of members: voters and learners.
func (p *ProgressTracker) Len() int {
	if p.members != nil {
		return len(p.members)
	}
	n := len(p.Voters[0]) + len(p.Learners)
	for _, id := range p.Voters[1] {
		if !p.Voters[0].Contains(id) {
			n++
		}
	}
	return n
}

// Tracking reports whether the tracker holds a Progress for its members,
// rather than the configuration alone.
func (p *ProgressTracker) Tracking() bool { return p.members != nil }

// IsMember reports whether id is a voter (of either half) or a learner.
func (p *ProgressTracker) IsMember(id uint64) bool {
	return p.Voters.Contains(id) || MajorityConfig(p.Learners).Contains(id)
}

// DropProgress forgets every member's Progress, keeping the
// configuration: the tracker of a node that stops leading.
func (p *ProgressTracker) DropProgress() { p.members = nil }

// ResetProgress gives every member a fresh Progress: nothing known to
// match, probing from next, no window, IsLearner set for the learners.
// It allocates a new array, so copies of the tracker are unaffected.
func (p *ProgressTracker) ResetProgress(next uint64) {
	ids := append(p.Voters.IDs(), p.Learners...)
	slices.Sort(ids)
	p.members = make([]member, 0, len(ids))
	for _, id := range ids {
		learner := MajorityConfig(p.Learners).Contains(id)
		p.members = append(p.members, member{id, Progress{Next: next, IsLearner: learner}})
	}
}

// ProgressMap returns a copy of every member's Progress, by ID; the
// windows of appends in flight are cloned too, so nothing in the copy is
// shared with the tracker.
func (p *ProgressTracker) ProgressMap() ProgressMap {
	prs := make(ProgressMap, len(p.members))
	for i := range p.members {
		cp := p.members[i].pr
		cp.Inflights = cp.Inflights.Clone()
		prs[p.members[i].id] = &cp
	}
	return prs
}

// AckedIndex returns the Match of the voter, and false if it is not a
// member; it makes the tracker an AckedIndexer.
func (p *ProgressTracker) AckedIndex(voterID uint64) (uint64, bool) {
	if pr := p.Progress(voterID); pr != nil {
		return pr.Match, true
	}
	return 0, false
}

// ConfState returns the configuration in its persisted form. Every slice is
// new, sorted, and nil when empty.
func (p *ProgressTracker) ConfState() raftpb.ConfState {
	return raftpb.ConfState{
		Voters:         nilIfEmpty(p.Voters[0]),
		VotersOutgoing: nilIfEmpty(p.Voters[1]),
		Learners:       nilIfEmpty(p.Learners),
		LearnersNext:   nilIfEmpty(p.LearnersNext),
		AutoLeave:      p.AutoLeave,
	}
}

// nilIfEmpty returns a copy of ids, or nil if it is empty.
func nilIfEmpty(ids []uint64) []uint64 {
	if len(ids) == 0 {
		return nil
	}
	return slices.Clone(ids)
}

// IsSingleton reports whether the group has exactly one voter and is not
// joint: that voter alone is a quorum.
func (p *ProgressTracker) IsSingleton() bool {
	return len(p.Voters[0]) == 1 && !p.Voters.IsJoint()
}

// Committed returns the largest index a quorum of the voters has
// acknowledged, following [JointConfig.CommittedIndex] (math.MaxUint64 if
// there are no voters).
func (p *ProgressTracker) Committed() uint64 {
	return p.Voters.CommittedIndex(p)
}

// Visit calls f for every node with a Progress, voters and learners alike,
// in ascending ID order. f may change the Progress it is given; it must
// not call SetConfig.
func (p *ProgressTracker) Visit(f func(id uint64, pr *Progress)) {
	for i := range p.members {
		f(p.members[i].id, &p.members[i].pr)
	}
}

// QuorumActive reports whether the voters marked RecentActive form a
// quorum of the configuration. The leader is expected to mark itself
// active; a voter without a Progress counts as inactive.
func (p *ProgressTracker) QuorumActive() bool {
	active := func(id uint64) (bool, bool) {
		pr := p.Progress(id)
		return pr != nil && pr.RecentActive, true
	}
	return joinResults(p.Voters[0].voteResult(active), p.Voters[1].voteResult(active)) == VoteWon
}

// VoterNodes returns the voters of both halves, sorted, in a new slice.
func (p *ProgressTracker) VoterNodes() []uint64 { return p.Voters.IDs() }

// LearnerNodes returns the learners, sorted, in a new slice (nil when
// there are none). Nodes of LearnersNext are still voters and not included.
func (p *ProgressTracker) LearnerNodes() []uint64 { return nilIfEmpty(p.Learners) }

// ResetVotes forgets the votes of the previous election. It drops the
// map rather than clearing it: only a candidate needs one, and a process
// with many groups should not keep one in every leader and follower.
func (p *ProgressTracker) ResetVotes() { p.Votes = nil }

// RecordVote records that node id granted (v true) or rejected its vote.
// Only the first vote of a voter in an election counts; a later one, which
// could only be a duplicate or a confused peer, is ignored, and so is the
// vote of a node that is not a voter.
func (p *ProgressTracker) RecordVote(id uint64, v bool) {
	if !p.Voters.Contains(id) {
		return // only voters count; recording others would let forged IDs grow the map
	}
	if p.Votes == nil {
		p.Votes = map[uint64]bool{}
	}
	if _, ok := p.Votes[id]; !ok {
		p.Votes[id] = v
	}
}

// TallyVotes returns how many voters of the configuration (each counted
// once, whichever half it is in) granted and rejected their vote, and the
// outcome of the election. Votes of non-voters are ignored.
func (p *ProgressTracker) TallyVotes() (granted, rejected int, result VoteResult) {
	count := func(id uint64) {
		if v, ok := p.Votes[id]; ok && v {
			granted++
		} else if ok {
			rejected++
		}
	}
	for _, id := range p.Voters[0] {
		count(id)
	}
	for _, id := range p.Voters[1] {
		if !p.Voters[0].Contains(id) {
			count(id)
		}
	}
	return granted, rejected, p.Voters.VoteResult(p.Votes)
}

// CheckInvariants returns an error describing the first broken invariant of
// the tracker, or nil: each set sorted without duplicates; learners
// disjoint from the voters of both halves; LearnersNext within the outgoing
// voters, outside the incoming ones and disjoint from Learners; AutoLeave
// only when joint; and, when it holds Progress (Tracking), a Progress for
// every member and for nothing else, each valid, with IsLearner set
// exactly for the nodes of Learners.
func (p *ProgressTracker) CheckInvariants() error {
	if p.Config == nil {
		return errors.New("tracker: no configuration installed (the zero ProgressTracker: use MakeProgressTracker or SetConfig)")
	}
	if err := p.Config.check(); err != nil {
		return err
	}
	if !p.Tracking() {
		return nil // the configuration alone
	}
	if err := p.checkMembers(); err != nil {
		return err
	}
	return p.checkProgress()
}

// check checks the configuration on its own.
func (c Config) check() error {
	for _, s := range []MajorityConfig{c.Voters[0], c.Voters[1], c.Learners, c.LearnersNext} {
		if err := s.check(); err != nil {
			return fmt.Errorf("tracker: %w", err)
		}
	}
	for _, id := range c.Learners {
		if c.Voters.Contains(id) {
			return fmt.Errorf("tracker: node %d is both voter and learner", id)
		}
	}
	for _, id := range c.LearnersNext {
		switch {
		case !c.Voters[1].Contains(id):
			return fmt.Errorf("tracker: learner-next %d is not an outgoing voter", id)
		case c.Voters[0].Contains(id):
			return fmt.Errorf("tracker: learner-next %d is an incoming voter", id)
		case slices.Contains(c.Learners, id):
			return fmt.Errorf("tracker: learner-next %d is also a learner", id)
		}
	}
	if c.AutoLeave && !c.Voters.IsJoint() {
		return errors.New("tracker: autoleave set outside joint consensus")
	}
	return nil
}

// checkMembers checks that the members and the progress entries agree:
// entries in ascending ID order without duplicates, one for every member
// and none for another node. It allocates nothing: tests and the
// simulator call it after every input.
func (p *ProgressTracker) checkMembers() error {
	for i := 1; i < len(p.members); i++ {
		if p.members[i-1].id >= p.members[i].id {
			return fmt.Errorf("tracker: progress entries out of order at node %d", p.members[i].id)
		}
	}
	n := 0
	for half, ids := range [][]uint64{p.Voters[0], p.Voters[1], p.Learners} {
		for _, id := range ids {
			if p.Progress(id) == nil {
				return fmt.Errorf("tracker: member %d has no progress", id)
			}
			if half != 1 || !p.Voters[0].Contains(id) {
				n++ // a voter of both halves is one member
			}
		}
	}
	if n != len(p.members) {
		return fmt.Errorf("tracker: %d members but %d progress entries:\n%v", n, len(p.members), p.ProgressMap())
	}
	return nil
}

// checkProgress checks every Progress and its IsLearner flag, in ID order.
func (p *ProgressTracker) checkProgress() error {
	var err error
	p.Visit(func(id uint64, pr *Progress) {
		switch {
		case err != nil:
		case pr == nil:
			err = fmt.Errorf("tracker: progress of %d is nil", id)
		case pr.IsLearner != slices.Contains(p.Learners, id):
			err = fmt.Errorf("tracker: progress of %d has IsLearner=%v", id, pr.IsLearner)
		default:
			if e := pr.CheckInvariants(); e != nil {
				err = fmt.Errorf("tracker: node %d: %w", id, e)
			}
		}
	})
	return err
}
