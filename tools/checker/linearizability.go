package checker

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
)

// OpKind says what a client operation did.
type OpKind uint8

// The kinds of operation on a register.
const (
	OpWrite OpKind = iota + 1
	OpRead
)

// String returns "write" or "read".
func (k OpKind) String() string {
	switch k {
	case OpWrite:
		return "write"
	case OpRead:
		return "read"
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// Pending is the Return time of a write whose client never learned the
// outcome: it may take effect at any time after its invocation, or never.
const Pending = math.MaxUint64

// Op is one client operation on a key-value store whose keys are
// independent registers: a write of Value to Key, or a read of Key that
// returned Value ("" when the key was never written). Invoke and Return
// are the logical times at which the client called and was answered; a
// history's times are at least 1 and distinct, and an operation that
// returned at t precedes one invoked at t' exactly when t < t'.
type Op struct {
	Client uint64
	Kind   OpKind
	Key    string
	Value  string
	Invoke uint64
	Return uint64
}

// String describes the operation as reports quote it.
func (o Op) String() string {
	ret := "pending"
	if o.Return != Pending {
		ret = fmt.Sprintf("%d", o.Return)
	}
	return fmt.Sprintf("client %d %v %s=%q [%d, %s]", o.Client, o.Kind, o.Key, o.Value, o.Invoke, ret)
}

// CheckLinearizable verifies that a history of a key-value store of
// registers is linearizable (Herlihy and Wing): there is one order of the
// operations, consistent with their real-time order, in which every read
// returns the value of the latest write to its key before it. Writes that
// failed for certain must be left out; writes of unknown outcome are
// Pending; reads that got no answer must be left out. Every written value
// must be unique per key and not empty: that makes the check complete and
// fast (O(n log n)), with no search.
//
// Per key, the write of a value and the reads that returned it form a
// cluster, which any linearization orders as one block: the write, then
// its reads. Cluster A must come before cluster B when an operation of A
// returned before an operation of B was invoked, f(A) < s(B), where f is
// the earliest return and s the latest invocation of a cluster. The
// history is linearizable exactly when no read precedes its own write and
// this order has no cycle; and a cycle exists only if one of two
// clusters: take the cluster with the least f on the cycle, and its
// predecessor P on it; P's predecessor has f at least as large and
// precedes P, so s(P) exceeds the least f, and the two precede each other.
//
// A history that breaks the rules above (a pending read, a write of ""
// or a value written twice) is reported as a plain error, not a
// *Violation.
func CheckLinearizable(ops []Op) error {
	byKey := make(map[string][]Op)
	for _, o := range ops {
		if err := checkWellFormed(o); err != nil {
			return err
		}
		byKey[o.Key] = append(byKey[o.Key], o)
	}
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		if err := checkRegister(k, byKey[k]); err != nil {
			return err
		}
	}
	return nil
}

// checkWellFormed refuses an operation the check cannot judge.
func checkWellFormed(o Op) error {
	switch {
	case o.Kind != OpWrite && o.Kind != OpRead:
		return fmt.Errorf("checker: %v: unknown kind", o)
	case o.Kind == OpRead && o.Return == Pending:
		return fmt.Errorf("checker: %v: a read without an answer must be left out", o)
	case o.Kind == OpWrite && o.Value == "":
		return fmt.Errorf("checker: %v: a write of the empty value", o)
	case o.Invoke == 0 || o.Return <= o.Invoke:
		return fmt.Errorf("checker: %v: times must be at least 1 and return after invocation", o)
	}
	return nil
}

// cluster is the write of one value and the reads that returned it. The
// empty value's cluster has no write: the key's initial state.
type cluster struct {
	value string
	write *Op
	reads []*Op
	// f is the earliest return and s the latest invocation of the
	// cluster's operations, its write included.
	f, s uint64
}

// checkRegister checks the operations of one key.
func checkRegister(key string, ops []Op) error {
	clusters, err := clustersOf(key, ops)
	if err != nil {
		return err
	}
	return checkClusterOrder(key, clusters)
}

// clustersOf groups the operations of one key by value and checks that
// every read returned a value written, and not before its write began.
func clustersOf(key string, ops []Op) ([]*cluster, error) {
	byValue := make(map[string]*cluster)
	get := func(v string) *cluster {
		c, ok := byValue[v]
		if !ok {
			c = &cluster{value: v, f: math.MaxUint64}
			byValue[v] = c
		}
		return c
	}
	for i := range ops {
		o := &ops[i]
		if o.Kind != OpWrite {
			continue
		}
		c := get(o.Value)
		if c.write != nil {
			return nil, fmt.Errorf("checker: %v and %v write the same value", *c.write, *o)
		}
		c.write = o
	}
	for i := range ops {
		o := &ops[i]
		if o.Kind != OpRead {
			continue
		}
		c := get(o.Value)
		switch {
		case o.Value != "" && c.write == nil:
			return nil, violation(Linearizability, "key %q: %v returned a value no client wrote", key, *o)
		case c.write != nil && o.Return < c.write.Invoke:
			return nil, violation(Linearizability, "key %q: %v returned a value before its write was invoked: %v", key, *o, *c.write)
		}
		c.reads = append(c.reads, o)
	}
	out := make([]*cluster, 0, len(byValue))
	for _, c := range byValue {
		if c.write == nil && len(c.reads) == 0 {
			continue
		}
		if c.write == nil { // the initial value: written before anything
			c.f = 0
		} else {
			c.f, c.s = c.write.Return, c.write.Invoke
		}
		for _, r := range c.reads {
			c.f, c.s = min(c.f, r.Return), max(c.s, r.Invoke)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *cluster) int {
		return cmp.Or(cmp.Compare(a.f, b.f), cmp.Compare(a.s, b.s), cmp.Compare(a.value, b.value))
	})
	return out, nil
}

// checkClusterOrder reports two clusters that must each come before the
// other. cs is sorted by f. For each cluster b, the clusters a with
// f(a) < s(b) form a prefix of cs; among them (b left out), the one with
// the greatest s closes a cycle with b if s(a) > f(b).
func checkClusterOrder(key string, cs []*cluster) error {
	// best[i] and second[i] are the indexes, among cs[:i+1], of the
	// greatest and second greatest s.
	best, second := make([]int, len(cs)), make([]int, len(cs))
	for i := range cs {
		best[i], second[i] = i, -1
		if i == 0 {
			continue
		}
		b, s := best[i-1], second[i-1]
		switch {
		case cs[i].s > cs[b].s:
			best[i], second[i] = i, b
		case s < 0 || cs[i].s > cs[s].s:
			best[i], second[i] = b, i
		default:
			best[i], second[i] = b, s
		}
	}
	for j, b := range cs {
		n := sort.Search(len(cs), func(i int) bool { return cs[i].f >= b.s })
		if n == 0 {
			continue
		}
		a := best[n-1]
		if a == j {
			a = second[n-1]
		}
		if a >= 0 && cs[a].s > b.f {
			return cycle(key, cs[a], b)
		}
	}
	return nil
}

// cycle reports two clusters that must each come before the other.
func cycle(key string, a, b *cluster) error {
	ret := func(o *Op) uint64 { return o.Return }
	inv := func(o *Op) uint64 { return o.Invoke }
	return violation(Linearizability,
		"key %q: the values %q and %q must each be current before the other: %s returned before %s was invoked, and %s returned before %s was invoked",
		key, a.value, b.value, opAt(a, a.f, ret), opAt(b, b.s, inv), opAt(b, b.f, ret), opAt(a, a.s, inv))
}

// opAt describes the operation of c whose time, as when reads it, is t.
// The initial state's cluster returns at 0 (times are at least 1).
func opAt(c *cluster, t uint64, when func(*Op) uint64) string {
	if c.write == nil && t == 0 {
		return "the initial state"
	}
	if c.write != nil && when(c.write) == t {
		return c.write.String()
	}
	for _, r := range c.reads {
		if when(r) == t {
			return r.String()
		}
	}
	return fmt.Sprintf("an operation at %d", t)
}
