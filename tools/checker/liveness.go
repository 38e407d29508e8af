package checker

import "strconv"

// CalmWindow is a stretch of ticks [From, To) during which the network
// was whole and every node the current configuration needs was running:
// when a leader (a voter of that configuration) was first seen in it, and
// when a write invoked in it was first acknowledged.
type CalmWindow struct {
	From, To    uint64
	Elected     bool
	ElectedAt   uint64
	Committed   bool
	CommittedAt uint64
}

// CheckLiveness verifies that every calm window at least budget ticks
// long saw a leader elected, and a write invoked in the window committed,
// within budget ticks of its start. A shorter window says nothing: the
// cluster may have needed the whole budget.
func CheckLiveness(windows []CalmWindow, budget uint64) error {
	for _, w := range windows {
		if w.To-w.From < budget {
			continue
		}
		deadline := w.From + budget
		switch {
		case !w.Elected || w.ElectedAt > deadline:
			return violation(Liveness, "calm from tick %d to %d: no leader by tick %d (budget %d ticks)%s",
				w.From, w.To, deadline, budget, seenAt("elected", w.Elected, w.ElectedAt))
		case !w.Committed || w.CommittedAt > deadline:
			return violation(Liveness, "calm from tick %d to %d: no new write committed by tick %d (budget %d ticks; leader at tick %d)%s",
				w.From, w.To, deadline, budget, w.ElectedAt, seenAt("committed", w.Committed, w.CommittedAt))
		}
	}
	return nil
}

// seenAt says when something late happened, if it did.
func seenAt(what string, ok bool, at uint64) string {
	if !ok {
		return ""
	}
	return ", " + what + " only at tick " + strconv.FormatUint(at, 10)
}
