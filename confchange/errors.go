package confchange

import "errors"

// The reasons a change is refused. Returned errors wrap one of them with
// detail; test for them with errors.Is.
var (
	// ErrRemovedAllVoters refuses a change that leaves the (incoming)
	// configuration without voters: no quorum could ever be formed again.
	ErrRemovedAllVoters = errors.New("confchange: removed all voters")
	// ErrTooManyVoters refuses a simple change that adds or removes more
	// than one voter; such a change needs joint consensus.
	ErrTooManyVoters = errors.New("confchange: more than one voter changed without joint consensus")
	// ErrAlreadyJoint refuses a simple change or entering joint consensus
	// while the configuration is joint: it must be left first.
	ErrAlreadyJoint = errors.New("confchange: configuration is already joint")
	// ErrNotJoint refuses to leave a joint configuration that is not joint.
	ErrNotJoint = errors.New("confchange: configuration is not joint")
	// ErrZeroVoterJoint refuses to enter joint consensus from a
	// configuration without voters: its outgoing half would be empty,
	// which means "not joint".
	ErrZeroVoterJoint = errors.New("confchange: a configuration without voters cannot become joint")
	// ErrVoterAndLearner refuses a result (or a ConfState to restore) in
	// which a node is both a voter and a learner.
	ErrVoterAndLearner = errors.New("confchange: node is both voter and learner")
	// ErrUnknownChangeType refuses a change of a type this package does
	// not know.
	ErrUnknownChangeType = errors.New("confchange: unknown change type")
	// ErrInvalidNodeID refuses a change of node 0, the ID that means "no
	// node" throughout the protocol.
	ErrInvalidNodeID = errors.New("confchange: node ID 0 is reserved")
	// ErrInvalidConfig refuses to work from a tracker that breaks its
	// invariants, or to restore a ConfState that no sequence of changes
	// produces.
	ErrInvalidConfig = errors.New("confchange: invalid configuration")
	// ErrSyntax refuses text that [ParseConfChanges] cannot read.
	ErrSyntax = errors.New("confchange: syntax error")
)
