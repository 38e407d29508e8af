package kvnode

import (
	"strings"
	"testing"
)

// Claim: /readyz's judgement is ready only with a known leader and the
// commit index first seen with it applied.
func TestReadinessNeedsLeaderAndStartCommitApplied(t *testing.T) {
	open := make(chan struct{})
	stopped := make(chan struct{})
	close(stopped)
	for _, c := range []struct {
		g     *loopGauges
		done  chan struct{}
		ok    bool
		cause string
	}{
		{nil, open, false, "not started"},
		{&loopGauges{Applied: 9, StartCommit: 3}, open, false, "no leader"},
		{&loopGauges{Lead: 2, SawLeader: true, Applied: 4, StartCommit: 7}, open, false, "catching up"},
		{&loopGauges{Lead: 2, SawLeader: true, Applied: 7, StartCommit: 7}, open, true, ""},
		{&loopGauges{Lead: 2, SawLeader: true, Applied: 7, StartCommit: 7}, stopped, false, "stopped"},
	} {
		h := readiness(c.g, c.done)
		if h.OK != c.ok || !strings.Contains(h.Reason, c.cause) {
			t.Errorf("readiness(%+v) = %+v, want ok=%v reason containing %q", c.g, h, c.ok, c.cause)
		}
	}
}
