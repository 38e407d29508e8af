package tracker_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// jointWithLearners is a joint configuration that uses every field: 3 is
// being demoted (a learner once the joint config is left), 4 is added.
var jointWithLearners = tracker.Config{
	Voters:       tracker.JointConfig{{1, 2, 4}, {1, 2, 3}},
	AutoLeave:    true,
	Learners:     []uint64{5},
	LearnersNext: []uint64{3},
}

// newTracker returns a valid tracker for cfg: every member has a probing
// Progress whose Match is ten times its ID.
func newTracker(cfg tracker.Config) *tracker.ProgressTracker {
	p := tracker.MakeProgressTracker()
	p.SetConfig(cfg.Clone(), newProgressMap(cfg))
	return &p
}

// newProgressMap returns the progress map newTracker installs for cfg.
func newProgressMap(cfg tracker.Config) tracker.ProgressMap {
	prs := tracker.ProgressMap{}
	for _, id := range append(cfg.Voters.IDs(), cfg.Learners...) {
		pr := progress(tracker.StateProbe, 10*id, 10*id+1)
		for _, l := range cfg.Learners {
			pr.IsLearner = pr.IsLearner || l == id
		}
		prs[id] = pr
	}
	return prs
}

func TestConfigStringShowsOnlyWhatIsSet(t *testing.T) {
	if got, want := jointWithLearners.String(), "voters=(1 2 4)&&(1 2 3) learners=(5) learners_next=(3) autoleave"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	simple := tracker.Config{Voters: tracker.JointConfig{{1, 2, 3}}}
	if got, want := simple.String(), "voters=(1 2 3)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestConfigCloneSharesNoMemory(t *testing.T) {
	c := jointWithLearners.Clone()
	if diff := cmp.Diff(jointWithLearners, c); diff != "" {
		t.Fatalf("clone differs (-orig +clone):\n%s", diff)
	}
	c.Voters[0][0], c.Voters[1][0], c.Learners[0], c.LearnersNext[0] = 99, 99, 99, 99
	if jointWithLearners.Voters[0][0] != 1 || jointWithLearners.Voters[1][0] != 1 ||
		jointWithLearners.Learners[0] != 5 || jointWithLearners.LearnersNext[0] != 3 {
		t.Fatalf("writing to the clone changed the original: %v", jointWithLearners)
	}
}

func TestMakeProgressTrackerIsEmptyAndValid(t *testing.T) {
	p := tracker.MakeProgressTracker()
	if p.Len() != 0 || len(p.Votes) != 0 || p.Tracking() || p.Config == nil {
		t.Fatalf("got %+v", p)
	}
	if err := p.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

func TestConfStateIsSortedCopyWithNilForEmpty(t *testing.T) {
	p := newTracker(jointWithLearners)
	want := raftpb.ConfState{
		Voters: []uint64{1, 2, 4}, VotersOutgoing: []uint64{1, 2, 3},
		Learners: []uint64{5}, LearnersNext: []uint64{3}, AutoLeave: true,
	}
	cs := p.ConfState()
	if diff := cmp.Diff(want, cs); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	cs.Voters[0] = 99
	if p.Voters[0][0] != 1 {
		t.Fatal("ConfState shares memory with the tracker")
	}
	empty := newTracker(tracker.Config{Voters: tracker.JointConfig{{1}}}).ConfState()
	if empty.VotersOutgoing != nil || empty.Learners != nil || empty.LearnersNext != nil {
		t.Fatalf("empty sets are not nil: %+v", empty)
	}
}

func TestIsSingletonOnlyForOneVoterOutsideJoint(t *testing.T) {
	tests := []struct {
		voters tracker.JointConfig
		want   bool
	}{
		{tracker.JointConfig{{1}}, true},
		{tracker.JointConfig{}, false},
		{tracker.JointConfig{{1, 2}}, false},
		{tracker.JointConfig{{1}, {1, 2}}, false},
	}
	for _, tt := range tests {
		p := newTracker(tracker.Config{Voters: tt.voters})
		if got := p.IsSingleton(); got != tt.want {
			t.Errorf("%v: IsSingleton = %v, want %v", tt.voters, got, tt.want)
		}
	}
}

func TestCommittedIsJointCommitOfVotersMatch(t *testing.T) {
	p := newTracker(jointWithLearners) // match = 10*id
	// incoming (1 2 4): 20; outgoing (1 2 3): 20; learner 5 does not count.
	if got := p.Committed(); got != 20 {
		t.Fatalf("Committed = %d, want 20", got)
	}
	p.Progress(1).MaybeUpdate(100)
	p.Progress(3).MaybeUpdate(100)
	// incoming (100 20 40): 40; outgoing (100 20 100): 100.
	if got := p.Committed(); got != 40 {
		t.Fatalf("Committed = %d, want 40", got)
	}
}

func TestVisitGoesThroughEveryMemberInIDOrder(t *testing.T) {
	p := newTracker(jointWithLearners)
	var ids []uint64
	p.Visit(func(id uint64, pr *tracker.Progress) {
		if pr != p.Progress(id) {
			t.Fatalf("Visit passed a different progress for %d", id)
		}
		ids = append(ids, id)
	})
	if diff := cmp.Diff([]uint64{1, 2, 3, 4, 5}, ids); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestVisitDoesNotAllocateUpToSevenMembers(t *testing.T) {
	p := newTracker(tracker.Config{Voters: tracker.JointConfig{{1, 2, 3, 4, 5}}, Learners: []uint64{6, 7}})
	var sum uint64
	allocs := testing.AllocsPerRun(100, func() {
		p.Visit(func(id uint64, pr *tracker.Progress) { sum += id })
	})
	if allocs != 0 {
		t.Fatalf("%v allocations, want 0", allocs)
	}
}

func TestQuorumActiveNeedsActiveQuorumOfBothHalves(t *testing.T) {
	p := newTracker(jointWithLearners) // (1 2 4)&&(1 2 3), learner 5
	setActive := func(ids ...uint64) {
		p.Visit(func(_ uint64, pr *tracker.Progress) { pr.RecentActive = false })
		for _, id := range ids {
			if pr := p.Progress(id); pr != nil {
				pr.RecentActive = true
			}
		}
	}
	tests := []struct {
		active []uint64
		want   bool
	}{
		{[]uint64{1, 2}, true},
		{[]uint64{1, 4, 3}, true},
		{[]uint64{1, 4}, false},
		{[]uint64{1, 3}, false},
		{[]uint64{1, 5}, false},
	}
	for _, tt := range tests {
		setActive(tt.active...)
		if got := p.QuorumActive(); got != tt.want {
			t.Errorf("active %v: QuorumActive = %v, want %v", tt.active, got, tt.want)
		}
	}
	prs := newProgressMap(jointWithLearners)
	delete(prs, 2) // a voter without progress counts as inactive
	p.SetConfig(jointWithLearners.Clone(), prs)
	setActive(1, 3, 4)
	if !p.QuorumActive() {
		t.Error("1, 3 and 4 active: want a quorum")
	}
	setActive(1, 4)
	if p.QuorumActive() {
		t.Error("only 1 and 4 active: want no quorum of (1 2 3)")
	}
}

func TestVoterAndLearnerNodesAreSortedCopies(t *testing.T) {
	p := newTracker(jointWithLearners)
	if diff := cmp.Diff([]uint64{1, 2, 3, 4}, p.VoterNodes()); diff != "" {
		t.Errorf("VoterNodes (-want +got):\n%s", diff)
	}
	learners := p.LearnerNodes()
	if diff := cmp.Diff([]uint64{5}, learners); diff != "" {
		t.Errorf("LearnerNodes (-want +got):\n%s", diff)
	}
	learners[0] = 99
	if p.Learners[0] != 5 {
		t.Error("LearnerNodes shares memory with the tracker")
	}
	if got := newTracker(tracker.Config{Voters: tracker.JointConfig{{1}}}).LearnerNodes(); got != nil {
		t.Errorf("LearnerNodes without learners = %v, want nil", got)
	}
}

func TestRecordVoteKeepsTheFirstVoteOfANode(t *testing.T) {
	p := newTracker(tracker.Config{Voters: tracker.JointConfig{{1, 2, 3}}})
	p.RecordVote(1, true)
	p.RecordVote(1, false)
	p.RecordVote(2, false)
	p.RecordVote(2, true)
	if granted, rejected, res := p.TallyVotes(); granted != 1 || rejected != 1 || res != tracker.VotePending {
		t.Fatalf("TallyVotes = %d, %d, %v; want 1, 1, VotePending", granted, rejected, res)
	}
	p.ResetVotes()
	p.RecordVote(2, true)
	p.RecordVote(3, true)
	if granted, rejected, res := p.TallyVotes(); granted != 2 || rejected != 0 || res != tracker.VoteWon {
		t.Fatalf("after reset: TallyVotes = %d, %d, %v; want 2, 0, VoteWon", granted, rejected, res)
	}
}

func TestRecordAndResetVotesWorkOnZeroTracker(t *testing.T) {
	var p tracker.ProgressTracker // no Votes map yet
	p.SetConfig(tracker.Config{Voters: tracker.JointConfig{tracker.MakeMajorityConfig(1)}}, nil)
	p.RecordVote(1, true)
	if !p.Votes[1] {
		t.Fatal("vote not recorded on a zero tracker")
	}
	p.ResetVotes()
	if len(p.Votes) != 0 {
		t.Fatalf("ResetVotes left votes %v", p.Votes)
	}
	p.RecordVote(1, false)
	if v, ok := p.Votes[1]; !ok || v {
		t.Fatalf("votes after a reset = %v, want 1 rejecting", p.Votes)
	}
}

func TestTallyVotesCountsEachVoterOnceAndIgnoresNonVoters(t *testing.T) {
	p := newTracker(jointWithLearners) // (1 2 4)&&(1 2 3), learner 5
	for id, v := range map[uint64]bool{1: true, 2: true, 3: false, 4: false, 5: true, 9: true} {
		p.RecordVote(id, v)
	}
	granted, rejected, res := p.TallyVotes()
	if granted != 2 || rejected != 2 || res != tracker.VoteWon {
		t.Fatalf("TallyVotes = %d, %d, %v; want 2, 2, VoteWon", granted, rejected, res)
	}
}

func TestTrackerCheckInvariantsNamesEachViolation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *tracker.ProgressTracker)
	}{
		{"unsorted voters", func(p *tracker.ProgressTracker) { p.Voters[0] = tracker.MajorityConfig{2, 1, 4} }},
		{"duplicate learners", func(p *tracker.ProgressTracker) { p.Learners = []uint64{5, 5} }},
		{"learner is incoming voter", func(p *tracker.ProgressTracker) { p.Learners = []uint64{4, 5} }},
		{"learner is outgoing voter", func(p *tracker.ProgressTracker) { p.Learners = []uint64{3, 5} }},
		{"learner-next not outgoing voter", func(p *tracker.ProgressTracker) { p.LearnersNext = []uint64{3, 4} }},
		{"learner-next is incoming voter", func(p *tracker.ProgressTracker) { p.LearnersNext = []uint64{1, 3} }},
		{"learner-next is learner", func(p *tracker.ProgressTracker) {
			p.Voters[1] = tracker.MajorityConfig{1, 2, 3, 5}
			p.LearnersNext = []uint64{3, 5}
		}},
		{"autoleave outside joint", func(p *tracker.ProgressTracker) {
			p.Voters[1], p.LearnersNext = nil, nil
			p.Voters[0] = tracker.MajorityConfig{1, 2, 3, 4}
		}},
		{"member without progress", func(p *tracker.ProgressTracker) {
			prs := newProgressMap(jointWithLearners)
			delete(prs, 3)
			p.SetConfig(jointWithLearners.Clone(), prs)
		}},
		{"progress without member", func(p *tracker.ProgressTracker) {
			prs := newProgressMap(jointWithLearners)
			prs[9] = progress(tracker.StateProbe, 0, 1)
			p.SetConfig(jointWithLearners.Clone(), prs)
		}},
		{"progress out of ID order", func(p *tracker.ProgressTracker) { tracker.SwapMembers(p, 1, 2) }},
		{"invalid progress", func(p *tracker.ProgressTracker) { p.Progress(2).Next = 0 }},
		{"learner flag on voter", func(p *tracker.ProgressTracker) { p.Progress(1).IsLearner = true }},
		{"learner-next flagged learner", func(p *tracker.ProgressTracker) { p.Progress(3).IsLearner = true }},
		{"learner flag missing", func(p *tracker.ProgressTracker) { p.Progress(5).IsLearner = false }},
	}
	for _, tt := range tests {
		p := newTracker(jointWithLearners)
		if err := p.CheckInvariants(); err != nil {
			t.Fatalf("valid tracker: %v", err)
		}
		tt.mutate(p)
		if err := p.CheckInvariants(); err == nil {
			t.Errorf("%s: %v passes its invariants", tt.name, p.Config)
		}
	}
}

// TestVotesOfNonVotersAreNotRecorded: a vote response from a node outside
// the configuration (a forged ID, a removed node) is not stored, so such
// messages cannot grow the vote map.
func TestVotesOfNonVotersAreNotRecorded(t *testing.T) {
	p := tracker.MakeProgressTracker()
	p.Voters[0] = tracker.MakeMajorityConfig(1, 2, 3)
	p.Voters[1] = tracker.MakeMajorityConfig(4)
	for _, id := range []uint64{4, 9, 1 << 40} {
		p.RecordVote(id, true)
	}
	if len(p.Votes) != 1 || !p.Votes[4] {
		t.Fatalf("votes %v, want only the outgoing voter 4", p.Votes)
	}
}

// TestVisitAfterSetConfigWalksTheCachedOrderWithoutAllocating: the order is
// computed once per configuration, not sorted on every visit, at any size.
func TestVisitAfterSetConfigWalksTheCachedOrderWithoutAllocating(t *testing.T) {
	var p tracker.ProgressTracker
	prs := tracker.ProgressMap{}
	ids := []uint64{9, 3, 11, 1, 7, 5, 2, 8, 4}
	for _, id := range ids {
		prs[id] = &tracker.Progress{Next: 1, Inflights: tracker.NewInflights(1, 0)}
	}
	p.SetConfig(tracker.Config{Voters: tracker.JointConfig{tracker.MakeMajorityConfig(ids...)}}, prs)
	var got []uint64
	p.Visit(func(id uint64, _ *tracker.Progress) { got = append(got, id) })
	want := []uint64{1, 2, 3, 4, 5, 7, 8, 9, 11}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("visit order %v, want %v", got, want)
	}
	n := 0
	if allocs := testing.AllocsPerRun(100, func() { p.Visit(func(uint64, *tracker.Progress) { n++ }) }); allocs != 0 {
		t.Fatalf("Visit of 9 members allocated %v times", allocs)
	}
}

// TestTheTrackerKeepsCopiesOfTheProgressItIsGiven: SetConfig copies the
// Progress values, so the map it was given is the caller's again, and
// ProgressMap hands out copies that share nothing with the tracker (not
// even the windows of appends in flight).
func TestTheTrackerKeepsCopiesOfTheProgressItIsGiven(t *testing.T) {
	prs := newProgressMap(jointWithLearners)
	prs[2].Inflights = tracker.NewInflights(4, 0)
	var p tracker.ProgressTracker
	p.SetConfig(jointWithLearners.Clone(), prs)
	prs[2].Match = 99
	if got := p.Progress(2).Match; got != 20 {
		t.Fatalf("a change to the given map reached the tracker: match %d", got)
	}
	cp := p.ProgressMap()
	cp[2].Match = 77
	cp[2].Inflights.Add(30, 1)
	if got := p.Progress(2); got.Match != 20 || got.Inflights.Count() != 0 {
		t.Fatalf("a change to ProgressMap's copy reached the tracker: %v", got)
	}
	if p.Progress(6) != nil || p.Len() != 5 {
		t.Fatalf("Progress(6) = %v, Len = %d; want nil, 5", p.Progress(6), p.Len())
	}
	if err := p.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestProgressFindsEveryMemberAtAnySize: the lookup by ID (a scan for a
// few members, a binary search beyond) finds each member and no other node.
func TestProgressFindsEveryMemberAtAnySize(t *testing.T) {
	for n := 1; n <= 12; n++ {
		var ids []uint64
		prs := tracker.ProgressMap{}
		for i := 1; i <= n; i++ {
			id := uint64(3 * i)
			ids = append(ids, id)
			prs[id] = &tracker.Progress{Match: id, Next: id + 1}
		}
		var p tracker.ProgressTracker
		p.SetConfig(tracker.Config{Voters: tracker.JointConfig{tracker.MakeMajorityConfig(ids...)}}, prs)
		for id := uint64(0); id <= uint64(3*n+1); id++ {
			pr := p.Progress(id)
			member := id > 0 && id%3 == 0
			if (pr != nil) != member || (pr != nil && pr.Match != id) {
				t.Fatalf("%d members: Progress(%d) = %v", n, id, pr)
			}
		}
	}
}

// TestATrackerMayHoldItsConfigurationWithoutProgress: a tracker given the
// configuration alone (what a node that does not lead holds) answers
// every question about membership as one with Progress does, holds no
// Progress and passes its invariants; ResetProgress then gives every
// member, and nothing else, a fresh Progress, learners marked.
func TestATrackerMayHoldItsConfigurationWithoutProgress(t *testing.T) {
	full := newTracker(jointWithLearners)
	p := tracker.MakeProgressTracker()
	p.SetConfig(jointWithLearners.Clone(), nil)
	if p.Tracking() || !full.Tracking() {
		t.Fatalf("Tracking: %v with the configuration alone, %v with Progress", p.Tracking(), full.Tracking())
	}
	if p.Len() != 5 || full.Len() != 5 {
		t.Fatalf("Len: %d with the configuration alone, %d with Progress; want 5 (1 2 3 4 5)", p.Len(), full.Len())
	}
	for id := uint64(0); id <= 6; id++ {
		member := id >= 1 && id <= 5
		if p.IsMember(id) != member || full.IsMember(id) != member {
			t.Errorf("IsMember(%d) = %v and %v, want %v", id, p.IsMember(id), full.IsMember(id), member)
		}
		if p.Progress(id) != nil {
			t.Errorf("node %d has a Progress in a tracker without any", id)
		}
	}
	visited := 0
	p.Visit(func(uint64, *tracker.Progress) { visited++ })
	if visited != 0 {
		t.Errorf("Visit visited %d entries of a tracker without Progress", visited)
	}
	if err := p.CheckInvariants(); err != nil {
		t.Fatalf("a tracker without Progress: %v", err)
	}
	p.ResetProgress(7)
	if !p.Tracking() || p.Len() != 5 {
		t.Fatalf("after ResetProgress: Tracking %v, Len %d", p.Tracking(), p.Len())
	}
	for id := uint64(1); id <= 5; id++ {
		pr := p.Progress(id)
		if pr == nil || pr.Next != 7 || pr.Match != 0 || pr.IsLearner != (id == 5) || pr.Inflights != nil {
			t.Errorf("after ResetProgress(7), node %d: %+v", id, pr)
		}
	}
	if err := p.CheckInvariants(); err != nil {
		t.Fatalf("after ResetProgress: %v", err)
	}
	p.DropProgress()
	if p.Tracking() || p.Progress(1) != nil || p.Len() != 5 {
		t.Fatalf("after DropProgress: Tracking %v, Len %d", p.Tracking(), p.Len())
	}
}

// TestConfigEqualComparesEveryField checks that Config.Equal tells apart
// configurations that differ in any one of their fields.
func TestConfigEqualComparesEveryField(t *testing.T) {
	base := tracker.Config{Voters: tracker.JointConfig{{1, 2, 3}, {1, 2}}, Learners: []uint64{4}, LearnersNext: []uint64{5}}
	variants := []func(c *tracker.Config){
		func(c *tracker.Config) { c.Voters[0] = []uint64{1, 2} },
		func(c *tracker.Config) { c.Voters[1] = nil },
		func(c *tracker.Config) { c.Learners = nil },
		func(c *tracker.Config) { c.LearnersNext = nil },
		func(c *tracker.Config) { c.AutoLeave = true },
	}
	if same := base.Clone(); !base.Equal(&same) {
		t.Fatalf("%v is not Equal to its clone", base)
	}
	for i, change := range variants {
		other := base.Clone()
		change(&other)
		if base.Equal(&other) {
			t.Errorf("variant %d: %v Equal to %v", i, base, other)
		}
	}
}
