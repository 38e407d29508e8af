package checker_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tickraft/raft/tools/checker"
)

// w and r build a write and a read of key "k" by client 1.
func w(value string, invoke, ret uint64) checker.Op {
	return checker.Op{Client: 1, Kind: checker.OpWrite, Key: "k", Value: value, Invoke: invoke, Return: ret}
}

func r(value string, invoke, ret uint64) checker.Op {
	return checker.Op{Client: 2, Kind: checker.OpRead, Key: "k", Value: value, Invoke: invoke, Return: ret}
}

func TestLinearizableAcceptsConcurrentWritesReadInEitherOrder(t *testing.T) {
	ops := []checker.Op{
		r("", 1, 2),
		w("a", 3, 10), w("b", 4, 11),
		r("b", 5, 12), r("a", 13, 14), // b took effect first, then a
		w("c", 15, checker.Pending), // unknown outcome, never read
	}
	wantPass(t, checker.CheckLinearizable(ops))
}

func TestLinearizableFailsOnAStaleRead(t *testing.T) {
	ops := []checker.Op{w("a", 1, 2), w("b", 3, 4), r("a", 5, 6)}
	wantViolation(t, checker.CheckLinearizable(ops), checker.Linearizability,
		`key "k": the values "b" and "a" must each be current before the other`,
		`write k="b" [3, 4] returned before client 2 read k="a" [5, 6] was invoked`)
}

func TestLinearizableFailsOnAReadOfTheInitialValueAfterAWrite(t *testing.T) {
	ops := []checker.Op{w("a", 1, 2), r("", 3, 4)}
	wantViolation(t, checker.CheckLinearizable(ops), checker.Linearizability, `values "a" and ""`, "the initial state returned before")
}

func TestLinearizableFailsWhenReadsSeeTwoValuesInOppositeOrders(t *testing.T) {
	// Two concurrent writes; one reader sees a then b, another b then a.
	ops := []checker.Op{
		w("a", 1, 20), w("b", 2, 21),
		r("a", 3, 4), r("b", 5, 6),
		r("b", 7, 8), r("a", 9, 10),
	}
	wantViolation(t, checker.CheckLinearizable(ops), checker.Linearizability, "must each be current before the other")
}

func TestLinearizableFailsOnAValueNeverWritten(t *testing.T) {
	wantViolation(t, checker.CheckLinearizable([]checker.Op{r("ghost", 1, 2)}), checker.Linearizability,
		"returned a value no client wrote")
}

func TestLinearizableFailsOnAReadBeforeItsWrite(t *testing.T) {
	wantViolation(t, checker.CheckLinearizable([]checker.Op{r("a", 1, 2), w("a", 3, 4)}), checker.Linearizability,
		"before its write was invoked")
}

func TestLinearizableChecksKeysApart(t *testing.T) {
	other := w("a", 1, 2)
	other.Key = "other"
	// "a" on another key says nothing about k.
	wantViolation(t, checker.CheckLinearizable([]checker.Op{other, r("a", 3, 4)}), checker.Linearizability, "no client wrote")
}

func TestLinearizableRefusesMalformedHistories(t *testing.T) {
	for name, ops := range map[string][]checker.Op{
		"pending read":   {r("", 1, checker.Pending)},
		"empty write":    {w("", 1, 2)},
		"value twice":    {w("a", 1, 2), w("a", 3, 4)},
		"time zero":      {w("a", 0, 2)},
		"return first":   {w("a", 5, 4)},
		"unknown kind":   {{Kind: 9, Invoke: 1, Return: 2}},
		"return is zero": {r("", 1, 0)},
	} {
		err := checker.CheckLinearizable(ops)
		var v *checker.Violation
		if err == nil || errors.As(err, &v) {
			t.Errorf("%s: want a plain error, got %v", name, err)
		}
	}
}

// TestLinearizableAgreesWithBruteForce compares the check with a search of
// every order on thousands of small random histories.
func TestLinearizableAgreesWithBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var yes, no int
	for i := 0; i < 4000; i++ {
		ops := randomHistory(rng)
		want := bruteLinearizable(ops)
		err := checker.CheckLinearizable(ops)
		var v *checker.Violation
		if err != nil && !errors.As(err, &v) {
			t.Fatalf("history %d refused: %v\n%v", i, err, ops)
		}
		if got := err == nil; got != want {
			t.Fatalf("history %d: check says linearizable=%t, brute force %t (%v)\n%v", i, got, want, err, ops)
		}
		if want {
			yes++
		} else {
			no++
		}
	}
	if yes < 500 || no < 500 {
		t.Fatalf("the random histories are lopsided: %d linearizable, %d not", yes, no)
	}
}

// randomHistory returns up to 7 operations on one key with distinct times:
// writes of distinct values (some pending) and reads of written values or
// of the initial one.
func randomHistory(rng *rand.Rand) []checker.Op {
	n := 1 + rng.IntN(7)
	times := rng.Perm(2 * n)
	var ops []checker.Op
	writes := 0
	for i := 0; i < n; i++ {
		a, b := uint64(times[2*i]+1), uint64(times[2*i+1]+1)
		if a > b {
			a, b = b, a
		}
		if rng.IntN(2) == 0 || i == 0 {
			writes++
			o := w(fmt.Sprintf("v%d", writes), a, b)
			if rng.IntN(5) == 0 {
				o.Return = checker.Pending
			}
			ops = append(ops, o)
			continue
		}
		ops = append(ops, r("", a, b)) // its value is drawn below
	}
	for i := range ops {
		if ops[i].Kind == checker.OpRead {
			if k := rng.IntN(writes + 1); k > 0 {
				ops[i].Value = fmt.Sprintf("v%d", k)
			}
		}
	}
	return ops
}

// bruteLinearizable searches every order of the operations of one key
// that respects real time; pending writes may also be left out.
func bruteLinearizable(ops []checker.Op) bool {
	placed := make([]bool, len(ops))
	var search func(value string, left int) bool
	search = func(value string, left int) bool {
		if left == 0 {
			return true
		}
		for i, o := range ops {
			if placed[i] || !minimal(ops, placed, i) {
				continue
			}
			next := value
			switch {
			case o.Kind == checker.OpWrite:
				next = o.Value
			case o.Value != value:
				continue
			}
			placed[i] = true
			ok := search(next, left-mustPlace(o))
			placed[i] = false
			if ok {
				return true
			}
		}
		return false
	}
	left := 0
	for _, o := range ops {
		left += mustPlace(o)
	}
	return search("", left)
}

// mustPlace is 1 for an operation every linearization holds: all but the
// pending writes.
func mustPlace(o checker.Op) int {
	if o.Return == checker.Pending {
		return 0
	}
	return 1
}

// minimal reports whether no unplaced operation returned before ops[i]
// was invoked.
func minimal(ops []checker.Op, placed []bool, i int) bool {
	for j, o := range ops {
		if !placed[j] && j != i && o.Return < ops[i].Invoke {
			return false
		}
	}
	return true
}
