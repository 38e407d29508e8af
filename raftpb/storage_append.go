package raftpb

// StorageAppendHardState returns the hard state a MsgStorageAppend asks
// its append worker to persist: Term, Vote and Commit in the fields of
// those names, as etcd's asynchronous storage writes carry them, and the
// RecoveringTerm of a node recovering from a lost log in LogTerm, which a
// MsgStorageAppend uses for nothing else. An append worker reads the hard
// state through this view only, so that it never drops a field; it is
// empty when the message carries none.
func (m *Message) StorageAppendHardState() HardState {
	return HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit, RecoveringTerm: m.LogTerm}
}

// SetStorageAppendHardState sets the hard state of a MsgStorageAppend,
// the other way of StorageAppendHardState.
func (m *Message) SetStorageAppendHardState(h HardState) {
	m.Term, m.Vote, m.Commit, m.LogTerm = h.Term, h.Vote, h.Commit, h.RecoveringTerm
}
