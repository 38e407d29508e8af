package tracker_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tickraft/raft/tracker"
)

// progress returns a valid Progress in state with the given match and next
// and a window of 4 messages and 1000 bytes.
func progress(state tracker.StateType, match, next uint64) *tracker.Progress {
	pr := &tracker.Progress{Match: match, Next: next, State: state, RecentActive: true, Inflights: tracker.NewInflights(4, 1000)}
	if state == tracker.StateSnapshot {
		pr.PendingSnapshot = next - 1
	}
	return pr
}

// check fails t if pr breaks an invariant.
func check(t *testing.T, pr *tracker.Progress) {
	t.Helper()
	if err := pr.CheckInvariants(); err != nil {
		t.Fatalf("%v: %v", pr, err)
	}
}

func TestStateTypeHasReadableNames(t *testing.T) {
	for s, want := range map[tracker.StateType]string{
		tracker.StateProbe: "StateProbe", tracker.StateReplicate: "StateReplicate",
		tracker.StateSnapshot: "StateSnapshot", 7: "StateType(7)",
	} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", uint8(s), s.String(), want)
		}
	}
}

func TestBecomeProbeFromReplicateRestartsAfterMatchWithEmptyWindow(t *testing.T) {
	pr := progress(tracker.StateReplicate, 5, 6)
	pr.SentEntries(3, 30)
	pr.BecomeProbe()
	check(t, pr)
	if pr.State != tracker.StateProbe || pr.Next != 6 || pr.Inflights.Count() != 0 || pr.IsPaused() {
		t.Fatalf("got %v, want a running probe from 6", pr)
	}
}

func TestBecomeProbeFromSnapshotResumesPastTheSnapshot(t *testing.T) {
	tests := []struct {
		match, snapshot, wantNext uint64
	}{
		{match: 1, snapshot: 10, wantNext: 11}, // the follower most likely installed it
		{match: 12, snapshot: 10, wantNext: 13},
	}
	for _, tt := range tests {
		pr := progress(tracker.StateProbe, tt.match, tt.match+1)
		pr.BecomeSnapshot(tt.snapshot)
		pr.BecomeProbe()
		check(t, pr)
		if pr.Next != tt.wantNext || pr.PendingSnapshot != 0 {
			t.Errorf("match %d snapshot %d: got %v, want next %d", tt.match, tt.snapshot, pr, tt.wantNext)
		}
	}
}

func TestBecomeReplicateStreamsFromMatch(t *testing.T) {
	pr := progress(tracker.StateProbe, 5, 9)
	pr.SentEntries(1, 0)
	pr.BecomeReplicate()
	check(t, pr)
	if pr.State != tracker.StateReplicate || pr.Next != 6 || pr.MsgAppFlowPaused {
		t.Fatalf("got %v, want StateReplicate from 6, unpaused", pr)
	}
}

func TestBecomeSnapshotWaitsPastTheSnapshot(t *testing.T) {
	pr := progress(tracker.StateReplicate, 3, 4)
	pr.SentEntries(2, 10)
	pr.BecomeSnapshot(20)
	check(t, pr)
	if pr.State != tracker.StateSnapshot || pr.PendingSnapshot != 20 || pr.Next != 21 || pr.Inflights.Count() != 0 || !pr.IsPaused() {
		t.Fatalf("got %v, want a paused snapshot at 20, next 21, empty window", pr)
	}
	behind := progress(tracker.StateProbe, 30, 31)
	behind.BecomeSnapshot(20)
	check(t, behind)
	if behind.Next != 31 {
		t.Fatalf("snapshot behind match moved next to %d, want 31", behind.Next)
	}
	mustPanic(t, "BecomeSnapshot(0)", func() { progress(tracker.StateProbe, 0, 1).BecomeSnapshot(0) })
}

func TestMaybeUpdateRaisesMatchAndNext(t *testing.T) {
	pr := progress(tracker.StateProbe, 3, 4)
	pr.SentEntries(1, 0)
	if !pr.MaybeUpdate(7) {
		t.Fatal("ack of 7 above match 3 reported stale")
	}
	check(t, pr)
	if pr.Match != 7 || pr.Next != 8 || pr.MsgAppFlowPaused {
		t.Fatalf("got %v, want match 7 next 8 unpaused", pr)
	}
	pr.Next = 12
	pr.MaybeUpdate(9)
	if pr.Next != 12 {
		t.Fatalf("ack of 9 lowered next 12 to %d", pr.Next)
	}
}

func TestMaybeUpdateIgnoresStaleAckEntirely(t *testing.T) {
	pr := progress(tracker.StateProbe, 5, 8)
	pr.SentEntries(1, 0)
	before := *pr
	for _, n := range []uint64{0, 4, 5} {
		if pr.MaybeUpdate(n) {
			t.Fatalf("ack of %d at match 5 not reported stale", n)
		}
		if diff := cmp.Diff(before, *pr, cmp.AllowUnexported(tracker.Inflights{})); diff != "" {
			t.Fatalf("stale ack of %d changed the progress (-before +after):\n%s", n, diff)
		}
	}
}

func TestMaybeUpdateFreesAcknowledgedMessages(t *testing.T) {
	pr := progress(tracker.StateReplicate, 0, 1)
	pr.SentEntries(2, 10) // 1..2
	pr.SentEntries(3, 10) // 3..5
	pr.MaybeUpdate(3)
	check(t, pr)
	if pr.Inflights.Count() != 1 || pr.Inflights.Bytes() != 10 {
		t.Fatalf("after ack of 3: %v with %d bytes, want the one message ending at 5", pr, pr.Inflights.Bytes())
	}
}

func TestMaybeDecrToInReplicateRewindsToMatch(t *testing.T) {
	pr := progress(tracker.StateReplicate, 5, 6)
	pr.SentEntries(4, 40) // 6..9
	pr.UpdateSentCommit(9)
	if !pr.MaybeDecrTo(7, 6) {
		t.Fatal("rejection above match reported stale")
	}
	check(t, pr)
	if pr.Next != 6 || pr.Inflights.Count() != 0 || pr.SentCommit != 5 {
		t.Fatalf("got %v, want next 6, empty window, sent commit 5", pr)
	}
}

func TestMaybeDecrToInReplicateIgnoresRejectionAtOrBelowMatch(t *testing.T) {
	pr := progress(tracker.StateReplicate, 5, 6)
	pr.SentEntries(2, 20)
	for _, rejected := range []uint64{3, 5} {
		if pr.MaybeDecrTo(rejected, 0) {
			t.Fatalf("rejection of %d at match 5 not reported stale", rejected)
		}
		if pr.Next != 8 || pr.Inflights.Count() != 1 {
			t.Fatalf("stale rejection changed %v", pr)
		}
	}
}

func TestMaybeDecrToInProbeFollowsTheHint(t *testing.T) {
	tests := []struct {
		name                        string
		match, next, rejected, hint uint64
		wantNext                    uint64
	}{
		{"hint below rejected", 0, 10, 9, 4, 5},
		{"hint at or above rejected", 0, 10, 9, 20, 9},
		{"hint below match", 6, 10, 9, 2, 7},
	}
	for _, tt := range tests {
		pr := progress(tracker.StateProbe, tt.match, tt.next)
		pr.SentEntries(1, 0)
		if !pr.MaybeDecrTo(tt.rejected, tt.hint) {
			t.Fatalf("%s: rejection of the probe reported stale", tt.name)
		}
		check(t, pr)
		if pr.Next != tt.wantNext || pr.MsgAppFlowPaused {
			t.Errorf("%s: got %v, want next %d unpaused", tt.name, pr, tt.wantNext)
		}
	}
}

func TestMaybeDecrToInProbeIgnoresRejectionOfAnOlderProbe(t *testing.T) {
	pr := progress(tracker.StateProbe, 0, 10)
	pr.SentEntries(1, 0)
	if pr.MaybeDecrTo(7, 3) || pr.Next != 10 || !pr.MsgAppFlowPaused {
		t.Fatalf("rejection of 7 with next 10 changed %v", pr)
	}
}

func TestSentEntriesInReplicateAdvancesNextAndFillsWindow(t *testing.T) {
	pr := progress(tracker.StateReplicate, 5, 6)
	pr.SentEntries(3, 300)
	pr.SentEntries(0, 0) // an empty append (a heartbeat of sorts) is not tracked
	check(t, pr)
	if pr.Next != 9 || pr.Inflights.Count() != 1 || pr.Inflights.Bytes() != 300 {
		t.Fatalf("got %v, want next 9 and one message of 300 bytes", pr)
	}
	for i := 0; i < 3; i++ {
		pr.SentEntries(1, 1)
	}
	if !pr.IsPaused() {
		t.Fatalf("window of 4 holds 4 but %v is not paused", pr)
	}
}

func TestSentEntriesInProbePausesOnlyForNonEmptyAppend(t *testing.T) {
	pr := progress(tracker.StateProbe, 5, 6)
	pr.SentEntries(0, 0)
	if pr.IsPaused() {
		t.Fatal("empty probe paused the flow")
	}
	pr.SentEntries(2, 20)
	check(t, pr)
	if !pr.IsPaused() || pr.Next != 6 {
		t.Fatalf("got %v, want paused with next still 6", pr)
	}
}

func TestSentEntriesPanicsWhileSnapshotPending(t *testing.T) {
	pr := progress(tracker.StateSnapshot, 0, 11)
	mustPanic(t, "snapshot is pending", func() { pr.SentEntries(1, 0) })
}

func TestCanBumpCommitOnlyWhenFollowerCouldLearnMore(t *testing.T) {
	pr := progress(tracker.StateReplicate, 5, 9)
	pr.UpdateSentCommit(4)
	tests := []struct {
		index uint64
		want  bool
	}{{3, false}, {4, false}, {5, true}, {20, true}}
	for _, tt := range tests {
		if got := pr.CanBumpCommit(tt.index); got != tt.want {
			t.Errorf("sent 4, next 9: CanBumpCommit(%d) = %v, want %v", tt.index, got, tt.want)
		}
	}
	pr.UpdateSentCommit(8) // everything up to next-1
	if pr.CanBumpCommit(20) {
		t.Error("commit already sent up to next-1, yet CanBumpCommit(20)")
	}
	pr.UpdateSentCommit(2)
	if pr.SentCommit != 8 {
		t.Errorf("UpdateSentCommit(2) lowered SentCommit to %d", pr.SentCommit)
	}
}

func TestIsPausedFollowsTheState(t *testing.T) {
	probe := progress(tracker.StateProbe, 0, 1)
	repl := progress(tracker.StateReplicate, 0, 1)
	snap := progress(tracker.StateSnapshot, 0, 6)
	if probe.IsPaused() || repl.IsPaused() || !snap.IsPaused() {
		t.Fatalf("paused: probe %v, replicate %v, snapshot %v; want false, false, true",
			probe.IsPaused(), repl.IsPaused(), snap.IsPaused())
	}
}

func TestProgressStringIsCompact(t *testing.T) {
	pr := progress(tracker.StateReplicate, 5, 6)
	pr.SentEntries(1, 0)
	if got, want := pr.String(), "StateReplicate match=5 next=7 inflight=1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	pr = &tracker.Progress{Next: 11, State: tracker.StateSnapshot, PendingSnapshot: 10, SentCommit: 3, IsLearner: true}
	if got, want := pr.String(), "StateSnapshot match=0 next=11 learner sent_commit=3 pending_snap=10 inactive"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	full := &tracker.Progress{Next: 3, State: tracker.StateReplicate, Inflights: tracker.NewInflights(1, 0)}
	full.SentEntries(1, 0)
	if got, want := full.String(), "StateReplicate match=0 next=4 inactive inflight=1[full]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestProgressCheckInvariantsNamesEachViolation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(pr *tracker.Progress)
	}{
		{"match not below next", func(pr *tracker.Progress) { pr.Next = pr.Match }},
		{"unknown state", func(pr *tracker.Progress) { pr.State = 9 }},
		{"pending snapshot outside snapshot", func(pr *tracker.Progress) { pr.PendingSnapshot = 3 }},
		{"snapshot without pending", func(pr *tracker.Progress) { pr.State = tracker.StateSnapshot }},
		{"paused outside probe", func(pr *tracker.Progress) {
			pr.BecomeReplicate()
			pr.MsgAppFlowPaused = true
		}},
		{"in flight outside replicate", func(pr *tracker.Progress) { pr.Inflights.Add(6, 0) }},
		{"in flight at or below match", func(pr *tracker.Progress) {
			pr.BecomeReplicate()
			pr.Inflights.Add(5, 0)
		}},
		{"in flight at or past next", func(pr *tracker.Progress) {
			pr.BecomeReplicate()
			pr.Inflights.Add(6, 0)
		}},
	}
	for _, tt := range tests {
		pr := progress(tracker.StateProbe, 5, 6)
		check(t, pr)
		tt.mutate(pr)
		if err := pr.CheckInvariants(); err == nil {
			t.Errorf("%s: %v passes its invariants", tt.name, pr)
		}
	}
}

func TestProgressMapAcksMatchOfAnyNodeWithProgress(t *testing.T) {
	m := tracker.ProgressMap{1: progress(tracker.StateProbe, 4, 5), 2: progress(tracker.StateProbe, 0, 1)}
	m[2].IsLearner = true
	if idx, ok := m.AckedIndex(1); idx != 4 || !ok {
		t.Errorf("AckedIndex(1) = %d, %v; want 4, true", idx, ok)
	}
	if _, ok := m.AckedIndex(2); !ok {
		t.Error("AckedIndex of a learner not found")
	}
	if idx, ok := m.AckedIndex(3); idx != 0 || ok {
		t.Errorf("AckedIndex(3) = %d, %v; want 0, false", idx, ok)
	}
}

func TestProgressMapStringIsSortedByID(t *testing.T) {
	m := tracker.ProgressMap{}
	for _, id := range []uint64{10, 2, 7} {
		m[id] = progress(tracker.StateProbe, id, id+1)
	}
	want := "2: StateProbe match=2 next=3\n7: StateProbe match=7 next=8\n10: StateProbe match=10 next=11\n"
	if got := m.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
