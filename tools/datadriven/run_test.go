package datadriven_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickraft/raft/tools/datadriven"
)

// exampleHarness runs the commands of testdata/example.txt. Its total is
// the state that the blocks of one file share.
type exampleHarness struct {
	total int
}

func (h *exampleHarness) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "sum":
		return h.sum(t, d)
	case "total":
		return strconv.Itoa(h.total)
	case "reset":
		h.total = 0
		return ""
	case "echo":
		repeat := 1
		d.MaybeScanArgs(t, "repeat", &repeat)
		copies := make([]string, repeat)
		for i := range copies {
			copies[i] = d.Input
		}
		return strings.Join(copies, "\n\n")
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
		return ""
	}
}

// sum adds the bare arguments and the values of vals=(...).
func (h *exampleHarness) sum(t *testing.T, d *datadriven.TestData) string {
	var words []string
	for _, a := range d.CmdArgs {
		if a.Vals == nil {
			words = append(words, a.Key)
		}
	}
	var vals []string
	d.MaybeScanArgs(t, "vals", &vals)
	n := 0
	for _, w := range append(words, vals...) {
		x, err := strconv.Atoi(w)
		if err != nil {
			return fmt.Sprintf("error: %q is not a number", w)
		}
		n += x
	}
	h.total += n
	return strconv.Itoa(n)
}

func TestExampleTranscriptPasses(t *testing.T) {
	h := &exampleHarness{}
	datadriven.RunTest(t, "testdata/example.txt", h.run)
}

func TestWalkRunsEachFileAsSubtestNamedByBaseNameInOrder(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b_second.txt", "a_first.txt", ".hidden.txt", "c_third"} {
		writeFile(t, filepath.Join(dir, name), "")
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	var subtests, paths []string
	datadriven.Walk(t, dir, func(t *testing.T, path string) {
		subtests = append(subtests, t.Name())
		paths = append(paths, filepath.Base(path))
	})
	prefix := t.Name() + "/"
	wantSubtests := []string{prefix + "a_first", prefix + "b_second", prefix + "c_third"}
	wantPaths := []string{"a_first.txt", "b_second.txt", "c_third"}
	if fmt.Sprint(subtests) != fmt.Sprint(wantSubtests) || fmt.Sprint(paths) != fmt.Sprint(wantPaths) {
		t.Errorf("Walk ran subtests %q on %q, want %q on %q", subtests, paths, wantSubtests, wantPaths)
	}
}

// staleTranscript has wrong expectations in its first and last blocks, a
// right one in between, and comments and spacing that a rewrite must keep.
const staleTranscript = `# A header comment.

# claim: one plus one.
sum 1 1
----
3


sum vals=(2,2)
----
4

# claim: echo keeps blank lines.
echo repeat=2
x
----
x

# trailing comment
`

// freshTranscript is staleTranscript with the actual outputs.
const freshTranscript = `# A header comment.

# claim: one plus one.
sum 1 1
----
2


sum vals=(2,2)
----
4

# claim: echo keeps blank lines.
echo repeat=2
x
----
----
x

x
----
----

# trailing comment
`

func TestRunTestRewritesStaleTranscriptThenPassesOnIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stale.txt")
	writeFile(t, path, staleTranscript)

	t.Setenv(datadriven.RewriteEnv, "1")
	datadriven.RunTest(t, path, (&exampleHarness{}).run)
	if got := readFile(t, path); got != freshTranscript {
		t.Fatalf("rewritten transcript:\n%s\nwant:\n%s", got, freshTranscript)
	}

	// With the switch off the rewritten file must pass as it is; a mismatch
	// here fails this test through RunTest's own t.Errorf.
	t.Setenv(datadriven.RewriteEnv, "")
	datadriven.RunTest(t, path, (&exampleHarness{}).run)
	if got := readFile(t, path); got != freshTranscript {
		t.Errorf("checking changed the transcript:\n%s", got)
	}
}

func TestRunTestLeavesUpToDateTranscriptUntouchedWhenRewriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fresh.txt")
	writeFile(t, path, freshTranscript)
	// An old, fixed modification time shows whether the file was written.
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	t.Setenv(datadriven.RewriteEnv, "1")
	datadriven.RunTest(t, path, (&exampleHarness{}).run)
	if got := readFile(t, path); got != freshTranscript {
		t.Errorf("rewriting an up-to-date transcript changed it:\n%s", got)
	}
	if info, err := os.Stat(path); err != nil || !info.ModTime().Equal(old) {
		t.Errorf("rewriting an up-to-date transcript wrote the file")
	}
}

func TestRunTestKeepsTranscriptWithoutBlocksWhenRewriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	const notes = "# Nothing here yet.\n"
	writeFile(t, path, notes)
	t.Setenv(datadriven.RewriteEnv, "1")
	datadriven.RunTest(t, path, (&exampleHarness{}).run)
	if got := readFile(t, path); got != notes {
		t.Errorf("rewriting a transcript without blocks left %q, want %q", got, notes)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
