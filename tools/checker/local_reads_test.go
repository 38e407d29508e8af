package checker_test

import (
	"testing"

	"github.com/tickraft/raft/tools/checker"
)

// localWrites are two writes of key k and one of key j.
var localWrites = []checker.WriteAt{
	{Key: "k", Value: "a", Index: 3},
	{Key: "j", Value: "x", Index: 4},
	{Key: "k", Value: "b", Index: 6},
}

func TestLocalReadsAllowStaleValuesAboveTheMinimum(t *testing.T) {
	reads := []checker.LocalRead{
		{Client: 1, Key: "k", Value: "", MinIndex: 2, Served: 2},
		{Client: 1, Key: "k", Value: "a", MinIndex: 5, Served: 9}, // b (6) is newer but above 5
		{Client: 1, Key: "k", Value: "b", MinIndex: 6, Served: 6},
		{Client: 2, Key: "j", Value: "", MinIndex: 3, Served: 5}, // not linearizable, but allowed
	}
	wantPass(t, checker.CheckLocalReads(localWrites, reads))
}

func TestLocalReadsFailOnAValueOlderThanTheMinimum(t *testing.T) {
	reads := []checker.LocalRead{{Client: 1, Key: "k", Value: "a", MinIndex: 6, Served: 7}}
	wantViolation(t, checker.CheckLocalReads(localWrites, reads), checker.LocalReadOrder,
		`client 1 read k="a" (index 3) though it asked for index 6 or later, and the key was written at index 6`)
}

func TestLocalReadsFailOnAValueFromTheFuture(t *testing.T) {
	reads := []checker.LocalRead{{Client: 1, Key: "k", Value: "b", MinIndex: 0, Served: 5}}
	wantViolation(t, checker.CheckLocalReads(localWrites, reads), checker.LocalReadOrder,
		"written at index 6, from a state served at index 5")
}

func TestLocalReadsFailOnAValueThatNeverTookEffect(t *testing.T) {
	reads := []checker.LocalRead{{Client: 3, Key: "j", Value: "a", Served: 9}}
	wantViolation(t, checker.CheckLocalReads(localWrites, reads), checker.LocalReadOrder, "never took effect")
}
