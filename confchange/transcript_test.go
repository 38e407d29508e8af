package confchange_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tickraft/raft/confchange"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/datadriven"
	"github.com/tickraft/raft/tracker"
)

// TestTranscripts runs testdata/*.txt. Every file starts from an empty
// configuration; commands change it in turn:
//
//	simple                   input: changes such as "v1 l2 r3 u4"
//	enter-joint [autoleave]  input: changes
//	leave-joint
//	restore voters=(..) [voters_out=(..)] [learners=(..)]
//	        [learners_next=(..)] [autoleave]
//
// Each prints the resulting configuration and progress, or the error and
// nothing else (the configuration is then unchanged). Every command stands
// for a log entry: LastIndex starts at 0 and grows by one after each
// command, so a member's next index tells which command created its
// progress.
//
// After each command the harness also checks that the changer left its
// input alone and that Restore of the new ConfState rebuilds the same
// configuration.
func TestTranscripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		chg := &confchange.Changer{Tracker: tracker.MakeProgressTracker(), MaxInflight: 64}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			defer func() { chg.LastIndex++ }()
			return runCommand(t, chg, d)
		})
	})
}

func runCommand(t *testing.T, chg *confchange.Changer, d *datadriven.TestData) string {
	ccs, err := confchange.ParseConfChanges(d.Input)
	if err != nil {
		return "error: " + err.Error()
	}
	before := copyTracker(chg.Tracker)
	var cfg tracker.Config
	var prs tracker.ProgressMap
	switch d.Cmd {
	case "simple":
		cfg, prs, err = chg.Simple(ccs...)
	case "enter-joint":
		cfg, prs, err = chg.EnterJoint(d.HasArg("autoleave"), ccs...)
	case "leave-joint":
		cfg, prs, err = chg.LeaveJoint()
	case "restore":
		cfg, prs, err = confchange.Restore(*chg, confState(t, d))
	default:
		d.Fatalf(t, "unknown command %s", d.Cmd)
	}
	if diff := cmp.Diff(before, chg.Tracker, deep); diff != "" {
		t.Errorf("%s: %s changed its input:\n%s", d.Pos, d.Cmd, diff)
	}
	if err != nil {
		return "error: " + err.Error()
	}
	install(chg, cfg, prs)
	checkRestores(t, d, chg)
	return fmt.Sprintf("%v\n%v", cfg, prs)
}

// confState reads the arguments of restore.
func confState(t *testing.T, d *datadriven.TestData) raftpb.ConfState {
	var cs raftpb.ConfState
	d.MaybeScanArgs(t, "voters", &cs.Voters)
	d.MaybeScanArgs(t, "voters_out", &cs.VotersOutgoing)
	d.MaybeScanArgs(t, "learners", &cs.Learners)
	d.MaybeScanArgs(t, "learners_next", &cs.LearnersNext)
	cs.AutoLeave = d.HasArg("autoleave")
	return cs
}

// checkRestores fails t unless Restore of the changer's ConfState gives its
// configuration back.
func checkRestores(t *testing.T, d *datadriven.TestData, chg *confchange.Changer) {
	cfg, _, err := confchange.Restore(*chg, chg.Tracker.ConfState())
	if err != nil {
		t.Errorf("%s: restoring %v: %v", d.Pos, chg.Tracker.Config, err)
		return
	}
	if diff := cmp.Diff(*chg.Tracker.Config, cfg, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s: restored config differs (-current +restored):\n%s", d.Pos, diff)
	}
}
