package datadriven_test

import (
	"strings"
	"testing"

	"github.com/tickraft/raft/tools/datadriven"
)

func TestLineDiffMarksRemovedAndAddedLines(t *testing.T) {
	got := datadriven.LineDiff("a\nb\nc\n", "a\nB\nc\nd\n")
	want := "  a\n- b\n+ B\n  c\n+ d\n"
	if got != want {
		t.Errorf("LineDiff gave:\n%s\nwant:\n%s", got, want)
	}
}

func TestLineDiffKeepsLongestCommonRunUnmarked(t *testing.T) {
	got := datadriven.LineDiff("x\n1\n2\n3\n", "1\n2\n3\ny\n")
	want := "- x\n  1\n  2\n  3\n+ y\n"
	if got != want {
		t.Errorf("LineDiff gave:\n%s\nwant:\n%s", got, want)
	}
}

func TestLineDiffFoldsUnchangedLinesFarFromChanges(t *testing.T) {
	var lines []string
	for _, c := range "abcdefghijkl" {
		lines = append(lines, string(c))
	}
	expected := strings.Join(lines, "\n") + "\n"
	actual := strings.Replace(expected, "i\n", "I\n", 1)
	got := datadriven.LineDiff(expected, actual)
	want := "  ... (5 unchanged)\n  f\n  g\n  h\n- i\n+ I\n  j\n  k\n  l\n"
	if got != want {
		t.Errorf("LineDiff gave:\n%s\nwant:\n%s", got, want)
	}
}

func TestLineDiffHandlesEmptySides(t *testing.T) {
	if got, want := datadriven.LineDiff("", "new\n"), "+ new\n"; got != want {
		t.Errorf("LineDiff from empty = %q, want %q", got, want)
	}
	if got, want := datadriven.LineDiff("old\n", ""), "- old\n"; got != want {
		t.Errorf("LineDiff to empty = %q, want %q", got, want)
	}
}

func TestMismatchReportNamesPositionAndShowsBothOutputsAndDiff(t *testing.T) {
	d := &mustParse(t, "\n# c\nsum 1 vals=(2,3)\n----\n6\nok\n")[0]
	msg, ok := datadriven.CompareOutput(d, "7\nok")
	if ok {
		t.Fatal("CompareOutput accepted a different output")
	}
	for _, part := range []string{
		`t.txt:3: output of "sum 1 vals=(2,3)" differs`,
		"expected:\n    6\n    ok\n",
		"actual:\n    7\n    ok\n",
		"diff (-expected +actual):\n- 6\n+ 7\n  ok\n",
		datadriven.RewriteEnv + "=1",
	} {
		if !strings.Contains(msg, part) {
			t.Errorf("mismatch report lacks %q:\n%s", part, msg)
		}
	}
}

func TestCompareOutputIgnoresTrailingNewlinesOnly(t *testing.T) {
	d := &mustParse(t, "a\n----\nx\n")[0]
	for actual, want := range map[string]bool{"x": true, "x\n\n\n": true, " x": false, "x ": false, "": false} {
		if _, ok := datadriven.CompareOutput(d, actual); ok != want {
			t.Errorf("CompareOutput(%q) = %v, want %v", actual, ok, want)
		}
	}
	empty := &mustParse(t, "a\n----\n")[0]
	if _, ok := datadriven.CompareOutput(empty, "\n"); !ok {
		t.Error("an empty expected output does not match a lone newline")
	}
}
