package tracker_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/tickraft/raft/tools/datadriven"
	"github.com/tickraft/raft/tracker"
)

// TestTranscripts runs testdata/*.txt. Commands:
//
//	committed cfg=(1,2,3) cfg_out=(1,2) idx=(5,4,_)
//	    the committed index of each half and of the whole; idx gives each
//	    voter's acknowledged index in ascending ID order of the voters of
//	    both halves, "_" for a voter nothing is known about.
//	vote cfg=(1,2,3) cfg_out=(1,2) votes=(y,n,_)
//	    the election result of each half and of the whole; votes are in the
//	    same order as idx, "_" for a voter that has not answered.
//	progress match=M next=N [max_msgs=K] [max_bytes=B]
//	    starts a new Progress in StateProbe for the commands below, with a
//	    window of K messages (4 if not given) and B bytes (no bound).
//	update n=N / reject rejected=R hint=H / sent entries=E bytes=B /
//	become-probe / become-replicate / become-snapshot index=I /
//	commit-sent commit=C / can-bump commit=C
//	    call the Progress method of that name (MaybeUpdate, MaybeDecrTo,
//	    SentEntries, ..., UpdateSentCommit, CanBumpCommit) and print its
//	    answer, the Progress, send=ok or send=held (IsPaused), and the
//	    window's bytes; a panic is printed, not raised.
//
// committed and vote also check their answer against the brute-force
// references of quorum_rapid_test.go.
func TestTranscripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := &harness{}
		datadriven.RunTest(t, path, h.run)
	})
}

// harness holds the Progress that a transcript's progress commands work on.
type harness struct {
	pr *tracker.Progress
}

func (h *harness) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "committed":
		return committed(t, d)
	case "vote":
		return vote(t, d)
	case "progress":
		return h.newProgress(t, d)
	}
	if h.pr == nil {
		d.Fatalf(t, "%s before progress", d.Cmd)
	}
	return h.step(t, d)
}

// joint reads cfg and cfg_out, and returns the config and its voters in
// ascending order.
func joint(t *testing.T, d *datadriven.TestData) (tracker.JointConfig, []uint64) {
	var in, out []uint64
	d.MaybeScanArgs(t, "cfg", &in)
	d.MaybeScanArgs(t, "cfg_out", &out)
	cfg := tracker.JointConfig{tracker.MakeMajorityConfig(in...), tracker.MakeMajorityConfig(out...)}
	return cfg, cfg.IDs()
}

// perVoter reads the list key, which must have one item per voter.
func perVoter(t *testing.T, d *datadriven.TestData, key string, ids []uint64) []string {
	var vals []string
	d.MaybeScanArgs(t, key, &vals)
	if len(vals) != len(ids) {
		d.Fatalf(t, "%s has %d items for the %d voters %v", key, len(vals), len(ids), ids)
	}
	return vals
}

func committed(t *testing.T, d *datadriven.TestData) string {
	cfg, ids := joint(t, d)
	a := acks{}
	for i, v := range perVoter(t, d, "idx", ids) {
		if v == "_" {
			continue
		}
		idx, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			d.Fatalf(t, "idx: %v", err)
		}
		a[ids[i]] = idx
	}
	if got, want := cfg.CommittedIndex(a), refCommitted(cfg, a); got != want {
		t.Errorf("%s: CommittedIndex %d, brute force %d", d.Pos, got, want)
	}
	show := func(idx uint64) string {
		if idx == math.MaxUint64 {
			return "∞"
		}
		return strconv.FormatUint(idx, 10)
	}
	return eachHalf(cfg, func(c tracker.MajorityConfig) string {
		return "committed=" + show(c.CommittedIndex(a))
	}, "committed="+show(cfg.CommittedIndex(a)))
}

func vote(t *testing.T, d *datadriven.TestData) string {
	cfg, ids := joint(t, d)
	votes := map[uint64]bool{}
	for i, v := range perVoter(t, d, "votes", ids) {
		switch v {
		case "y":
			votes[ids[i]] = true
		case "n":
			votes[ids[i]] = false
		case "_":
		default:
			d.Fatalf(t, "vote %q is not y, n or _", v)
		}
	}
	if got, want := cfg.VoteResult(votes), refVoteResult(cfg, votes); got != want {
		t.Errorf("%s: VoteResult %v, brute force %v", d.Pos, got, want)
	}
	return eachHalf(cfg, func(c tracker.MajorityConfig) string {
		return tally(c, votes) + " " + c.VoteResult(votes).String()
	}, cfg.VoteResult(votes).String())
}

// tally counts the grants and rejections of c's voters.
func tally(c tracker.MajorityConfig, votes map[uint64]bool) string {
	granted, rejected := 0, 0
	for _, id := range c {
		if v, ok := votes[id]; ok && v {
			granted++
		} else if ok {
			rejected++
		}
	}
	return fmt.Sprintf("granted=%d rejected=%d", granted, rejected)
}

// eachHalf prints one line per half, and a line for the whole when joint.
func eachHalf(cfg tracker.JointConfig, half func(tracker.MajorityConfig) string, whole string) string {
	if !cfg.IsJoint() {
		return cfg[0].String() + " " + half(cfg[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "incoming %v %s\n", cfg[0], half(cfg[0]))
	fmt.Fprintf(&b, "outgoing %v %s\n", cfg[1], half(cfg[1]))
	fmt.Fprintf(&b, "joint %s", whole)
	return b.String()
}
