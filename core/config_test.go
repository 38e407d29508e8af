package core

import (
	"errors"
	"testing"
)

func TestConfigValidateNamesTheWrongFieldAndNeverMutates(t *testing.T) {
	st := NewMemoryStorage()
	cases := []struct {
		c     Config
		field string
	}{
		{Config{Storage: st}, "ID"},
		{Config{ID: 1}, "Storage"},
		{Config{ID: 1, Storage: st, HeartbeatTick: -1}, "HeartbeatTick"},
		{Config{ID: 1, Storage: st, ElectionTick: 3, HeartbeatTick: 3}, "ElectionTick"},
		{Config{ID: 1, Storage: st, ElectionTick: 2, HeartbeatTick: 5}, "ElectionTick"},
		{Config{ID: 1, Storage: st, MaxInflightMsgs: -2}, "MaxInflightMsgs"},
	}
	for _, tc := range cases {
		before := tc.c
		err := tc.c.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Validate(%+v) = %v, want a ConfigError naming %s", tc.c, err, tc.field)
		}
		if tc.c != before {
			t.Errorf("Validate changed the config: %+v -> %+v", before, tc.c)
		}
	}
}

func TestZeroOptionalConfigFieldsAreSafeWorkingDefaults(t *testing.T) {
	c := Config{ID: 1, Storage: NewMemoryStorage()}
	before := c
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c != before {
		t.Fatal("Validate changed the config")
	}
	d := c.withDefaults()
	if d.ElectionTick <= d.HeartbeatTick || d.MaxSizePerMsg == 0 || d.MaxInflightMsgs == 0 ||
		d.MaxInflightBytes == 0 || d.MaxUncommittedEntriesSize == 0 || d.MaxCommittedSizePerReady == 0 ||
		d.Seed == 0 || d.Logger == nil {
		t.Fatalf("defaults leave a zero limit: %+v", d)
	}
}

// TestZeroMaxSizePerMsgCommitsWithoutPanicking: in other libraries a zero
// message size made the first commit panic; here zero means the default.
func TestZeroMaxSizePerMsgCommitsWithoutPanicking(t *testing.T) {
	c := electedCluster(t, 3) // built with every optional field zero
	if got := c.nodes[2].raftLog.committed; got != 4 {
		t.Fatalf("follower committed %d, want 4", got)
	}
}

func TestNodesWithDifferentSeedsDrawDifferentElectionTimeouts(t *testing.T) {
	draw := func(seed uint64) []int {
		r, err := NewRaft(&Config{ID: 1, Storage: NewMemoryStorage(), Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for i := 0; i < 8; i++ {
			r.resetRandomizedElectionTimeout()
			if r.randomizedElectionTimeout < r.electionTimeout || r.randomizedElectionTimeout >= 2*r.electionTimeout {
				t.Fatalf("timeout %d outside [%d, %d)", r.randomizedElectionTimeout, r.electionTimeout, 2*r.electionTimeout)
			}
			out = append(out, r.randomizedElectionTimeout)
		}
		return out
	}
	a, b, a2 := draw(1), draw(2), draw(1)
	if !equalInts(a, a2) {
		t.Fatalf("same seed, different timeouts: %v vs %v", a, a2)
	}
	if equalInts(a, b) {
		t.Fatalf("seeds 1 and 2 drew the same timeouts %v", a)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
