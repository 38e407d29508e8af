package raft

// SetRandomizedElectionTimeout replaces the node's current randomized
// election timeout (core.Raft.SetRandomizedElectionTimeout). It is exported
// for tests only: the transcripts' set-randomized-election-timeout uses it.
func (rn *RawNode) SetRandomizedElectionTimeout(ticks int) {
	rn.r.SetRandomizedElectionTimeout(ticks)
}
