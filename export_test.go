package raft

// CheckInvariants returns the first broken invariant of the node's whole
// state (core.Raft.CheckInvariants), or nil. It is exported for tests only,
// which call it after every input they give a node.
func (rn *RawNode) CheckInvariants() error { return rn.r.CheckInvariants() }
