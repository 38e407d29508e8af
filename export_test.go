package raft

// CheckInvariants returns the first broken invariant of the node's whole
// state (core.Raft.CheckInvariants), or nil. It is exported for tests only,
// which call it after every input they give a node.
func (rn *RawNode) CheckInvariants() error { return rn.r.CheckInvariants() }

// SetRandomizedElectionTimeout replaces the node's current randomized
// election timeout (core.Raft.SetRandomizedElectionTimeout). It is exported
// for tests only: the transcripts' set-randomized-election-timeout uses it.
func (rn *RawNode) SetRandomizedElectionTimeout(ticks int) {
	rn.r.SetRandomizedElectionTimeout(ticks)
}
