package checker

import "fmt"

// Property names one of the safety properties the checkers verify.
type Property string

// The properties, as they appear in a Violation.
const (
	ElectionSafety     Property = "election safety"
	LeaderAppendOnly   Property = "leader append-only"
	LogMatching        Property = "log matching"
	LeaderCompleteness Property = "leader completeness"
	StateMachineSafety Property = "state machine safety"
	Monotonicity       Property = "monotonicity"
	Durability         Property = "durability"
	// The properties of the client-side checkers, beside Raft's own.
	Linearizability Property = "linearizability"
	LocalReadOrder  Property = "local read order"
	Liveness        Property = "liveness"
	MemoryBounds    Property = "memory bounds"
)

// Violation is a checker's report that a History breaks a property.
type Violation struct {
	// Property is the property broken.
	Property Property
	// Detail names the nodes, terms, indexes and events involved.
	Detail string
}

// Error returns "property: detail".
func (v *Violation) Error() string { return string(v.Property) + ": " + v.Detail }

// violation builds a *Violation with a formatted detail.
func violation(p Property, format string, args ...any) *Violation {
	return &Violation{Property: p, Detail: fmt.Sprintf(format, args...)}
}
