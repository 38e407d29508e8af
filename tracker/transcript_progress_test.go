package tracker_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/tickraft/raft/tools/datadriven"
	"github.com/tickraft/raft/tracker"
)

// newProgress starts the Progress of the progress commands.
func (h *harness) newProgress(t *testing.T, d *datadriven.TestData) string {
	var match, next uint64
	maxMsgs, maxBytes := 4, uint64(0)
	d.ScanArgs(t, "match", &match)
	d.ScanArgs(t, "next", &next)
	d.MaybeScanArgs(t, "max_msgs", &maxMsgs)
	d.MaybeScanArgs(t, "max_bytes", &maxBytes)
	h.pr = &tracker.Progress{Match: match, Next: next, RecentActive: true, Inflights: tracker.NewInflights(maxMsgs, maxBytes)}
	return h.show("")
}

// step runs one Progress method and prints its answer, if any, and the
// Progress.
func (h *harness) step(t *testing.T, d *datadriven.TestData) (out string) {
	arg := func(key string) uint64 {
		var v uint64
		d.ScanArgs(t, key, &v)
		return v
	}
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("panic: %v", r)
		}
	}()
	switch d.Cmd {
	case "update":
		return h.show(answer(h.pr.MaybeUpdate(arg("n")), "updated", "stale"))
	case "reject":
		return h.show(answer(h.pr.MaybeDecrTo(arg("rejected"), arg("hint")), "decreased", "stale"))
	case "sent":
		h.pr.SentEntries(int(arg("entries")), arg("bytes"))
	case "become-probe":
		h.pr.BecomeProbe()
	case "become-replicate":
		h.pr.BecomeReplicate()
	case "become-snapshot":
		h.pr.BecomeSnapshot(arg("index"))
	case "commit-sent":
		h.pr.UpdateSentCommit(arg("commit"))
	case "can-bump":
		return h.show(answer(h.pr.CanBumpCommit(arg("commit")), "can bump", "cannot bump"))
	default:
		d.Fatalf(t, "unknown command %s", d.Cmd)
	}
	return h.show("")
}

func answer(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// show prints the answer of a method (if any), the Progress, whether the
// leader may send to it, the window's bytes when it has any, and any broken
// invariant.
func (h *harness) show(answer string) string {
	var b strings.Builder
	if answer != "" {
		b.WriteString(answer + "\n")
	}
	b.WriteString(h.pr.String())
	if h.pr.IsPaused() {
		b.WriteString(" send=held")
	} else {
		b.WriteString(" send=ok")
	}
	if n := h.pr.Inflights.Bytes(); n > 0 {
		b.WriteString(" inflight_bytes=" + strconv.FormatUint(n, 10))
	}
	if err := h.pr.CheckInvariants(); err != nil {
		b.WriteString("\ninvariant broken: " + err.Error())
	}
	return b.String()
}
