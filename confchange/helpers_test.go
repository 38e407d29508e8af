package confchange_test

import (
	"reflect"

	"github.com/google/go-cmp/cmp"

	"github.com/tickraft/raft/confchange"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// tb is what the helpers need of a *testing.T or a *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// deep compares trackers down to the windows' unexported ring.
var deep = cmp.Exporter(func(reflect.Type) bool { return true })

// newChanger returns a changer with an empty configuration, windows of 4
// messages and 1000 bytes, and LastIndex 10.
func newChanger() *confchange.Changer {
	return &confchange.Changer{Tracker: tracker.MakeProgressTracker(), LastIndex: 10, MaxInflight: 4, MaxInflightBytes: 1000}
}

// parse reads changes in the compact notation or fails t.
func parse(t tb, s string) []raftpb.ConfChangeSingle {
	t.Helper()
	ccs, err := confchange.ParseConfChanges(s)
	if err != nil {
		t.Fatal(err)
	}
	return ccs
}

// op names one of the changer's operations.
type op int

const (
	simple op = iota
	enterJoint
	enterJointAutoLeave
	leaveJoint
)

// run applies o with the changes in notation s to chg without installing
// the result.
func run(t tb, chg *confchange.Changer, o op, s string) (tracker.Config, tracker.ProgressMap, error) {
	t.Helper()
	ccs := parse(t, s)
	switch o {
	case simple:
		return chg.Simple(ccs...)
	case enterJoint, enterJointAutoLeave:
		return chg.EnterJoint(o == enterJointAutoLeave, ccs...)
	default:
		return chg.LeaveJoint()
	}
}

// install makes a computed configuration the changer's own.
func install(chg *confchange.Changer, cfg tracker.Config, prs tracker.ProgressMap) {
	chg.Tracker.SetConfig(cfg, prs)
}

// mustApply runs o and installs its result, failing t on an error.
func mustApply(t tb, chg *confchange.Changer, o op, s string) {
	t.Helper()
	cfg, prs, err := run(t, chg, o, s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	install(chg, cfg, prs)
}

// changerFrom returns a changer whose configuration is reached by simple
// changes s, one change at a time.
func changerFrom(t tb, s string) *confchange.Changer {
	t.Helper()
	chg := newChanger()
	for _, cc := range parse(t, s) {
		mustApply(t, chg, simple, confchange.Describe(cc))
	}
	return chg
}

// copyTracker returns a deep copy of p, windows included, holding
// Progress exactly when p does.
func copyTracker(p tracker.ProgressTracker) tracker.ProgressTracker {
	c := p
	var prs tracker.ProgressMap
	if p.Tracking() {
		prs = p.ProgressMap()
	}
	c.SetConfig(p.Config.Clone(), prs)
	return c
}

// trackerOf returns a tracker holding cfg and prs.
func trackerOf(cfg tracker.Config, prs tracker.ProgressMap) tracker.ProgressTracker {
	var p tracker.ProgressTracker
	p.SetConfig(cfg, prs)
	return p
}
