package checker

import "errors"

// Checker is the signature every property checker has.
type Checker func(*History) error

// All lists every checker, in the order Check runs them.
func All() []Checker {
	return []Checker{
		CheckElectionSafety,
		CheckLeaderAppendOnly,
		CheckLogMatching,
		CheckLeaderCompleteness,
		CheckStateMachineSafety,
		CheckMonotonicity,
		CheckDurability,
	}
}

// Check runs every checker on h and returns nil, or every violation found
// joined in the order of All (one per property at most).
func Check(h *History) error {
	var errs []error
	for _, c := range All() {
		if err := c(h); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
