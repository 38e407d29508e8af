package datadriven_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tickraft/raft/tools/datadriven"
)

// fakeTB records Fatalf calls instead of failing, so that tests can check
// the failure paths of ScanArgs. The embedded testing.TB is nil: any other
// method call panics, which shows a path that was not expected to run.
type fakeTB struct {
	testing.TB
	fatals []string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
}

// directive parses a one-block transcript made of the given directive.
func directive(t *testing.T, line string) *datadriven.TestData {
	t.Helper()
	return &mustParse(t, line+"\n----\n")[0]
}

func TestScanArgsFillsEveryDestinationType(t *testing.T) {
	d := directive(t, "cmd s=hello i=-7 i64=-9000000000 u=18446744073709551615 b=true ss=(a,b) us=(1,2) is=(3,-4) flag")
	var (
		s   string
		i   int
		i64 int64
		u   uint64
		b   bool
		ss  []string
		us  []uint64
		is  []int
		f   bool
	)
	tb := &fakeTB{}
	d.ScanArgs(tb, "s", &s)
	d.ScanArgs(tb, "i", &i)
	d.ScanArgs(tb, "i64", &i64)
	d.ScanArgs(tb, "u", &u)
	d.ScanArgs(tb, "b", &b)
	d.ScanArgs(tb, "ss", &ss)
	d.ScanArgs(tb, "us", &us)
	d.ScanArgs(tb, "is", &is)
	d.ScanArgs(tb, "flag", &f)
	got := []any{s, i, i64, u, b, ss, us, is, f}
	want := []any{"hello", -7, int64(-9000000000), uint64(18446744073709551615), true,
		[]string{"a", "b"}, []uint64{1, 2}, []int{3, -4}, true}
	if len(tb.fatals) > 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("scanned %v with failures %q, want %v and none", got, tb.fatals, want)
	}
}

func TestScanArgsSpreadsSeveralValuesOverSeveralDestinations(t *testing.T) {
	d := directive(t, "transfer-leadership pair=(1,3,true)")
	var from, to uint64
	var ok bool
	tb := &fakeTB{}
	d.ScanArgs(tb, "pair", &from, &to, &ok)
	if len(tb.fatals) > 0 || from != 1 || to != 3 || !ok {
		t.Errorf("scanned from=%d to=%d ok=%v with failures %q", from, to, ok, tb.fatals)
	}
}

func TestScanArgsFillsSlicesFromEmptyAndSingleValueLists(t *testing.T) {
	d := directive(t, "add learners=() voters=5")
	learners := []uint64{9}
	var voters []int
	tb := &fakeTB{}
	d.ScanArgs(tb, "learners", &learners)
	d.ScanArgs(tb, "voters", &voters)
	if len(tb.fatals) > 0 || learners == nil || len(learners) != 0 || !reflect.DeepEqual(voters, []int{5}) {
		t.Errorf("learners=%#v voters=%#v failures %q, want empty, [5], none", learners, voters, tb.fatals)
	}
}

func TestScanArgsFailsWithPositionWhenArgumentIsUnusable(t *testing.T) {
	d := directive(t, "cmd n=x u=-1 b=maybe pair=(1,2) flag list=(1,x) bad=1")
	var (
		n  int
		u  uint64
		b  bool
		us []uint64
		c  complex128
	)
	for _, tc := range []struct {
		key   string
		dests []any
		want  string
	}{
		{"missing", []any{&n}, "missing argument missing"},
		{"n", []any{&n}, `value "x" is not an int`},
		{"u", []any{&u}, `value "-1" is not a uint64`},
		{"b", []any{&b}, `value "maybe" is not a bool`},
		{"pair", []any{&n}, "has 2 values, want 1"},
		{"pair", []any{&n, &n, &n}, "has 2 values, want 3"},
		{"flag", []any{&n}, "argument flag has no value"},
		{"list", []any{&us}, `value "x" is not a uint64`},
		{"bad", []any{&c}, "cannot scan into *complex128"},
		{"bad", nil, "nothing to scan into"},
	} {
		tb := &fakeTB{}
		d.ScanArgs(tb, tc.key, tc.dests...)
		if len(tb.fatals) != 1 || !strings.HasPrefix(tb.fatals[0], "t.txt:1: cmd: ") || !strings.Contains(tb.fatals[0], tc.want) {
			t.Errorf("ScanArgs(%q) failures %q, want one at t.txt:1 containing %q", tc.key, tb.fatals, tc.want)
		}
	}
	if us != nil {
		t.Errorf("a failed list scan changed its destination to %v", us)
	}
}

func TestMaybeScanArgsReportsMissingArgumentWithoutFailing(t *testing.T) {
	d := directive(t, "cmd present=4")
	n, m := 1, 1
	tb := &fakeTB{}
	if d.MaybeScanArgs(tb, "absent", &n) || n != 1 {
		t.Errorf("MaybeScanArgs on an absent key returned true or changed n to %d", n)
	}
	if !d.MaybeScanArgs(tb, "present", &m) || m != 4 {
		t.Errorf("MaybeScanArgs on a present key returned false or left m at %d", m)
	}
	if len(tb.fatals) > 0 {
		t.Errorf("MaybeScanArgs failed the test: %q", tb.fatals)
	}
	if d.MaybeScanArgs(tb, "present", new(bool)); len(tb.fatals) != 1 {
		t.Errorf("MaybeScanArgs of an unparsable present key gave failures %q, want one", tb.fatals)
	}
}

func TestHasArgReportsWhetherKeyIsPresent(t *testing.T) {
	d := directive(t, "cmd bare k=v l=()")
	for key, want := range map[string]bool{"bare": true, "k": true, "l": true, "v": false, "cmd": false} {
		if got := d.HasArg(key); got != want {
			t.Errorf("HasArg(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestFatalfPrefixesDirectivePosition(t *testing.T) {
	d := &mustParse(t, "# comment\n\nstatus\n----\n")[0]
	tb := &fakeTB{}
	d.Fatalf(tb, "node %d is %s", 3, "gone")
	if want := []string{"t.txt:3: node 3 is gone"}; !reflect.DeepEqual(tb.fatals, want) {
		t.Errorf("Fatalf recorded %q, want %q", tb.fatals, want)
	}
}

func TestUnreadArgsNamesKeyValueArgumentsNoHandlerAskedFor(t *testing.T) {
	blocks, err := datadriven.Parse("t", strings.NewReader("cmd 1 voters=(1,2) pre-vote=false seed=3\n----\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := &blocks[0]
	var voters []uint64
	var seed int
	d.ScanArgs(t, "voters", &voters)
	d.MaybeScanArgs(t, "seed", &seed)
	d.HasArg("absent")
	if got := d.UnreadArgs(); len(got) != 1 || got[0] != "pre-vote" {
		t.Fatalf("UnreadArgs = %v, want [pre-vote]", got)
	}
}
