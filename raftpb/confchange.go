package raftpb

// ConfChangeType says what a single membership change does to one node.
type ConfChangeType int32

// The change types, with the numbers of the wire format.
const (
	ConfChangeAddNode        ConfChangeType = 0
	ConfChangeRemoveNode     ConfChangeType = 1
	ConfChangeUpdateNode     ConfChangeType = 2
	ConfChangeAddLearnerNode ConfChangeType = 3
)

// ConfChangeTransition says how a ConfChangeV2 moves between configurations.
type ConfChangeTransition int32

// The transitions, with the numbers of the wire format.
const (
	// ConfChangeTransitionAuto makes a simple change when at most one voter
	// changes and otherwise enters a joint configuration that the leader
	// leaves on its own.
	ConfChangeTransitionAuto ConfChangeTransition = 0
	// ConfChangeTransitionJointImplicit always enters a joint
	// configuration, which the leader leaves on its own.
	ConfChangeTransitionJointImplicit ConfChangeTransition = 1
	// ConfChangeTransitionJointExplicit always enters a joint
	// configuration, which is left only by an empty ConfChangeV2 proposed
	// by the application.
	ConfChangeTransitionJointExplicit ConfChangeTransition = 2
)

// ConfChange is the single-change (v1) form of a membership change.
type ConfChange struct {
	ID      uint64
	Type    ConfChangeType
	NodeID  uint64
	Context []byte
}

// ConfChangeSingle is one change of a ConfChangeV2.
type ConfChangeSingle struct {
	Type   ConfChangeType
	NodeID uint64
}

// ConfChangeV2 is the multi-change form of a membership change. An empty
// ConfChangeV2 (no changes) asks to leave a joint configuration.
type ConfChangeV2 struct {
	Transition ConfChangeTransition
	Changes    []ConfChangeSingle
	Context    []byte
}

// ConfChangeI is either form of a membership change.
type ConfChangeI interface {
	// AsV2 returns the change in the multi-change form.
	AsV2() ConfChangeV2
	// AsV1 returns the change in the single-change form, and false if it
	// has no such form.
	AsV1() (ConfChange, bool)
	// String returns the change in its compact text form.
	String() string
}

// ConfChange returns the membership change e carries, in the form its
// type says, or nil for an entry that carries none. An application calls
// it for each committed entry it applies and hands a non-nil result to
// ApplyConfChange. Malformed data returns a *DecodeError.
func (e *Entry) ConfChange() (ConfChangeI, error) {
	switch e.Type {
	case EntryConfChange:
		var cc ConfChange
		if err := cc.Unmarshal(e.Data); err != nil {
			return nil, err
		}
		return cc, nil
	case EntryConfChangeV2:
		var cc ConfChangeV2
		if err := cc.Unmarshal(e.Data); err != nil {
			return nil, err
		}
		return cc, nil
	}
	return nil, nil
}

// AsV2 returns the one-change ConfChangeV2 equivalent to c. The ID has no
// place in the v2 form and is dropped.
func (c ConfChange) AsV2() ConfChangeV2 {
	return ConfChangeV2{
		Changes: []ConfChangeSingle{{Type: c.Type, NodeID: c.NodeID}},
		Context: c.Context,
	}
}

// AsV1 returns c itself and true.
func (c ConfChange) AsV1() (ConfChange, bool) { return c, true }

// AsV2 returns c itself.
func (c ConfChangeV2) AsV2() ConfChangeV2 { return c }

// AsV1 returns false: a ConfChangeV2 is never turned back into the v1 form,
// because the v1 form cannot say which transition to use.
func (c ConfChangeV2) AsV1() (ConfChange, bool) { return ConfChange{}, false }

// EnterJoint reports whether c enters a joint configuration, and if so
// whether the leader leaves it on its own (autoLeave). A change enters joint
// consensus when its transition asks for it or when it changes more than one
// node.
func (c ConfChangeV2) EnterJoint() (autoLeave bool, ok bool) {
	if c.Transition == ConfChangeTransitionAuto && len(c.Changes) <= 1 {
		return false, false
	}
	return c.Transition == ConfChangeTransitionAuto || c.Transition == ConfChangeTransitionJointImplicit, true
}

// LeaveJoint reports whether c asks to leave a joint configuration: it does
// when it carries no changes and the automatic transition. The context is
// the application's and plays no part.
func (c ConfChangeV2) LeaveJoint() bool {
	return len(c.Changes) == 0 && c.Transition == ConfChangeTransitionAuto
}
