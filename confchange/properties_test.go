package confchange_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/tickraft/raft/confchange"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// drawChanges draws up to max changes of nodes 1..6.
func drawChanges(t *rapid.T, max int) []raftpb.ConfChangeSingle {
	types := []raftpb.ConfChangeType{
		raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode,
		raftpb.ConfChangeRemoveNode, raftpb.ConfChangeUpdateNode,
	}
	n := rapid.IntRange(0, max).Draw(t, "changes")
	ccs := make([]raftpb.ConfChangeSingle, n)
	for i := range ccs {
		ccs[i] = raftpb.ConfChangeSingle{
			Type:   rapid.SampledFrom(types).Draw(t, "type"),
			NodeID: rapid.Uint64Range(1, 6).Draw(t, "node"),
		}
	}
	return ccs
}

// target is the obvious model of a membership outside joint consensus: two
// sets, changed one change at a time.
type target struct{ voters, learners []uint64 }

func (m target) apply(ccs []raftpb.ConfChangeSingle) target {
	voters, learners := slices.Clone(m.voters), slices.Clone(m.learners)
	for _, cc := range ccs {
		id := cc.NodeID
		switch cc.Type {
		case raftpb.ConfChangeAddNode:
			voters, learners = append(del(voters, id), id), del(learners, id)
		case raftpb.ConfChangeAddLearnerNode:
			voters, learners = del(voters, id), append(del(learners, id), id)
		case raftpb.ConfChangeRemoveNode:
			voters, learners = del(voters, id), del(learners, id)
		}
	}
	return target{tracker.MakeMajorityConfig(voters...), tracker.MakeMajorityConfig(learners...)}
}

func del(s []uint64, id uint64) []uint64 {
	return slices.DeleteFunc(s, func(x uint64) bool { return x == id })
}

// disjointMajoritiesExist reports, by enumerating every majority of old,
// whether some majority of old shares no member with some majority of new.
func disjointMajoritiesExist(old, new tracker.MajorityConfig) bool {
	for mask := 0; mask < 1<<len(old); mask++ {
		var a []uint64
		for i, id := range old {
			if mask&(1<<i) != 0 {
				a = append(a, id)
			}
		}
		if 2*len(a) <= len(old) {
			continue
		}
		rest := 0 // the largest part of new disjoint from a
		for _, id := range new {
			if !slices.Contains(a, id) {
				rest++
			}
		}
		if 2*rest > len(new) {
			return true
		}
	}
	return false
}

// checkValid fails t unless cfg and prs form a valid tracker.
func checkValid(t *rapid.T, cfg tracker.Config, prs tracker.ProgressMap) {
	p := trackerOf(cfg, prs)
	if err := p.CheckInvariants(); err != nil {
		t.Fatalf("%v: %v", cfg, err)
	}
	for _, id := range cfg.Learners {
		if cfg.Voters.Contains(id) {
			t.Fatalf("%v: %d is voter and learner", cfg, id)
		}
	}
}

func TestSimpleChangesKeepQuorumsOverlapping(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		chg := changerFrom(t, "v1")
		model := target{voters: []uint64{1}}
		for step := rapid.IntRange(1, 30).Draw(t, "steps"); step > 0; step-- {
			ccs := drawChanges(t, 3)
			want := model.apply(ccs)
			before := copyTracker(chg.Tracker)
			cfg, prs, err := chg.Simple(ccs...)
			if diff := cmp.Diff(before, chg.Tracker, deep); diff != "" {
				t.Fatalf("Simple(%s) changed its input:\n%s", confchange.Describe(ccs...), diff)
			}
			switch {
			case len(want.voters) == 0:
				if !errors.Is(err, confchange.ErrRemovedAllVoters) {
					t.Fatalf("Simple(%s) on %v: error %v, want ErrRemovedAllVoters", confchange.Describe(ccs...), before.Config, err)
				}
				continue
			case len(symmetricDiff(model.voters, want.voters)) > 1:
				if !errors.Is(err, confchange.ErrTooManyVoters) {
					t.Fatalf("Simple(%s) on %v: error %v, want ErrTooManyVoters", confchange.Describe(ccs...), before.Config, err)
				}
				continue
			case err != nil:
				t.Fatalf("Simple(%s) on %v: %v", confchange.Describe(ccs...), before.Config, err)
			}
			checkValid(t, cfg, prs)
			checkReachesTarget(t, cfg, prs, want)
			if disjointMajoritiesExist(before.Voters[0], cfg.Voters[0]) {
				t.Fatalf("%v to %v: two disjoint majorities could decide", before.Voters[0], cfg.Voters[0])
			}
			install(chg, cfg, prs)
			model = want
		}
	})
}

func symmetricDiff(a, b []uint64) []uint64 {
	var d []uint64
	for _, id := range a {
		if !slices.Contains(b, id) {
			d = append(d, id)
		}
	}
	for _, id := range b {
		if !slices.Contains(a, id) {
			d = append(d, id)
		}
	}
	return d
}

// checkReachesTarget fails t unless the non-joint cfg and prs hold exactly
// the members of want.
func checkReachesTarget(t *rapid.T, cfg tracker.Config, prs tracker.ProgressMap, want target) {
	wantCfg := tracker.Config{Voters: tracker.JointConfig{want.voters}, Learners: want.learners}
	if diff := cmp.Diff(wantCfg, cfg, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("config (-target +got):\n%s", diff)
	}
	for id, pr := range prs {
		if pr.IsLearner != slices.Contains(want.learners, id) {
			t.Fatalf("node %d: %v, learner=%v in the target", id, pr, !pr.IsLearner)
		}
	}
}

// drawStart returns a changer for a random non-joint configuration whose
// members have acknowledged random indexes.
func drawStart(t *rapid.T) *confchange.Changer {
	ids := rapid.Permutation([]uint64{1, 2, 3, 4, 5, 6}).Draw(t, "ids")
	nv := rapid.IntRange(1, 6).Draw(t, "voters")
	nl := rapid.IntRange(0, 6-nv).Draw(t, "learners")
	chg := newChanger()
	cfg, prs, err := confchange.Restore(*chg, raftpb.ConfState{Voters: ids[:nv], Learners: ids[nv : nv+nl]})
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range prs {
		pr.MaybeUpdate(rapid.Uint64Range(0, 10).Draw(t, "match"))
	}
	install(chg, cfg, prs)
	return chg
}

func TestJointChangeReachesTheSameConfigAsTheDirectTarget(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		chg := drawStart(t)
		start := copyTracker(chg.Tracker)
		ccs := drawChanges(t, 6)
		want := target{start.Voters[0], start.Learners}.apply(ccs)
		cfg, prs, err := chg.EnterJoint(rapid.Bool().Draw(t, "autoleave"), ccs...)
		if len(want.voters) == 0 {
			if !errors.Is(err, confchange.ErrRemovedAllVoters) {
				t.Fatalf("EnterJoint(%s): error %v, want ErrRemovedAllVoters", confchange.Describe(ccs...), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("EnterJoint(%s) on %v: %v", confchange.Describe(ccs...), start.Config, err)
		}
		checkValid(t, cfg, prs)
		install(chg, cfg, prs)
		if cfg, prs, err = chg.LeaveJoint(); err != nil {
			t.Fatalf("LeaveJoint from %v: %v", chg.Tracker.Config, err)
		}
		checkValid(t, cfg, prs)
		checkReachesTarget(t, cfg, prs, want)
		checkProgressKept(t, start.ProgressMap(), prs, ccs)
	})
}

// checkProgressKept fails t unless every node that stayed a member without
// being removed kept its Match.
func checkProgressKept(t *rapid.T, before, after tracker.ProgressMap, ccs []raftpb.ConfChangeSingle) {
	for id, pr := range after {
		old, ok := before[id]
		removed := slices.ContainsFunc(ccs, func(cc raftpb.ConfChangeSingle) bool {
			return cc.NodeID == id && cc.Type == raftpb.ConfChangeRemoveNode
		})
		if ok && !removed && pr.Match != old.Match {
			t.Fatalf("node %d: match %d became %d", id, old.Match, pr.Match)
		}
	}
}

func TestRestoreOfConfStateRebuildsTheConfig(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		chg := drawStart(t)
		for step := rapid.IntRange(0, 5).Draw(t, "steps"); step > 0; step-- {
			ccs := drawChanges(t, 4)
			var cfg tracker.Config
			var prs tracker.ProgressMap
			var err error
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				cfg, prs, err = chg.Simple(ccs...)
			case 1:
				cfg, prs, err = chg.EnterJoint(rapid.Bool().Draw(t, "autoleave"), ccs...)
			default:
				cfg, prs, err = chg.LeaveJoint()
			}
			if err == nil {
				install(chg, cfg, prs)
			}
		}
		cs := chg.Tracker.ConfState()
		cfg, prs, err := confchange.Restore(*newChanger(), cs)
		if err != nil {
			t.Fatalf("Restore(%v): %v", chg.Tracker.Config, err)
		}
		if diff := cmp.Diff(*chg.Tracker.Config, cfg, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("restored config (-original +restored):\n%s", diff)
		}
		for id, pr := range chg.Tracker.ProgressMap() {
			if prs[id] == nil || prs[id].IsLearner != pr.IsLearner {
				t.Fatalf("node %d: original %v, restored %v", id, pr, prs[id])
			}
		}
		if len(prs) != chg.Tracker.Len() {
			t.Fatalf("restored progress:\n%v\noriginal:\n%v", prs, chg.Tracker.ProgressMap())
		}
		restored := trackerOf(cfg, prs)
		if diff := cmp.Diff(cs, restored.ConfState()); diff != "" {
			t.Fatalf("ConfState round trip (-original +restored):\n%s", diff)
		}
	})
}
