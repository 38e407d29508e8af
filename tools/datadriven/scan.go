package datadriven

import (
	"fmt"
	"strconv"
	"testing"
)

// HasArg reports whether the directive has an argument named key.
func (d *TestData) HasArg(key string) bool {
	_, ok := d.arg(key)
	return ok
}

// ScanArgs converts the values of the argument named key into dests, which
// must be of type *string, *int, *int64, *uint64, *bool, *[]string, *[]int
// or *[]uint64. Values are matched to dests in one of three ways:
//
//   - a single slice dest receives every value, so "voters=(1,2,3)" and
//     "learners=()" both fill a *[]uint64;
//   - otherwise there must be as many dests as values, and each dest receives
//     the value at its position (a slice dest gets a one-element slice);
//   - a bare argument, which has no values, can only set a single *bool dest
//     to true.
//
// Integers are read in base 10 and booleans as by [strconv.ParseBool]. When
// the argument is missing, a value does not parse, the counts do not match
// or a dest has an unsupported type, ScanArgs calls t.Fatalf with a message
// that starts with d.Pos.
func (d *TestData) ScanArgs(t testing.TB, key string, dests ...any) {
	t.Helper()
	arg, ok := d.arg(key)
	if !ok {
		t.Fatalf("%s: %s: missing argument %s", d.Pos, d.Cmd, key)
		return
	}
	if err := arg.scan(dests); err != nil {
		t.Fatalf("%s: %s: %v", d.Pos, d.Cmd, err)
	}
}

// MaybeScanArgs is like [TestData.ScanArgs] for an optional argument: when
// the directive has no argument named key it leaves dests untouched and
// returns false; otherwise it scans the values and returns true.
func (d *TestData) MaybeScanArgs(t testing.TB, key string, dests ...any) bool {
	t.Helper()
	if !d.HasArg(key) {
		return false
	}
	d.ScanArgs(t, key, dests...)
	return true
}

// UnreadArgs returns, in order, the keys of the key=value arguments that no
// HasArg, ScanArgs or MaybeScanArgs call asked for: a handler that checks
// it after its work turns a misspelt argument into a failure instead of a
// silent default. Bare arguments (no "=") are positional and not counted.
func (d *TestData) UnreadArgs() []string {
	var out []string
	for _, a := range d.CmdArgs {
		if a.Vals != nil && !d.read[a.Key] {
			out = append(out, a.Key)
		}
	}
	return out
}

// Fatalf fails the test through t.Fatalf with a message that starts with
// d.Pos, so the failure points at the block's directive in the transcript.
func (d *TestData) Fatalf(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Fatalf("%s: %s", d.Pos, fmt.Sprintf(format, args...))
}

// arg returns the first argument named key, and records that it was read.
func (d *TestData) arg(key string) (CmdArg, bool) {
	if d.read == nil {
		d.read = map[string]bool{}
	}
	d.read[key] = true
	for _, a := range d.CmdArgs {
		if a.Key == key {
			return a, true
		}
	}
	return CmdArg{}, false
}

// scan implements the matching rules of ScanArgs.
func (a CmdArg) scan(dests []any) error {
	switch {
	case len(dests) == 0:
		return fmt.Errorf("argument %s: nothing to scan into", a.Key)
	case a.Vals == nil:
		return a.scanBare(dests)
	case len(dests) == 1 && isSliceDest(dests[0]):
		return scanSlice(a.Key, a.Vals, dests[0])
	case len(dests) != len(a.Vals):
		return fmt.Errorf("argument %s has %d values, want %d", a, len(a.Vals), len(dests))
	}
	for i, dest := range dests {
		if err := scanValue(a.Key, a.Vals[i], dest); err != nil {
			return err
		}
	}
	return nil
}

// scanBare lets a bare argument act as a flag.
func (a CmdArg) scanBare(dests []any) error {
	p, ok := dests[0].(*bool)
	if len(dests) != 1 || !ok {
		return fmt.Errorf("argument %s has no value", a.Key)
	}
	*p = true
	return nil
}

func isSliceDest(dest any) bool {
	switch dest.(type) {
	case *[]string, *[]int, *[]uint64:
		return true
	}
	return false
}

// scanValue converts one value into dest.
func scanValue(key, v string, dest any) error {
	switch p := dest.(type) {
	case *string:
		*p = v
		return nil
	case *int:
		return scanInto(p, key, v, strconv.Atoi, "an int")
	case *int64:
		return scanInto(p, key, v, parseInt64, "an int64")
	case *uint64:
		return scanInto(p, key, v, parseUint64, "a uint64")
	case *bool:
		return scanInto(p, key, v, strconv.ParseBool, "a bool")
	case *[]string, *[]int, *[]uint64:
		return scanSlice(key, []string{v}, dest)
	default:
		return fmt.Errorf("argument %s: cannot scan into %T", key, dest)
	}
}

// scanSlice converts every value into the slice dest points to.
func scanSlice(key string, vals []string, dest any) error {
	switch p := dest.(type) {
	case *[]string:
		*p = append([]string{}, vals...)
		return nil
	case *[]int:
		return scanEach(p, key, vals, strconv.Atoi, "an int")
	case *[]uint64:
		return scanEach(p, key, vals, parseUint64, "a uint64")
	default:
		return fmt.Errorf("argument %s: cannot scan a list into %T", key, dest)
	}
}

// scanInto parses v and stores it in *p; kind names the type for the error.
func scanInto[T any](p *T, key, v string, parse func(string) (T, error), kind string) error {
	x, err := parse(v)
	if err != nil {
		return fmt.Errorf("argument %s: value %q is not %s", key, v, kind)
	}
	*p = x
	return nil
}

// scanEach parses every value and stores the slice in *p, leaving *p
// untouched when one of them does not parse.
func scanEach[T any](p *[]T, key string, vals []string, parse func(string) (T, error), kind string) error {
	out := make([]T, len(vals))
	for i, v := range vals {
		if err := scanInto(&out[i], key, v, parse, kind); err != nil {
			return err
		}
	}
	*p = out
	return nil
}

func parseInt64(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }

func parseUint64(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) }
